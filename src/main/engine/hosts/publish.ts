// hangar publish VM --host NAME: the VM goes to a libvirt host as a domain of its own. Each disk
// of a stopped VM is flattened (qemu-img convert follows the backing chain: templates, baselines and
// snapshots stay home) into a staging folder (a running VM's are copied at one point in time
// instead: publish-live.ts), uploaded into a volume of the host's pool, and the
// domain is defined from Hangar's model with its files pointing at those volumes, then started.
// A failure at any step removes what this publish made on the host; nothing that was there
// before is touched, and a domain of the same name or UUID is refused, never replaced.
import { refuseWhileStreaming } from '../backup/instant-guard';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { HangarError } from '../../../shared/errors';
import { shellWord } from '../shell-word';
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
        `(virsh -c ${shellWord(virsh.uri)} undefine ${shellWord(domain)}), or publish under another name with --name.`,
    );
  // The UUID comes from the VM's id, so the same VM published before is found under any name.
  if (sameUuid)
    throw new HangarError(
      'CONFLICT',
      `This VM is on ${virsh.uri} already, as "${sameUuid}" (uuid ${uuid}). Hangar does not replace it: ` +
        `remove it there first (virsh -c ${shellWord(virsh.uri)} undefine ${shellWord(sameUuid)}).`,
    );
}

interface Staged {
  vm: VmConfig;
  domain: string;
  staging: string;
  uploads: Upload[];
  nvram: string | null;
  pointInTime: Consistency | null;
  warning?: string;
}

/** Share of the progress bar that staging takes (flattening, or the running VM's copy). */
const STAGE_SHARE = 40;

export async function publishVm(
  ctx: EngineContext,
  virsh: Virsh,
  host: string,
  ref: string,
  opts: PublishOptions,
): Promise<PublishResult> {
  // The VM's lock is held only while its own files are read (the checks, then the flatten or the
  // running VM's copy). The upload reads those copies (and the user's ISOs and kernel), so a slow
  // link never keeps the user from stopping or starting the VM.
  const staged = await ctx.withVm(ref, 'publish', (vm) => stage(ctx, virsh, vm, opts));
  try {
    return await upload(ctx, virsh, host, staged, opts);
  } finally {
    rmSync(staged.staging, { recursive: true, force: true });
  }
}

async function stage(ctx: EngineContext, virsh: Virsh, vm: VmConfig, opts: PublishOptions): Promise<Staged> {
  const state = ctx.runtime(vm.id).state;
  const live = !ctx.isStopped(vm.id);
  if (live) refuseWhileStreaming(vm, 'Publish it while it runs (or stop it: a stopped VM is copied whole)');
  if (live && state !== 'running' && state !== 'paused')
    throw new HangarError('CONFLICT', `"${vm.name}" is ${state}; publish it once it is running or stopped.`);
  const domain = opts.name ?? domainName(vm.name);
  await refuseExisting(virsh, vm, domain);
  // The pool first, so a missing one is said before anything is copied.
  await virsh.run(['pool-info', '--', opts.pool]);
  // Its own folder per publish: two publishes of one VM may upload at once.
  const staging = join(
    ctx.home,
    'tmp',
    `${STAGING_PREFIX}publish-${vm.id}-${randomBytes(4).toString('hex')}`,
  );
  const uploads = plan(ctx, vm, domain, staging, live);
  const nvram = vm.firmware !== 'bios' ? `${domain}-VARS.fd` : null;
  if (nvram) {
    const file = join(staging, 'VARS.fd');
    uploads.push({
      volume: nvram,
      file,
      staged: true,
      prepare: live
        ? () => ctx.img.convert({ path: stagedVars(staging), format: 'qcow2' }, { path: file, format: 'raw' })
        : () => exportNvram(ctx.img, ctx.paths(vm.id).vmDir, file),
      apply: () => undefined,
    });
  }
  for (const u of uploads)
    if (await volumeExists(virsh, opts.pool, u.volume))
      throw new HangarError(
        'CONFLICT',
        `The pool "${opts.pool}" on ${virsh.uri} has a volume "${u.volume}" already (an earlier publish?). ` +
          `Hangar does not overwrite it: remove it (virsh -c ${shellWord(virsh.uri)} vol-delete --pool ${shellWord(opts.pool)} ${shellWord(u.volume)}) ` +
          'or publish under another name with --name.',
      );
  mkdirSync(staging, { recursive: true, mode: 0o700 });
  const progress = (p: number, what: string) =>
    ctx.progress(vm.id, 'publish', Math.floor(Math.min(p, STAGE_SHARE)), what);
  try {
    let copied: Awaited<ReturnType<typeof copyRunningVm>> | null = null;
    if (live) {
      progress(0, 'copying the running disks at one point in time');
      copied = await copyRunningVm(ctx, vm, staging, (p) =>
        progress((p * STAGE_SHARE) / 100, `copying the running disks (${Math.floor(p)}%)`),
      );
    }
    const prepared = uploads.filter((u) => u.prepare);
    for (const [i, u] of prepared.entries())
      await u.prepare!((p) =>
        progress(
          live ? STAGE_SHARE : ((i + p / 100) / prepared.length) * STAGE_SHARE,
          `flattening ${u.volume} (${Math.floor(p)}%)`,
        ),
      );
    return {
      vm,
      domain,
      staging,
      uploads,
      nvram,
      pointInTime: copied?.consistency ?? null,
      ...(copied?.warning ? { warning: copied.warning } : {}),
    };
  } catch (err) {
    ctx.endProgress(vm.id, 'publish', true);
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
}

async function upload(
  ctx: EngineContext,
  virsh: Virsh,
  host: string,
  staged: Staged,
  opts: PublishOptions,
): Promise<PublishResult> {
  const { vm, domain, uploads, nvram } = staged;
  const made: { name: string; path: string; bytes: number }[] = [];
  let defined = false;
  // File i of n at `part` (0..1) is (i + part) / n of what staging left.
  const report = (i: number, part: number, what: string) =>
    ctx.progress(
      vm.id,
      'publish',
      Math.min(99, Math.floor(STAGE_SHARE + ((i + part) / uploads.length) * (100 - STAGE_SHARE))),
      what,
    );
  try {
    const remote: VmConfig = structuredClone(vm);
    let nvramPath: string | null = null;
    for (const [i, u] of uploads.entries()) {
      report(i, 0, `uploading ${u.volume}`); // said at once: the reading is polled
      await ctx.failpoint('publish:upload', i);
      const up = await uploadVolume(virsh, opts.pool, u.volume, u.file, (done, total) =>
        report(i, total ? done / total : 1, `uploading ${u.volume}`),
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
      vmDir: staged.staging,
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
      pointInTime: staged.pointInTime,
      ...(staged.warning ? { warning: staged.warning } : {}),
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
  }
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
