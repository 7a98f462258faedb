// A real guest: the Debian cloud image built from packages, made into a VM through the engine
// with a cloud-init seed, and driven through its guest agent, its forwarded sshd and the CLI.
// It boots once (about a minute under TCG) and is reused for every check.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VmConfig } from '../../src/shared/vm';
import type { VmSummary } from '../../src/shared/api-types';
import type { Engine } from '../../src/main/engine/engine';
import { createDispatcher, type Dispatcher } from '../../src/main/api/dispatch';
import { createSnapshot } from '../../src/main/engine/snapshots';
import { revertSnapshot } from '../../src/main/engine/snapshot-revert';
import { closeEngine, openEngine, tempHome } from '../support/env';
import { debianImage } from '../support/debian';
import { bin, requireBuild } from '../support/cli';
import { promptOf } from '../support/vms';
import { labUp } from '../../src/main/engine/labs/up';
import { labDestroy, labReset, labStatus } from '../../src/main/engine/labs/lifecycle';
import { labPaths } from '../../src/main/engine/config/paths';
import { switchPid } from '../../src/main/engine/network/switch/process';
import type { SerialConsole } from '../../src/main/engine/consoles/serial';
import type { LabEvent } from '../../src/shared/lab/status';
import type { ImageMeta } from '../../src/shared/images';
import { mountHelp } from '../../src/shared/share';
import { qcow2Backing } from '../../src/main/engine/storage/qcow2-header';
import { serveFiles, type FileServer } from '../support/file-server';
import { libvirtSkipReason, startLibvirtd } from '../support/libvirtd';
import type { PublishResult, RemoteAddress } from '../../src/shared/hosts';

const t = tempHome('hangar-real-');
let engine: Engine;
let api: Dispatcher;
let image: string;
let server: FileServer;
let vm: VmConfig;
const key = join(t.files, 'id_test');

const READY = 6 * 60; // seconds: a first boot under TCG with cloud-init is 50-90 s on a quiet machine

beforeAll(async () => {
  requireBuild();
  image = debianImage();
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'test', '-f', key]);
  // The image is published as a vendor publishes theirs (the file and its SHA256SUMS), by a local
  // server standing in for the internet, and named in the user's catalog.
  server = await serveFiles({
    '/debian/disk.qcow2': image,
    '/debian/SHA256SUMS': join(dirname(image), 'SHA256SUMS'),
  });
  writeFileSync(
    join(t.home, 'catalog.json'),
    JSON.stringify([
      {
        id: 'debian-test',
        name: "The project's Debian 12 cloud image",
        kind: 'cloud',
        format: 'qcow2',
        url: `${server.url}/debian/disk.qcow2`,
        checksums: { url: `${server.url}/debian/SHA256SUMS` },
        defaultUser: 'debian',
        serialConsole: true,
      },
    ]),
  );
  engine = await openEngine(t);
  api = createDispatcher(engine);
}, 30 * 60_000);
afterAll(async () => {
  await server?.close();
  if (engine) await closeEngine(engine, t);
}, 120_000);

async function exec(command: string, ...args: string[]) {
  const r = (await api.call('vm.exec', { vm: vm.id, command, args })) as {
    exitCode: number;
    stdout: string;
    stderr: string;
  };
  return {
    ...r,
    out: Buffer.from(r.stdout, 'base64').toString(),
    err: Buffer.from(r.stderr, 'base64').toString(),
  };
}

/** Runs the hangar CLI as a user would, with no engine in this process holding the home. */
function cli(...args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { env: { ...t.env, NO_COLOR: '1' }, encoding: 'utf8' });
}

describe('a Debian cloud image as a VM', () => {
  it('is pulled from the catalog (verified), then made a VM with a cloud-init seed, an SSH forward and its own instance', async () => {
    const pulled = (await api.call('image.pull', { id: 'debian-test' })) as ImageMeta;
    expect(pulled.source.verified).toMatchObject({ algorithm: 'sha256', digest: pulled.id });
    const pub = readFileSync(`${key}.pub`, 'utf8').trim();
    vm = (await api.call('vm.create', {
      name: 'Debian guest ✓',
      cpus: 2,
      memoryMiB: 1024,
      firmware: 'bios',
      image: 'debian-test',
      diskSize: '3G',
      cloudInit: { user: 'tester', sshKeys: [pub] },
    })) as VmConfig;
    expect(vm.cloudInit).toMatchObject({ hostname: 'debian-guest', user: 'tester' });
    expect(vm.cloudInit!.sshKeys).toContain(pub);
    expect(vm.disks.map((d) => [d.id, d.owned, d.readOnly])).toEqual([
      ['disk0', true, false],
      ['seed', true, true],
    ]);
    expect(vm.nics[0]!.portForwards).toContainEqual(
      expect.objectContaining({ guestPort: 22, hostPort: vm.cloudInit!.sshPort }),
    );
    // The downloaded image is never written: the VM has its own overlay on the library's copy.
    expect(vm.disks[0]).toMatchObject({ owned: true, file: 'disk0.qcow2' });
    expect(qcow2Backing(join(engine.paths(vm.id).vmDir, 'disk0.qcow2'))).toBe(
      join(t.home, 'images', pulled.id, 'image.qcow2'),
    );
  });

  it(
    'boots, runs cloud-init and becomes ready with an address',
    async () => {
      // What the app's cards show: the readiness watch's events, through the API's fan-out.
      const seen: { stage: string; ip: string | null }[] = [];
      const unsubscribe = api.subscribe((event, data) => {
        const e = data as { id: string; readiness: { stage: string; ip: string | null } | null };
        if (event === 'readiness' && e.id === vm.id && e.readiness) seen.push(e.readiness);
      });
      await engine.start(vm.id);
      const r = (await api.call('vm.wait', { vm: vm.id, for: ['ready'], timeoutSec: READY })) as {
        checks: { check: string; detail: string }[];
      };
      expect(r.checks.map((c) => c.check)).toEqual(['agent', 'cloud-init', 'ip']);
      const a = (await api.call('vm.address', { vm: vm.id })) as { ipv4: string; ssh: { port: number } };
      expect(a.ipv4).toMatch(/^10\.0\.2\.\d+$/);
      expect(a.ssh.port).toBe(vm.cloudInit!.sshPort);
      // The card went booting -> (cloud-init) -> ready, and ended ready with the same address.
      await expect.poll(() => seen.at(-1)?.stage, { timeout: 30_000 }).toBe('ready');
      unsubscribe();
      expect(seen[0]!.stage).toBe('booting');
      expect(seen.at(-1)!.ip).toBe(a.ipv4);
      const stages = seen.map((x) => x.stage);
      expect(stages.indexOf('booting')).toBeLessThan(stages.lastIndexOf('ready'));
      expect(stages).not.toContain('failed');
      const card = ((await api.call('vm.list', {})) as VmSummary[]).find((v) => v.id === vm.id)!;
      expect(card.readiness).toMatchObject({ stage: 'ready', ip: a.ipv4, cloudInit: 'done' });
      expect(card.readiness!.ssh).toMatchObject({ port: vm.cloudInit!.sshPort, user: 'tester' });
    },
    (READY + 60) * 1000,
  );

  it('has the hostname and the key cloud-init was told, and the disk grown', async () => {
    expect((await exec('hostname')).out.trim()).toBe('debian-guest');
    const keys = await exec('cat', '/home/tester/.ssh/authorized_keys');
    expect(keys.out).toContain(readFileSync(`${key}.pub`, 'utf8').trim());
    const size = await exec('lsblk', '-bndo', 'SIZE', '/dev/vda');
    expect(Number(size.out.trim())).toBe(3 * 2 ** 30);
  });

  it('runs commands through the agent with their exit codes and output', async () => {
    const ok = await exec('sh', '-c', 'echo out; echo err >&2; exit 3');
    expect(ok).toMatchObject({ exitCode: 3, out: 'out\n', err: 'err\n' });
    const env = (await api.call('vm.exec', {
      vm: vm.id,
      command: 'sh',
      args: ['-c', 'echo "$GREETING"; cat'],
      env: ['GREETING=hello there'],
      stdin: Buffer.from('from stdin').toString('base64'),
    })) as { stdout: string };
    expect(Buffer.from(env.stdout, 'base64').toString()).toBe('hello there\nfrom stdin');
  });

  it('copies a 10 MiB file in and out byte for byte', async () => {
    const data = randomBytes(10 * 2 ** 20);
    const src = join(t.files, 'ten.bin');
    writeFileSync(src, data);
    const sha = createHash('sha256').update(data).digest('hex');
    expect(
      await api.call('vm.copyIn', { vm: vm.id, hostPath: src, guestPath: '/tmp/ten.bin' }),
    ).toMatchObject({
      bytes: data.length,
      sha256: sha,
      verified: true,
    });
    const back = join(t.files, 'back.bin');
    await api.call('vm.copyOut', { vm: vm.id, guestPath: '/tmp/ten.bin', hostPath: back });
    expect(readFileSync(back).equals(data)).toBe(true);
  });

  it('freezes the guest for a disk-only snapshot (application-consistent), and reverts a RAM snapshot', async () => {
    const disk = await createSnapshot(engine, vm.id, 'disks, frozen', '', { ram: false });
    expect(disk.consistency).toBe('frozen');
    await exec('sh', '-c', 'echo before > /root/mark; sync');
    const ram = await createSnapshot(engine, vm.id, 'with ram');
    await exec('sh', '-c', 'echo after > /root/mark; sync');
    await revertSnapshot(engine, vm.id, ram.id);
    // The restored guest's agent answers within moments; a script waits for it the same way.
    await api.call('vm.wait', { vm: vm.id, for: ['agent'], timeoutSec: 60 });
    expect((await exec('cat', '/root/mark')).out).toBe('before\n');
  });

  it('is reached by the CLI: ip, exec with its exit code, ssh through the forward', async () => {
    await engine.close(); // the VM keeps running; the CLI runs its own engine
    try {
      const ip = cli('ip', vm.id);
      expect(ip.status).toBe(0);
      expect(ip.stdout).toMatch(/^10\.0\.2\.\d+/);
      const info = cli('info', vm.id);
      expect(info.status).toBe(0);
      expect(info.stdout).toMatch(/^Address +10\.0\.2\.\d+ \(ssh -p \d+ tester@127\.0\.0\.1\)$/m);
      const ex = cli('exec', vm.id, '--', 'sh', '-c', 'echo hi; exit 5');
      expect(ex.status).toBe(5);
      expect(ex.stdout).toBe('hi\n');
      const ssh = cli('ssh', vm.id, '--', 'uname', '-a');
      expect(ssh.stderr).toMatch(/running ssh .*-p \d+ .*tester@127\.0\.0\.1/);
      expect(ssh.status).toBe(0);
      expect(ssh.stdout).toMatch(/^Linux debian-guest .*x86_64/);
    } finally {
      engine = await openEngine(t);
      api = createDispatcher(engine);
    }
  }, 120_000);

  it(
    'runs cloud-init again only when asked (start --reseed), with a new instance-id',
    async () => {
      const instance = async () => (await exec('cat', '/var/lib/cloud/data/instance-id')).out.trim();
      const before = vm.cloudInit!.instanceId;
      expect(await instance()).toBe(before);
      await expect(api.call('vm.reseed', { vm: vm.id })).rejects.toMatchObject({ code: 'CONFLICT' });
      await engine.stop(vm.id, { force: true });
      const renewed = (await api.call('vm.reseed', { vm: vm.id })) as VmConfig;
      expect(renewed.cloudInit!.instanceId).not.toBe(before);
      expect(renewed.cloudInit!.hostname).toBe(vm.cloudInit!.hostname);
      // This boot also shares a folder (issue 17), so the real guest mounts it without a boot of its own.
      const shared = join(t.files, 'shared, with Debian');
      mkdirSync(shared);
      writeFileSync(join(shared, 'from-host.txt'), 'written on the host\n');
      await api.call('vm.edit', { vm: vm.id, patch: { sharedFolder: shared } });
      await engine.start(vm.id);
      await api.call('vm.wait', { vm: vm.id, for: ['ready'], timeoutSec: READY });
      expect(await instance()).toBe(renewed.cloudInit!.instanceId);
      // The command Hangar shows, as the agent's root (no sudo); the kernel's cifs, no cifs-utils.
      const mount = await exec('sh', '-c', mountHelp().linux.replaceAll('sudo ', ''));
      expect(mount.exitCode, mount.err).toBe(0);
      expect((await exec('cat', '/mnt/host/from-host.txt')).out).toBe('written on the host\n');
      const wrote = await exec(
        'sh',
        '-c',
        'echo written by Debian > /mnt/host/from-guest.txt && umount /mnt/host',
      );
      expect(wrote.exitCode, wrote.err).toBe(0);
      expect(readFileSync(join(shared, 'from-guest.txt'), 'utf8')).toBe('written by Debian\n');
      vm = renewed; // still running, for the next test
      const plain = (await api.call('vm.create', {
        name: 'no seed',
        disk: { kind: 'new', size: '64M' },
      })) as VmConfig;
      await expect(api.call('vm.reseed', { vm: plain.id })).rejects.toMatchObject({
        code: 'INVALID_INPUT',
        message: expect.stringMatching(/no cloud-init seed/),
      });
    },
    (READY + 120) * 1000,
  );

  it('is shut down through the agent when it ignores the power button', async () => {
    const off = await exec(
      'sh',
      '-c',
      'mkdir -p /etc/systemd/logind.conf.d && printf "[Login]\\nHandlePowerKey=ignore\\n" > ' +
        '/etc/systemd/logind.conf.d/ignore.conf && systemctl restart systemd-logind',
    );
    expect(off.exitCode).toBe(0);
    await engine.stop(vm.id, { timeoutMs: 120_000 });
    expect(engine.runtime(vm.id).last).toMatchObject({ state: 'stopped', reason: 'shut down' });
  }, 180_000);

  it.skipIf(libvirtSkipReason() !== null)(
    'is published to a libvirt host, boots there, and its agent there gives its address',
    async () => {
      const lv = await startLibvirtd();
      // QEMU runs as libvirt-qemu under qemu:///system: the pool's folders must let it in.
      chmodSync(join(t.files, '..'), 0o755);
      chmodSync(t.files, 0o755);
      const poolDir = join(t.files, 'pool');
      mkdirSync(poolDir, { mode: 0o755 });
      const pool = 'hangar-real-pool';
      let domain: string | null = null;
      try {
        await lv.virsh.run(['pool-define-as', pool, 'dir', '--target', poolDir]);
        await lv.virsh.run(['pool-start', pool]);
        await api.call('remote.addHost', { name: 'here', uri: lv.uri });
        const r = (await api.call('vm.publish', {
          vm: vm.id,
          host: 'here',
          pool,
          domainType: 'qemu',
          start: true,
        })) as PublishResult;
        domain = r.domain;
        expect(r).toMatchObject({ started: true, pointInTime: null });
        // virsh domifaddr --source agent, polled as the Hosts view does when asked again.
        let address: RemoteAddress = { domain, ipv4: null, ipv6: null };
        const end = Date.now() + READY * 1000;
        while (!address.ipv4 && Date.now() < end) {
          await new Promise((res) => setTimeout(res, 5000));
          address = (await api.call('remote.address', { host: 'here', domain })) as RemoteAddress;
        }
        expect(address.ipv4).toMatch(/^(?!127\.)\d+\.\d+\.\d+\.\d+$/);
      } finally {
        if (domain) {
          await lv.virsh.destroy(domain).catch(() => undefined);
          await lv.virsh.undefine(domain).catch(() => undefined);
        }
        await lv.virsh.run(['pool-destroy', pool]).catch(() => undefined);
        await lv.virsh.run(['pool-undefine', pool]).catch(() => undefined);
        await api.call('remote.removeHost', { host: 'here' }).catch(() => undefined);
        await lv.stop();
      }
    },
    (READY + 180) * 1000,
  );
});

// Two more boots of the image (about 5 minutes under TCG): opt-in, to keep CI within its time.
describe.runIf(process.env.HANGAR_SLOW_TESTS === '1')('readiness across a reboot', () => {
  it(
    'survives a reboot inside cloud-init',
    async () => {
      const rebooting = (await api.call('vm.create', {
        name: 'reboots once',
        cpus: 2,
        memoryMiB: 1024,
        firmware: 'bios',
        disk: { kind: 'existing', path: image },
        cloudInit: {
          userData: [
            '#cloud-config',
            'runcmd:',
            "  - [sh, -c, 'test -f /var/lib/rebooted || { date +%s > /var/lib/rebooted; reboot; }']",
          ].join('\n'),
        },
      })) as VmConfig;
      await engine.start(rebooting.id);
      await api.call('vm.wait', { vm: rebooting.id, for: ['ready'], timeoutSec: READY * 2 });
      const run = async (command: string) => {
        const r = (await api.call('vm.exec', { vm: rebooting.id, command: 'cat', args: [command] })) as {
          stdout: string;
        };
        return Buffer.from(r.stdout, 'base64').toString();
      };
      // The wait ended in the second boot: it began after the reboot was asked for.
      const marker = Number((await run('/var/lib/rebooted')).trim());
      const btime = Number(/btime (\d+)/.exec(await run('/proc/stat'))![1]);
      expect(btime).toBeGreaterThanOrEqual(marker);
      await engine.stop(rebooting.id, { force: true });
    },
    (READY * 2 + 60) * 1000,
  );
});

describe('the Debian lab example (examples/debian-lab): Debian and the tiny guest on a segment', () => {
  const file = join(__dirname, '..', '..', 'examples', 'debian-lab', 'hangar.lab.yaml');
  const events: LabEvent[] = [];
  const run = async (name: string, script: string) => {
    const r = (await api.call('vm.exec', { vm: name, command: '/bin/bash', args: ['-c', script] })) as {
      exitCode: number;
      stdout: string;
    };
    return { code: r.exitCode, out: Buffer.from(r.stdout, 'base64').toString() };
  };
  let tiny: SerialConsole;
  afterAll(async () => {
    tiny?.close();
    const pid = switchPid(labPaths(t.home, 'mixed', t.env));
    if (pid) process.kill(pid, 'SIGKILL');
  });

  it(
    'comes up from the file: cloud-init on both NICs, provisioned over ssh, the baseline taken',
    async () => {
      await labUp(
        engine,
        { text: readFileSync(file, 'utf8'), sourceFile: file },
        { onEvent: (e) => events.push(e), readyTimeoutMs: READY * 1000 },
      );
      const s = await labStatus(engine, 'mixed');
      expect(s.vms.map((v) => [v.vmName, v.state])).toEqual([
        ['mixed-debian', 'running'],
        ['mixed-tiny', 'running'],
      ]);
      expect(s.baseline).not.toBeNull();
      expect(events.some((e) => e.vm === 'debian' && e.phase === 'provisioned')).toBe(true);
      const deb = engine.resolve('mixed-debian');
      const user = deb.cloudInit!.user;
      // The step ran over ssh (as the cloud image's user, in its home), not through the agent (root).
      expect((await run('mixed-debian', `cat /home/${user}/provisioned`)).out).toContain(
        `provisioned over ssh as ${user}`,
      );
      // The lab NIC has the fixed address; the default route stays on the user-mode NIC.
      const lanMac = deb.nics.find((n) => n.mode === 'lab')!.mac;
      const addrs = await run('mixed-debian', 'ip -o -4 addr show; ip route show default');
      expect(addrs.out).toContain('10.80.0.10/24');
      expect(addrs.out).not.toMatch(/default via 10\.80\./);
      expect((await run('mixed-debian', `ip -o link | grep -c ${lanMac}`)).out.trim()).toBe('1');

      tiny = await promptOf(engine, 'mixed-tiny');
      // By name from the tiny guest (the lab's DNS); from Debian (no ping in the image), TCP to
      // the tiny guest's web server by its address.
      expect((await tiny.run('ping -c 2 -W 3 debian.mixed.internal')).status).toBe(0);
      const tinyIp = s.vms[1]!.addresses[0]!.ip;
      const web = await run(
        'mixed-debian',
        `exec 3<>/dev/tcp/${tinyIp}/80 && printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3 && timeout 10 cat <&3`,
      );
      expect(web.out).toMatch(/^HTTP\/1\.[01] 200/);
    },
    (READY + 180) * 1000,
  );

  it('resets both to the baseline without a reboot, and is destroyed', async () => {
    const deb = engine.resolve('mixed-debian');
    const boot = (await run('mixed-debian', 'cat /proc/sys/kernel/random/boot_id')).out;
    await run('mixed-debian', 'echo changed > /tmp/marker');
    await labReset(engine, 'mixed');
    expect((await run('mixed-debian', 'cat /proc/sys/kernel/random/boot_id')).out).toBe(boot);
    expect((await run('mixed-debian', 'test -e /tmp/marker')).code).not.toBe(0);
    expect((await tiny.run('ping -c 2 -W 3 debian.mixed.internal')).status).toBe(0);
    const { deleted } = await labDestroy(engine, 'mixed');
    expect(deleted.sort()).toEqual(['mixed-debian', 'mixed-tiny']);
    expect(existsSync(engine.paths(deb.id).vmDir)).toBe(false);
  }, 300_000);
});
