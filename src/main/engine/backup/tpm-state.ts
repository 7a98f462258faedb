// The software TPM's state in a backup: swtpm keeps it as a few files in the VM's tpm/ folder
// (tpm2-00.permall, and a volatile state while suspended). They are read as files. swtpm
// replaces them by rename, so a copy taken while it runs is one whole state, though of a moment
// a little after the disks' point in time (the TPM changes rarely: keys, counters, PCR policies).
import { existsSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The folder in a VM's directory and in a backup point. */
export const TPM_DIR = 'tpm';

/** The state files (not swtpm's lock or temporary files), by their names in a backup point. */
export function tpmStateFiles(vmDir: string): { name: string; path: string }[] {
  const from = join(vmDir, TPM_DIR);
  if (!existsSync(from)) return [];
  return readdirSync(from)
    .filter((f) => /^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$/.test(f) && lstatSync(join(from, f)).isFile())
    .map((f) => ({ name: `${TPM_DIR}/${f}`, path: join(from, f) }));
}
