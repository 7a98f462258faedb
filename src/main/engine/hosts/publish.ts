// hangar publish VM --host NAME: the VM goes to a libvirt host as a domain of its own. Each disk
// of a stopped VM is flattened (qemu-img convert follows the backing chain: templates, baselines and
// snapshots stay home) into a staging folder (a running VM's are copied at one point in time
// instead: publish-live.ts), uploaded into a volume of the host's pool, and the
// domain is defined from Hangar's model with its files pointing at those volumes, then started.
// A failure at any step removes what this publish made on the host; nothing that was there
// before is touched, and a domain of the same name or UUID is refused, never replaced.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { HangarError } from '../../../shared/errors';
import type { PublishResult } from '../../../shared/hosts';
import type { VmConfig } from '../../../shared/vm';
import type { EngineContext } from '../context';
import { STAGING_PREFIX } from '../config/filenames';
import { domainName, domainUuid } from '../libvirt/export';
import { defineVm, exportNvram } from '../libvirt/define';
import type { Virsh } from '../libvirt/virsh';
import { deleteVolume, uploadVolume, volumeExists } from './volumes';
import type { Consistency } from '../backup/manifest';
import { copyRunningVm, stagedDisk, stagedVars } from './publish-live';

export interface PublishOptions {
  pool: string;
  name?: string;
  start: boolean;
  domainType: 'kvm' | 'qemu';
}

interface Upload {
  /** The volume's name in the pool. */
  volume: string;
  /** The local file that fills it (made by `prepare` when set, or staged by the live copy). */
  file: string;
  prepare?: (onProgress: (percent: number) => void) => Promise<void>;
  /** A copy made for this publish, removed once uploaded. */
  staged?: boolean;
  /** Where the volume's path goes in the VM model sent over. */
  apply: (remote: VmConfig, path: string) => void;
}

/** What must travel: every disk (flattened), inserted ISOs, the direct-boot kernel and initrd, UEFI variables. */
function plan(ctx: EngineContext, vm: VmConfig, domain: string, staging: string, live: boolean): Upload[] {
  const vmDir = ctx.paths(vm.id).vmDir;
  const uploads: Upload[] = vm.disks.map((d, i) => {
    const file = stagedDisk(staging, d.id);
    return {
      volume: `${domain}-${d.id}.qcow2`,
      file,
      staged: true,
      // A running VM's disks are already copied, flat, by copyRunningVm.
      ...(live
        ? {}
        : {
            prepare: (onProgress: (percent: number) => void) =>
              ctx.img.convert(
                { path: d.owned ? join(vmDir, d.file) : d.path, format: d.format },
                { path: file, format: 'qcow2' },
                onProgress,
              ),
          }),
      apply: (remote, path) => {
        const local = vm.disks[i]!;
        remote.disks[i] = {
          id: local.id,
          owned: false,
          path,
          format: 'qcow2',
          backingChain: [],
          blockDevice: false,
          bus: local.bus,
          readOnly: local.readOnly,
          cache: local.cache,
          discard: local.discard,
        };
      },
    };
  });
  vm.cdroms.forEach((c, i) => {
    if (c.media)
      uploads.push({
        volume: `${domain}-${c.id}.iso`,
        file: c.media,
        apply: (remote, path) => (remote.cdroms[i] = { ...c, media: path }),
      });
  });
  if (vm.directBoot) {
    const boot = vm.directBoot;
    uploads.push({
      volume: `${domain}-kernel`,
      file: boot.kernel,
      apply: (remote, path) => (remote.directBoot = { ...remote.directBoot!, kernel: path }),
    });
    if (boot.initrd)
      uploads.push({
        volume: `${domain}-initrd`,
        file: boot.initrd,
        apply: (remote, path) => (remote.directBoot = { ...remote.directBoot!, initrd: path }),
      });
  }
  return uploads;
}

/** A word a user can paste into a shell as it is: single-quoted, with ' spelled '\''. */
const q = (word: string) => `'${word.replaceAll("'", "'\\''")}'`;

async function refuseExisting(virsh: Virsh, vm: VmConfig, domain: string): Promise<void> {
  const uuid = domainUuid(vm.id);
  const names = await virsh.list();
  let sameUuid: string | null = null;
  try {
    sameUuid = (await virsh.run(['domname', '--', uuid])).trim();
  } catch (err) {
    if (!(err instanceof HangarError && err.code === 'NOT_FOUND')) throw err;
  }
  if (names.includes(domain))
    throw new HangarError(
      'CONFLICT',
      `${virsh.uri} has a domain "${domain}" already. Hangar does not replace it: remove it there first ` +
        `(virsh -c ${q(virsh.uri)} undefine ${q(domain)}), or publish under another name with --name.`,
    );
  // The UUID comes from the VM's id, so the same VM published before is found under any name.
  if (sameUuid)
    throw new HangarError(
      'CONFLICT',
      `This VM is on ${virsh.uri} already, as "${sameUuid}" (uuid ${uuid}). Hangar does not replace it: ` +
        `remove it there first (virsh -c ${q(virsh.uri)} undefine ${q(sameUuid)}).`,
    );
}

export async function publishVm(
  ctx: EngineContext,
  virsh: Virsh,
  host: string,
  ref: string,
  opts: PublishOptions,
): Promise<PublishResult> {
  return ctx.withVm(ref, 'publish', async (vm) => {
    const state = ctx.runtime(vm.id).state;
    const live = !ctx.isStopped(vm.id);
    if (live && state !== 'running' && state !== 'paused')
      throw new HangarError(
        'CONFLICT',
        `"${vm.name}" is ${state}; publish it once it is running or stopped.`,
      );
    const domain = opts.name ?? domainName(vm.name);
    await refuseExisting(virsh, vm, domain);
    // The pool first, so a missing one is said before anything is copied.
    await virsh.run(['pool-info', '--', opts.pool]);
    const staging = join(ctx.home, 'tmp', `${STAGING_PREFIX}publish-${vm.id}`);
    const uploads = plan(ctx, vm, domain, staging, live);
    const nvram = vm.firmware !== 'bios' ? `${domain}-VARS.fd` : null;
    if (nvram) {
      const file = join(staging, 'VARS.fd');
      uploads.push({
        volume: nvram,
        file,
        staged: true,
        prepare: live
          ? () =>
              ctx.img.convert({ path: stagedVars(staging), format: 'qcow2' }, { path: file, format: 'raw' })
          : () => exportNvram(ctx.img, ctx.paths(vm.id).vmDir, file),
        apply: () => undefined,
      });
    }
    for (const u of uploads)
      if (await volumeExists(virsh, opts.pool, u.volume))
        throw new HangarError(
          'CONFLICT',
          `The pool "${opts.pool}" on ${virsh.uri} has a volume "${u.volume}" already (an earlier publish?). ` +
            `Hangar does not overwrite it: remove it (virsh -c ${q(virsh.uri)} vol-delete --pool ${q(opts.pool)} ${q(u.volume)}) ` +
            'or publish under another name with --name.',
        );
    const made: { name: string; path: string; bytes: number }[] = [];
    let defined = false;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true, mode: 0o700 });
    // A running VM's copy is the first 30%; then file i of n at `part` (0..1) is (i + part) / n of
    // the rest, a file that is flattened first spending half of its share on that.
    const base = live ? 30 : 0;
    const report = (i: number, part: number, what: string) =>
      ctx.progress(
        vm.id,
        'publish',
        Math.min(99, Math.floor(base + ((i + part) / uploads.length) * (100 - base))),
        what,
      );
    try {
      let pointInTime: Consistency | null = null;
      if (live) {
        ctx.progress(vm.id, 'publish', 0, 'copying the running disks at one point in time');
        pointInTime = await copyRunningVm(ctx, vm, staging, (p) =>
          ctx.progress(
            vm.id,
            'publish',
            Math.floor((p * base) / 100),
            `copying the running disks (${Math.floor(p)}%)`,
          ),
        );
      }
      const remote: VmConfig = structuredClone(vm);
      let nvramPath: string | null = null;
      for (const [i, u] of uploads.entries()) {
        const share = u.prepare ? 0.5 : 0;
        if (u.prepare)
          await u.prepare((p) => report(i, (p / 100) * share, `flattening ${u.volume} (${Math.floor(p)}%)`));
        report(i, share, `uploading ${u.volume}`); // said at once: the reading is polled
        const up = await uploadVolume(virsh, opts.pool, u.volume, u.file, (done, total) =>
          report(i, share + (total ? done / total : 1) * (1 - share), `uploading ${u.volume}`),
        );
        made.push({ name: u.volume, ...up });
        u.apply(remote, up.path);
        if (u.volume === nvram) nvramPath = up.path;
        if (u.staged) rmSync(u.file, { force: true });
      }
      // What stayed home: the domain is one flat VM.
      remote.snapshots = [];
      remote.baseline = null;
      remote.linkedTo = null;
      remote.template = false;
      ctx.progress(vm.id, 'publish', 99, 'defining the domain');
      // Set before: a define that timed out may still have happened, and is then undone.
      defined = true;
      const result = await defineVm(virsh, remote, {
        vmDir: staging,
        domainType: opts.domainType,
        name: domain,
        ...(nvramPath ? { nvram: { path: nvramPath, carried: true } } : {}),
      });
      if (opts.start) await virsh.start(domain);
      ctx.endProgress(vm.id, 'publish', false);
      return {
        host,
        domain,
        uuid: result.uuid,
        volumes: made,
        started: opts.start,
        dropped: publishedDropped(vm, result.dropped),
        pointInTime,
      };
    } catch (err) {
      ctx.endProgress(vm.id, 'publish', true);
      if (defined) {
        // A start that timed out may have started it: stopped first, its volumes are not in use.
        await virsh.destroy(domain).catch(() => undefined);
        await virsh.undefine(domain).catch(() => undefined);
      }
      for (const v of made) await deleteVolume(virsh, opts.pool, v.name).catch(() => undefined);
      throw err;
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  });
}

/** The snapshots, template and baseline are flattened away; say so as the export does. */
function publishedDropped(vm: VmConfig, dropped: string[]): string[] {
  const extra: string[] = [];
  if (vm.snapshots.length)
    extra.push(
      `${vm.snapshots.length} snapshot(s): the disks were flattened at their current state; the snapshots stay in Hangar.`,
    );
  if (vm.baseline)
    extra.push('baseline: reset-to-baseline stays in Hangar; the domain has the current state.');
  if (vm.linkedTo)
    extra.push(`linked clone of ${vm.linkedTo}: the disks were flattened, so the domain stands alone.`);
  return [...dropped, ...extra];
}
