// Publishing a running VM: its disks (and UEFI variables) are copied at one point in time inside
// QEMU, with the guest's filesystems frozen around that point when its agent answers, the same
// way a live backup is made (backup/live.ts, without the dirty bitmaps a backup chain needs). The
// copies are flat qcow2 files in the publish's staging folder; the VM keeps running throughout.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { VmConfig } from '../../../shared/vm';
import { agentPortOpen, withFrozenGuest } from '../agent';
import { liveCopy, type LiveTarget } from '../backup/live';
import type { Consistency } from '../backup/manifest';
import type { EngineContext } from '../context';
import { VARS_FILE } from '../config/filenames';

/** Where the live copy puts a disk, and the UEFI variables (qcow2; converted to raw for the host). */
export const stagedDisk = (staging: string, diskId: string) => join(staging, `${diskId}.qcow2`);
export const stagedVars = (staging: string) => join(staging, 'VARS.qcow2');

export async function copyRunningVm(
  ctx: EngineContext,
  vm: VmConfig,
  staging: string,
  onProgress: (percent: number) => void,
): Promise<{ consistency: Consistency; warning?: string }> {
  const vmDir = ctx.paths(vm.id).vmDir;
  const targets: LiveTarget[] = [];
  const make = async (node: string, source: string, format: string, path: string) => {
    const size = (await ctx.img.info(source, format))['virtual-size'];
    await ctx.img.run(['create', '-q', '-f', 'qcow2', path, String(size)]);
    targets.push({ node, path, backing: [], bitmap: false });
  };
  for (const d of vm.disks)
    await make(d.id, d.owned ? join(vmDir, d.file) : d.path, d.format, stagedDisk(staging, d.id));
  const vars = join(vmDir, VARS_FILE);
  if (vm.firmware !== 'bios' && existsSync(vars)) await make('fw-vars', vars, 'qcow2', stagedVars(staging));
  let consistency: Consistency = 'crash-consistent';
  let warning: string | undefined;
  const agent = await agentPortOpen(ctx.qmp(vm.id));
  await liveCopy(ctx.qmp(vm.id), {
    mode: 'full',
    // No bitmap is made (bitmap: false on every target), so no chain is named.
    chainId: 'publish',
    targets,
    atPointInTime: async (start) => {
      if (!agent) return start();
      const frozen = await withFrozenGuest(ctx.agent(vm.id), start);
      consistency = frozen.consistency === 'frozen' ? 'frozen' : 'crash-consistent';
      if (frozen.thawFailed !== undefined)
        warning = `The guest agent did not confirm that it thawed the guest's filesystems (${frozen.thawFailed}); writes in the guest may hang.`;
    },
    onProgress,
    whileRunning: async () => undefined,
    // Plain clusters, as a stopped VM's flatten writes them: compressing here only costs time.
    compress: false,
  });
  return { consistency, ...(warning ? { warning } : {}) };
}
