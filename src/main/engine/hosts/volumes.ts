// Volumes in a libvirt storage pool: made at the exact size of the file that fills them, filled
// through `virsh vol-upload` (progress from how far virsh has read the file), and deleted again
// when the upload or the publish fails halfway (only volumes this publish made).
import { statSync } from 'node:fs';
import { HangarError } from '../../../shared/errors';
import type { Virsh } from '../libvirt/virsh';

export async function volumeExists(virsh: Virsh, pool: string, name: string): Promise<boolean> {
  try {
    await virsh.run(['vol-info', '--pool', pool, '--vol', name]);
    return true;
  } catch (err) {
    // A missing pool is an error worth its own message (how to make one); a missing volume is the answer.
    if (err instanceof HangarError && err.code === 'NOT_FOUND' && !err.message.includes('pool-define-as'))
      return false;
    throw err;
  }
}

/** Makes `name` in `pool` and uploads `file` into it; returns the volume's path on the host. */
export async function uploadVolume(
  virsh: Virsh,
  pool: string,
  name: string,
  file: string,
  onBytes: (done: number, total: number) => void,
): Promise<{ path: string; bytes: number }> {
  const bytes = statSync(file).size;
  // A raw volume of exactly the file's size: libvirt refuses an upload longer than the volume,
  // and the domain's <driver type> (not the pool's idea of the format) says how QEMU reads it.
  await virsh.run([
    'vol-create-as',
    '--pool',
    pool,
    '--name',
    name,
    '--capacity',
    String(bytes),
    '--format',
    'raw',
  ]);
  try {
    await virsh.runReading(['vol-upload', '--pool', pool, '--vol', name, '--file', file], file, (done) =>
      onBytes(done, bytes),
    );
    const path = (await virsh.run(['vol-path', '--pool', pool, '--vol', name])).trim();
    return { path, bytes };
  } catch (err) {
    // The volume is this call's own: a failed upload leaves no half-filled volume behind.
    await deleteVolume(virsh, pool, name).catch(() => undefined);
    throw err;
  }
}

export async function deleteVolume(virsh: Virsh, pool: string, name: string): Promise<void> {
  await virsh.run(['vol-delete', '--pool', pool, '--vol', name]);
}
