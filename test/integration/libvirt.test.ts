// Issue 16's round trip against a real libvirtd (started by the test; domain type qemu, since KVM
// is unusable here): export the test guest, check the XML with libvirt's own validator, define it,
// then import the dumped XML back and compare it with the VM it came from. The guest boots under
// libvirtd, with snapshot and revert there, in hosts-cli.test.ts (publish).
import { chmodSync, copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/main/engine/engine';
import type { VmConfig } from '../../src/shared/vm';
import { defineVm, exportNvram, type DefineResult } from '../../src/main/engine/libvirt/define';
import { importDomain } from '../../src/main/engine/libvirt/import';
import { createFromPlan } from '../../src/main/engine/libvirt/create';
import { exportLibvirt, importLibvirt } from '../../src/main/engine/libvirt/operations';
import { validateDomainXml } from '../../src/main/engine/libvirt/virsh';
import { attr, list, one, parseUntrustedXml } from '../../src/main/engine/libvirt/xml';
import { closeEngine, openEngine, tempHome } from '../support/env';
import { guest } from '../support/guest';
import { makeGuestVm } from '../support/vms';
import { libvirtSkipReason, startLibvirtd, type RunningLibvirtd } from '../support/libvirtd';

const skip = libvirtSkipReason();
if (skip) console.warn(`libvirt round trip skipped: ${skip}`);

describe.skipIf(skip !== null)('libvirt round trip', () => {
  const t = tempHome('hangar-lv-');
  let engine: Engine;
  let lv: RunningLibvirtd;
  let vm: VmConfig;
  let defined: DefineResult | null = null;
  beforeAll(async () => {
    // QEMU runs as libvirt-qemu under qemu:///system: the test's folders must let it in.
    chmodSync(join(t.files, '..'), 0o755);
    chmodSync(t.files, 0o755);
    const g = guest();
    // Copies, so libvirt's relabelling (it chowns what the domain opens) never touches the cache.
    const files = {
      iso: join(t.files, 'guest.iso'),
      kernel: join(t.files, 'vmlinuz'),
      initrd: join(t.files, 'initrd.img'),
    };
    copyFileSync(g.iso, files.iso);
    copyFileSync(g.kernel, files.kernel);
    copyFileSync(g.initrd, files.initrd);
    engine = await openEngine(t);
    const disk = join(t.files, 'disk.qcow2');
    await engine.img.create(disk, { format: 'qcow2', sizeBytes: 64 << 20 });
    vm = await makeGuestVm(engine, 'libvirt round trip', {
      iso: files.iso,
      directBoot: { kernel: files.kernel, initrd: files.initrd, cmdline: g.manifest.directCmdline },
      disk: { kind: 'existing', path: disk, format: 'qcow2' },
      network: {
        portForwards: [{ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 18080, guestPort: 80 }],
      },
    });
    lv = await startLibvirtd();
  });

  afterAll(async () => {
    if (defined && lv) {
      await lv.virsh.destroy(defined.name).catch(() => undefined);
      await lv.virsh.undefine(defined.name).catch(() => undefined);
    }
    await lv?.stop();
    if (engine) await closeEngine(engine, t);
    else t.cleanup();
  });

  it('exports XML that libvirt validates and defines', async () => {
    // Booting there is the publish test's (test/integration/hosts-cli.test.ts): one guest boot
    // under libvirtd per run is enough for CI's budget.
    defined = await defineVm(lv.virsh, vm, {
      vmDir: engine.paths(vm.id).vmDir,
      domainType: 'qemu',
      name: `hangar-it-${vm.id}`,
    });
    await validateDomainXml(defined.xml);
    if (defined.userNet === 'slirp')
      expect(defined.dropped).toContainEqual(
        expect.stringContaining('port forward tcp 127.0.0.1:18080 -> guest 80'),
      );
    expect(await lv.virsh.domstate(defined.name)).toBe('shut off');
    expect(await lv.virsh.list()).toContain(defined.name);
  });

  it('imports the dumped XML back into the same disks, memory, CPUs and NICs', async () => {
    const xml = await lv.virsh.dumpxml(defined!.name);
    const plan = importDomain(xml, { policy: engine.policy });
    const back = plan.config;
    expect(back.memoryMiB).toBe(vm.memoryMiB);
    expect(back.cpus).toBe(vm.cpus);
    expect(back.firmware).toBe(vm.firmware);
    expect(back.name).toBe(vm.name);
    expect(back.disks).toEqual(vm.disks);
    expect(back.cdroms).toEqual(vm.cdroms);
    expect(back.directBoot).toEqual(vm.directBoot);
    expect(back.bootOrder).toEqual(vm.bootOrder);
    const forwards = defined!.userNet === 'passt' ? vm.nics[0]!.portForwards : [];
    expect(back.nics).toEqual(vm.nics.map((n) => ({ ...n, portForwards: forwards })));
    expect(plan.copies).toEqual([]);
  });

  it('creates the imported VM in Hangar, in place or with its disk copied', async () => {
    const xml = await lv.virsh.dumpxml(defined!.name);
    expect(await lv.virsh.domstate(defined!.name)).toBe('shut off');
    const ctx = { store: engine.store, host: engine.host, img: engine.img, policy: engine.policy };
    const inPlace = await createFromPlan(importDomain(xml, { policy: engine.policy }), ctx);
    expect(engine.store.load(inPlace.id).disks).toEqual(vm.disks);
    const copied = await createFromPlan(importDomain(xml, { policy: engine.policy, copyDisks: true }), ctx);
    const disk = engine.store.load(copied.id).disks[0]!;
    expect(disk).toMatchObject({ owned: true, file: 'disk0.qcow2', format: 'qcow2' });
    const original = vm.disks[0]!;
    if (original.owned) throw new Error('the test VM uses its disk in place');
    // The same through the operations the API and CLI call: from the libvirt host, and from a file.
    const fromHost = await importLibvirt(
      engine,
      { uri: lv.uri, domain: defined!.name },
      { name: 'from host' },
    );
    expect(fromHost.vm).toMatchObject({
      name: 'from host',
      memoryMiB: vm.memoryMiB,
      cpus: vm.cpus,
      disks: vm.disks,
    });
    const file = join(t.files, 'exported.xml');
    writeFileSync(file, (await exportLibvirt(engine, vm.id, { domainType: 'qemu' })).xml);
    const fromFile = await importLibvirt(engine, { file });
    expect(fromFile.vm.nics.map((n) => n.portForwards)).toEqual(vm.nics.map((n) => n.portForwards));
    const same = await engine.img.compare(
      { path: original.path, format: 'qcow2' },
      { path: join(engine.paths(copied.id).vmDir, 'disk0.qcow2'), format: 'qcow2' },
    );
    expect(same).toBe(true);
  });

  it('refuses an import whose XML and image header disagree about the backing chain', async () => {
    const base = join(t.files, 'base.qcow2');
    const top = join(t.files, 'top.qcow2');
    await engine.img.create(base, { format: 'qcow2', sizeBytes: 1 << 20 });
    await engine.img.create(top, { format: 'qcow2', sizeBytes: 0, backing: { path: base, format: 'qcow2' } });
    const ctx = { store: engine.store, host: engine.host, img: engine.img, policy: engine.policy };
    const xml = (chain: string) =>
      `<domain type='qemu'><name>chain</name><memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type>hvm</type></os>` +
      `<devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${top}'/>` +
      `<target dev='vda' bus='virtio'/>${chain}</disk></devices></domain>`;
    // The XML names no backing file, the header does: neither is trusted.
    await expect(createFromPlan(importDomain(xml(''), { policy: engine.policy }), ctx)).rejects.toThrow(
      /header names/,
    );
    // They agree, but nobody confirmed the chain.
    const named = `<backingStore type='file'><format type='qcow2'/><source file='${base}'/><backingStore/></backingStore>`;
    const plan = importDomain(xml(named), { policy: engine.policy });
    await expect(createFromPlan(plan, ctx)).rejects.toThrow(/confirm this chain/);
    const made = await createFromPlan(plan, ctx, { [top]: [base] });
    expect(made.disks[0]).toMatchObject({ backingChain: [{ path: base, format: 'qcow2' }] });
  });

  it('starts a secure-boot UEFI VM with a TPM and its carried UEFI variables', async () => {
    const uefi = await makeGuestVm(engine, 'libvirt uefi', {
      firmware: 'uefi-secure',
      tpm: true,
      iso: null,
      directBoot: null,
      disk: { kind: 'none' },
      network: null,
    });
    const nvram = join(t.files, 'uefi_VARS.fd');
    await exportNvram(engine.img, engine.paths(uefi.id).vmDir, nvram);
    const name = `hangar-it-${uefi.id}`;
    try {
      const result = await defineVm(lv.virsh, uefi, {
        vmDir: engine.paths(uefi.id).vmDir,
        domainType: 'qemu',
        name,
        nvram: { path: nvram, carried: true },
      });
      expect(result.dropped).toEqual([]);
      await lv.virsh.start(name);
      expect(await lv.virsh.domstate(name)).toBe('running');
      // libvirt chose a secure-boot firmware from the descriptors and kept our NVRAM file.
      const os = one(one(parseUntrustedXml(await lv.virsh.dumpxml(name)), 'domain'), 'os');
      expect(attr(one(os, 'loader'), 'secure')).toBe('yes');
      expect(list(os?.nvram).map((n) => n['#text'])).toEqual([nvram]);
    } finally {
      await lv.virsh.destroy(name).catch(() => undefined);
      await lv.virsh.undefine(name).catch(() => undefined);
    }
  });
});
