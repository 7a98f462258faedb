// The golden tests pin the argv; this proves QEMU reads hostile values back exactly as given:
// each VM starts paused (-S) and its name and disk paths are read back over QMP.
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { vmPaths } from '../../src/main/engine/config/paths';
import { ConfigStore } from '../../src/main/engine/config/store';
import { launch } from '../../src/main/engine/supervisor/launch';
import { QemuImg } from '../../src/main/engine/storage/qemu-img';
import { vm as makeVm } from '../../src/main/engine/testing/fixtures';
import { tcgHost, tempHome } from '../support/env';

const t = tempHome();
afterAll(() => t.cleanup());

interface BlockInfo {
  device: string;
  qdev?: string;
  inserted?: { file: string; ro: boolean; drv: string };
}

const hostile = [
  'a,b',
  'with space',
  "quote\"d and 'single'",
  'k=v,id=evil',
  '-leading-dash',
  'ünïcødé 🚀',
  'json:{"driver":"null-co"}',
];

describe('hostile values reach QEMU intact', () => {
  hostile.forEach((text, i) => {
    it(`name and paths ${JSON.stringify(text)}`, async () => {
      const host = await tcgHost();
      const id = `hostile${String(i).padStart(5, '0')}`;
      const dir = join(t.home, 'ext', String(i));
      mkdirSync(dir, { recursive: true });
      // A newline is legal in a file name, though not in a VM name.
      const diskFile = join(dir, `${text}\nline.qcow2`);
      const isoFile = join(dir, `${text}.iso`);
      await new QemuImg(host.qemuImg.path).create(diskFile, { format: 'qcow2', sizeBytes: 1 << 20 });
      writeFileSync(isoFile, Buffer.alloc(2048));
      const config = new ConfigStore(t.home).create(
        makeVm({
          id,
          name: text,
          disks: [{ id: 'disk0', owned: false, path: diskFile, format: 'qcow2', bus: 'virtio' }],
          cdroms: [{ id: 'cd0', bus: 'sata', media: isoFile }],
        }),
      );
      const instance = await launch(config, host, vmPaths(t.home, id, t.env), { paused: true });
      try {
        expect((await instance.qmp.execute<{ name: string }>('query-name')).name).toBe(text);
        const blocks = await instance.qmp.execute<BlockInfo[]>('query-block');
        const disk = blocks.find((b) => b.inserted?.file === diskFile);
        const cd = blocks.find((b) => b.inserted?.file === isoFile);
        expect(disk?.inserted).toMatchObject({ drv: 'qcow2', ro: false });
        expect(cd?.inserted).toMatchObject({ drv: 'raw', ro: true });
        // Nothing else was injected: exactly the disk, the CD-ROM and no extra drives.
        expect(blocks.filter((b) => b.inserted).length).toBe(2);
        expect((await instance.qmp.execute<{ status: string }>('query-status')).status).toBe('prelaunch');
      } finally {
        instance.expectExit();
        await instance.qmp.execute('quit').catch(() => undefined);
        await instance.waitExit(5_000);
      }
    });
  });
});

describe('QEMU sandbox', () => {
  it('stops a monitor command from spawning a process on the host', async () => {
    const host = await tcgHost();
    const config = new ConfigStore(t.home).create(makeVm({ id: 'sandboxtest0' }));
    const marker = join(t.home, 'spawned');
    const instance = await launch(config, host, vmPaths(t.home, config.id, t.env), { paused: true });
    await instance.qmp
      .execute('human-monitor-command', { 'command-line': `migrate "exec:touch ${marker}"` })
      .catch(() => undefined);
    // seccomp kills QEMU at the attempt; either way no process may have run.
    await instance.waitExit(5_000);
    expect(instance.hasExited).toBe(true);
    expect(existsSync(marker)).toBe(false);
  });
});
