// The foundation end to end: the argv builder's command line boots the project's test guest
// under real QEMU (TCG); the guest's ready marker arrives on serial, a command runs in its shell,
// and system_powerdown turns it off cleanly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vmPaths } from '../../src/main/engine/config/paths';
import { ConfigStore } from '../../src/main/engine/config/store';
import { launch } from '../../src/main/engine/supervisor/launch';
import type { QemuInstance } from '../../src/main/engine/supervisor/instance';
import { SerialConsole } from '../../src/main/engine/consoles/serial';
import { QemuImg } from '../../src/main/engine/storage/qemu-img';
import { vm as makeVm } from '../../src/main/engine/testing/fixtures';
import { guest } from '../support/guest';
import { tcgHost, tempHome } from '../support/env';

const t = tempHome();
const g = guest();
let instance: QemuInstance | null = null;
let serial: SerialConsole | null = null;

afterAll(async () => {
  serial?.close();
  if (instance && !instance.hasExited) {
    instance.signal('SIGKILL');
    await instance.waitExit(5_000);
  }
  t.cleanup();
});

describe('test guest under real QEMU', () => {
  const name = 'boot, "quoted", ünï 🚀 -x';
  let paths: ReturnType<typeof vmPaths>;

  beforeAll(async () => {
    const host = await tcgHost();
    const store = new ConfigStore(t.home);
    const config = store.create(
      makeVm({
        id: 'bootbootboot',
        name,
        disks: [{ id: 'disk0', owned: true, file: 'disk0.qcow2', format: 'qcow2', bus: 'virtio' }],
        nics: [{ id: 'nic0', model: 'virtio', mac: '52:54:00:00:00:01', mode: 'user' }],
        directBoot: { kernel: g.kernel, initrd: g.initrd, cmdline: g.manifest.directCmdline },
      }),
    );
    paths = vmPaths(t.home, config.id, t.env);
    await new QemuImg(host.qemuImg.path).create(`${paths.vmDir}/disk0.qcow2`, {
      format: 'qcow2',
      sizeBytes: 64 << 20,
    });
    instance = await launch(config, host, paths);
    serial = new SerialConsole(paths.serialSocket);
    await serial.connect();
  });

  it('reports the name intact over QMP', async () => {
    const r = await instance!.qmp.execute<{ name: string }>('query-name');
    expect(r.name).toBe(name);
  });

  it('prints the ready marker on serial and runs a command in the shell', async () => {
    await serial!.waitFor(new RegExp(g.manifest.readyMarker), 60_000);
    await serial!.waitFor(/hangar-guest# /, 10_000);
    const r = await serial!.run('echo hi-$((40+2)); uname -r');
    expect(r.status).toBe(0);
    expect(r.output.split('\n')).toEqual(['hi-42', g.manifest.kernelVersion]);
  });

  it('has its virtio disk mounted and writable', async () => {
    const r = await serial!.run('echo data > /mnt/disk/f && sync && cat /mnt/disk/f');
    expect(r).toEqual({ output: 'data', status: 0 });
  });

  it('powers off on system_powerdown and is reported as an expected exit', async () => {
    const exit = instance!.exited;
    await instance!.qmp.execute('system_powerdown');
    const info = await exit;
    expect(info.expected).toBe(true);
    expect(info.reason).toBe('the guest powered off');
  });
});
