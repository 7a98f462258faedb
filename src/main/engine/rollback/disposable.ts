// Disposable runs: every writable image gets a temporary overlay for this run only, QEMU opens
// the real images read-only beneath them, and the overlays are deleted when the run ends.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { VmConfig } from '../../../shared/vm';
import { diskPath } from '../qemu/argv';
import type { QemuImg } from '../storage/qemu-img';

export function disposableDir(vmDir: string): string {
  return join(vmDir, 'disposable');
}

interface Redirect {
  /** The -blockdev node whose file is replaced. */
  fileNode: string;
  formatNode: string;
  overlay: string;
}

/** Makes the overlays and returns how to point QEMU at them instead of the real images. */
export async function prepareDisposable(
  img: QemuImg,
  config: VmConfig,
  paths: { vmDir: string; varsFile: string },
): Promise<(argv: string[]) => string[]> {
  const dir = disposableDir(paths.vmDir);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { mode: 0o700 });
  const redirects: Redirect[] = [];
  for (const d of config.disks) {
    if (d.readOnly) continue;
    const overlay = join(dir, `${d.id}.qcow2`);
    await img.create(overlay, {
      format: 'qcow2',
      sizeBytes: 0,
      backing: { path: diskPath(config, d, paths.vmDir), format: d.format },
    });
    redirects.push({ fileNode: `${d.id}-file`, formatNode: d.id, overlay });
  }
  if (config.firmware !== 'bios' && existsSync(paths.varsFile)) {
    const overlay = join(dir, 'uefi-vars.qcow2');
    await img.create(overlay, {
      format: 'qcow2',
      sizeBytes: 0,
      backing: { path: paths.varsFile, format: 'qcow2' },
    });
    redirects.push({ fileNode: 'fw-vars-file', formatNode: 'fw-vars', overlay });
  }
  return (argv) =>
    argv.map((arg, i) => {
      if (argv[i - 1] !== '-blockdev') return arg;
      const node = JSON.parse(arg) as Record<string, unknown>;
      const file = redirects.find((r) => r.fileNode === node['node-name']);
      if (file) return JSON.stringify({ ...node, filename: file.overlay });
      // The overlay is qcow2 even over a raw disk; QEMU finds the real image as its backing file.
      const fmt = redirects.find((r) => r.formatNode === node['node-name']);
      return fmt ? JSON.stringify({ ...node, driver: 'qcow2' }) : arg;
    });
}

export function discardDisposable(vmDir: string): void {
  // Checked first: a recursive rm of a missing folder costs several calls, at every engine start.
  if (existsSync(disposableDir(vmDir))) rmSync(disposableDir(vmDir), { recursive: true, force: true });
}
