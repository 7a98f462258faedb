// External qcow2 images and their backing chains. A qcow2 header may name another file as its
// backing file (a downloaded image pointing at ~/.ssh/id_ed25519 would show that key to the
// guest), so a chain is refused unless the user confirmed that very chain, every file in it
// passes the host-path policy and every link names its backing file's format. The chain is then
// recorded and pinned on QEMU's command line (qemu/devices.ts), so a header changed later cannot
// add a file.
import { HangarError } from '../../../shared/errors';
import type { BackingLink } from '../../../shared/vm';
import type { QemuImg } from '../storage/qemu-img';
import { checkHostPath, type PathPolicy } from './paths';

/** Deeper chains are refused: nobody confirms 16 files, and QEMU's own limit is not far off. */
export const MAX_CHAIN = 16;

/**
 * The files under `path` (its backing file, that file's backing file, ...), each checked by the
 * policy; empty for a standalone image. Reads only headers: qemu-img info without
 * --backing-chain and with an explicit format opens no backing file.
 */
export async function backingChain(
  img: QemuImg,
  policy: PathPolicy,
  path: string,
  format: 'qcow2' | 'raw',
): Promise<BackingLink[]> {
  const chain: BackingLink[] = [];
  const seen = new Set([path]);
  let current = { path, format };
  while (current.format === 'qcow2') {
    const info = await img.info(current.path, 'qcow2');
    const dataFile = (info as { 'format-specific'?: { data?: { 'data-file'?: string } } })['format-specific']
      ?.data?.['data-file'];
    if (dataFile)
      throw new HangarError(
        'UNSUPPORTED',
        `${current.path} keeps its data in another file (${dataFile}), which QEMU would open read-write; ` +
          'Hangar does not use such images. Make a standalone copy (qemu-img convert -O qcow2).',
        { path: current.path, dataFile },
      );
    const named = info['backing-filename'];
    if (!named) break;
    const full = info['full-backing-filename'] ?? named;
    const fmt = info['backing-filename-format'];
    if (!full.startsWith('/') || full.startsWith('json:')) {
      throw new HangarError(
        'UNSUPPORTED',
        `${current.path} names "${named}" as its backing file, which is not a plain file path; ` +
          'Hangar does not open it. Convert the image to a standalone one (qemu-img convert -O qcow2).',
        { path: current.path, backing: named },
      );
    }
    if (fmt !== 'qcow2' && fmt !== 'raw') {
      throw new HangarError(
        'UNSUPPORTED',
        fmt
          ? `${current.path} is built on ${full}, a ${fmt} image; Hangar uses only qcow2 and raw backing files.`
          : `${current.path} is built on ${full} but does not say that file's format, so QEMU would ` +
              'guess it from its contents. Set it (qemu-img rebase -u -F qcow2|raw -b FILE IMAGE) or ' +
              'convert the image to a standalone one.',
        { path: current.path, backing: full },
      );
    }
    const checked = checkHostPath(policy, full, 'disk image');
    if (seen.has(checked.path))
      throw new HangarError(
        'INVALID_INPUT',
        `${current.path}'s backing chain loops back to ${checked.path}.`,
      );
    seen.add(checked.path);
    chain.push({ path: checked.path, format: fmt });
    if (chain.length > MAX_CHAIN)
      throw new HangarError('UNSUPPORTED', `${path} has a backing chain deeper than ${MAX_CHAIN} files.`);
    current = { path: checked.path, format: fmt };
  }
  return chain;
}

/** A chain as people read it: each file with its format, nearest first. */
export function describeChain(chain: BackingLink[]): string {
  return chain.map((l) => `${l.path} (${l.format})`).join(' <- ');
}

/**
 * Refuses a chain the caller has not confirmed exactly (the same files in the same order). The
 * error carries the chain, so a front end can show it and ask.
 */
export function requireConfirmedChain(
  path: string,
  chain: BackingLink[],
  confirmed: string[] | undefined,
): void {
  if (!chain.length) return;
  const same =
    confirmed !== undefined &&
    confirmed.length === chain.length &&
    chain.every((l, i) => l.path === confirmed[i]);
  if (same) return;
  throw new HangarError(
    'CONFLICT',
    `${path} is built on other files: ${describeChain(chain)}. A VM using it reads them too. ` +
      'Use it only if you trust every one of them: confirm this chain (hangar: ' +
      chain.map((l) => `--backing-chain ${l.path}`).join(' ') +
      '; the app asks), or make a standalone copy (qemu-img convert -O qcow2).',
    { path, chain, needsConfirmation: 'backing-chain' },
  );
}
