// The software TPM's state in a backup: swtpm keeps it as a few files in the VM's tpm/ folder
// (tpm2-00.permall, and a volatile state while suspended). They are copied as files. swtpm
// replaces them by rename, so a copy taken while it runs is one whole state, though of a moment
// a little after the disks' point in time (the TPM changes rarely: keys, counters, PCR policies).
import { copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The folder in a VM's directory and in a backup point. */
export const TPM_DIR = 'tpm';

/** Copies the state files (not swtpm's lock or temporary files); returns their backup names. */
export function copyTpmState(vmDir: string, pointDir: string): string[] {
  const from = join(vmDir, TPM_DIR);
  if (!existsSync(from)) return [];
  const names = readdirSync(from).filter(
    (f) => /^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$/.test(f) && lstatSync(join(from, f)).isFile(),
  );
  if (!names.length) return [];
  mkdirSync(join(pointDir, TPM_DIR), { recursive: true, mode: 0o700 });
  for (const f of names) copyFileSync(join(from, f), join(pointDir, TPM_DIR, f));
  return names.map((f) => `${TPM_DIR}/${f}`);
}
