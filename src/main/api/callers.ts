// Who is calling the API, and what that caller may name. Two kinds:
//   - `user`: the `hangar` CLI (in-process, or over the host server's `/api?token=` socket, whose
//     token only the user's own processes can read from the 0600 endpoint file). Run by the user,
//     it may name any host path; the host-path policy still applies to every one of them.
//   - `renderer`: the UI, over the host server's cookie-authenticated WebSocket or Electron IPC.
//     The project treats it as untrusted (an XSS, a compromised renderer), so it never names a
//     host file: every path it sends is a grant reference for a file the user picked in a dialog
//     the page cannot script (engine/policy/grants.ts), swapped here for the path it stands for.
// Everything after this (the policy in engine/vms/external.ts and friends) is the same for both.
import type { z } from 'zod';
import type { ApiMethod, ApiParams } from '../../shared/api';
import { HangarError } from '../../shared/errors';
import { parseLab } from '../../shared/lab/parse';
import { isGrantRef, type PickedFile, type PickPurpose } from '../../shared/requests';
import type { BackingLink } from '../../shared/vm';
import type { GrantTable } from '../engine/policy/grants';

export type CallerKind = 'user' | 'renderer';

/** What a trusted file dialog (the host server's picker, Electron's native dialog) needs of the engine. */
export interface FileGrants {
  /** Where a picker starts: the user's home. */
  home(): string;
  /** True for a real path inside Hangar's own data or runtime folders (never listed, never granted). */
  isProtected(realPath: string): boolean;
  /**
   * Checks a file the user chose with the host-path policy and grants it for `purpose`. A disk
   * built on other files is granted only with that very chain confirmed by the user (in the
   * dialog itself); until then the answer is the chain to show.
   */
  grant(path: string, purpose: PickPurpose, confirmChain?: string[]): Promise<GrantOutcome>;
}

export type GrantOutcome = { ok: true; file: PickedFile } | { ok: false; chain: BackingLink[] };

export interface PathContext {
  grants: GrantTable;
  /** The kernel and initrd a VM has recorded: sending those back unchanged names no new file. */
  recordedBoot(vm: string): { kernel: string; initrd?: string } | null;
}

type Parsed<M extends ApiMethod> = z.output<(typeof ApiParams)[M]>;
type Disk = Extract<Parsed<'disk.add'>['disk'], { kind: 'existing' }>;
type Boot = NonNullable<Parsed<'vm.create'>['directBoot']>;

function refused(purpose: PickPurpose): HangarError {
  return new HangarError(
    'INVALID_INPUT',
    'The app does not take typed paths: choose the file with the picker (Choose…).',
    { needs: 'grant', purpose },
  );
}

/** One host file from a request: a grant is swapped for its path; a raw path only from the user. */
function hostFile(
  value: string,
  purpose: PickPurpose,
  caller: CallerKind,
  ctx: PathContext,
  unchanged: readonly (string | undefined)[] = [],
): { path: string; chain: string[] | null; granted: boolean } {
  if (isGrantRef(value)) {
    const g = ctx.grants.resolve(value, purpose);
    return { path: g.path, chain: g.chain, granted: true };
  }
  if (caller === 'renderer' && !unchanged.includes(value)) throw refused(purpose);
  return { path: value, chain: null, granted: false };
}

function sameChain(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((p, i) => p === b[i]);
}

/**
 * An existing disk. The chain a renderer may use is the one the user confirmed in the picker,
 * carried by the grant; one the page sends itself is refused unless it is that same chain (a
 * checkbox in the page is no confirmation: script can tick it). From the user (the CLI),
 * `confirmChain` is taken as given, as before.
 */
function existingDisk(disk: Disk, caller: CallerKind, ctx: PathContext): Disk {
  const f = hostFile(disk.path, 'disk', caller, ctx);
  if (!f.granted) return disk;
  if (caller === 'renderer') {
    if (disk.confirmChain !== undefined && !sameChain(disk.confirmChain, f.chain ?? []))
      throw new HangarError(
        'INVALID_INPUT',
        'A backing chain is confirmed where the user chooses the image (the picker or the file ' +
          'dialog), not by the app: choose the image again to confirm its chain.',
      );
    return { ...disk, path: f.path, confirmChain: f.chain ?? undefined };
  }
  return { ...disk, path: f.path, confirmChain: disk.confirmChain ?? f.chain ?? undefined };
}

function directBoot(
  boot: Boot,
  caller: CallerKind,
  ctx: PathContext,
  unchanged: readonly string[] = [],
): Boot {
  return {
    ...boot,
    kernel: hostFile(boot.kernel, 'kernel', caller, ctx, unchanged).path,
    ...(boot.initrd !== undefined
      ? { initrd: hostFile(boot.initrd, 'initrd', caller, ctx, unchanged).path }
      : {}),
  };
}

/**
 * The request with every host file turned into a path, checked against what this caller may
 * name. Methods that take no host file pass through. Grants are resolved for every caller, so the
 * engine only ever sees paths (and a grant reference that slipped past would fail its policy as
 * "not absolute").
 */
export function resolveCallerPaths<M extends ApiMethod>(
  method: M,
  params: Parsed<M>,
  caller: CallerKind,
  ctx: PathContext,
): Parsed<M> {
  switch (method) {
    case 'vm.create': {
      const p = params as Parsed<'vm.create'>;
      return {
        ...p,
        iso: p.iso === null ? null : hostFile(p.iso, 'iso', caller, ctx).path,
        disk: p.disk.kind === 'existing' ? existingDisk(p.disk, caller, ctx) : p.disk,
        directBoot: p.directBoot === null ? null : directBoot(p.directBoot, caller, ctx),
      } as Parsed<M>;
    }
    case 'vm.edit': {
      const p = params as Parsed<'vm.edit'>;
      // A shared folder hands the guest a whole tree: from the app, only one the user chose in
      // the picker for sharing (null, stop sharing, names nothing).
      const shared = p.patch.sharedFolder;
      const patch =
        typeof shared === 'string'
          ? { ...p.patch, sharedFolder: hostFile(shared, 'folder', caller, ctx).path }
          : p.patch;
      if (!patch.directBoot) return { ...p, patch } as Parsed<M>;
      // The settings form may send the VM's own kernel back with a new command line.
      const recorded = caller === 'renderer' ? ctx.recordedBoot(p.vm) : null;
      const unchanged = recorded ? [recorded.kernel, ...(recorded.initrd ? [recorded.initrd] : [])] : [];
      return {
        ...p,
        patch: { ...patch, directBoot: directBoot(patch.directBoot, caller, ctx, unchanged) },
      } as Parsed<M>;
    }
    case 'disk.add': {
      const p = params as Parsed<'disk.add'>;
      return (
        p.disk.kind === 'existing' ? { ...p, disk: existingDisk(p.disk, caller, ctx) } : p
      ) as Parsed<M>;
    }
    case 'media.insert': {
      const p = params as Parsed<'media.insert'>;
      return { ...p, path: hostFile(p.path, 'iso', caller, ctx).path } as Parsed<M>;
    }
    case 'disk.info': {
      const p = params as Parsed<'disk.info'>;
      return { ...p, path: hostFile(p.path, 'disk', caller, ctx).path } as Parsed<M>;
    }
    case 'vm.copyIn': {
      // Read from the host and handed to the guest: from the UI, only a file the user picked.
      const p = params as Parsed<'vm.copyIn'>;
      return { ...p, hostPath: hostFile(p.hostPath, 'file', caller, ctx).path } as Parsed<M>;
    }
    case 'vm.copyOut': {
      // Written on the host: the UI has no save dialog yet, so it may not name a target at all.
      if (caller === 'renderer')
        throw new HangarError(
          'INVALID_INPUT',
          'The app cannot write files on this computer: copy files out of a guest with hangar cp.',
        );
      return params;
    }
    case 'lab.plan':
    case 'lab.up': {
      // A lab file can name host files (cloud images) and a folder to resolve them against. From
      // the UI, until lab files are opened through the picker, only labs made of templates.
      if (caller !== 'renderer') return params;
      const p = params as Parsed<'lab.up'>;
      const parsed = parseLab(p.text);
      const hostFiles =
        parsed.ok && parsed.lab.vms.some((v) => v.source.kind === 'image' || v.source.kind === 'iso');
      if (p.sourceFile !== null || hostFiles)
        throw new HangarError(
          'INVALID_INPUT',
          'The app does not take host paths from a lab file yet: bring this lab up with hangar lab up FILE.',
        );
      return params;
    }
    case 'image.add':
    case 'image.planOva':
    case 'image.importOva': {
      const p = params as Parsed<'image.add'>;
      return { ...p, path: hostFile(p.path, 'file', caller, ctx).path } as Parsed<M>;
    }
    case 'iso.identify': {
      const p = params as Parsed<'iso.identify'>;
      return { ...p, path: hostFile(p.path, 'iso', caller, ctx).path } as Parsed<M>;
    }
    case 'lab.capture': {
      if (caller === 'renderer' && (params as Parsed<'lab.capture'>).file !== null)
        throw new HangarError(
          'INVALID_INPUT',
          'The app cannot write files on this computer: capture with hangar lab capture LAB SEGMENT -w FILE.',
        );
      return params;
    }
    case 'vm.exportLibvirt': {
      if (caller === 'renderer' && (params as Parsed<'vm.exportLibvirt'>).nvramFile !== null)
        throw new HangarError(
          'INVALID_INPUT',
          'The app cannot write files on this computer: export with hangar export VM --libvirt FILE --nvram FILE.',
        );
      return params;
    }
    case 'backup.export':
    case 'backup.import':
      // Both name a host file the user never picked in the app.
      if (caller === 'renderer')
        throw new HangarError(
          'INVALID_INPUT',
          'The app does not move VMs as archives yet: use hangar backup export / hangar backup import.',
        );
      return params;
    case 'vm.importLibvirt': {
      // A domain XML names host files (its disks, kernel, firmware) that the user never picked.
      if (caller === 'renderer')
        throw new HangarError(
          'INVALID_INPUT',
          'The app does not import libvirt domains yet: use hangar import --libvirt FILE.',
        );
      return params;
    }
    case 'backup.create':
    case 'backup.list':
    case 'backup.verify':
    case 'backup.restore':
    case 'backup.restoreInPlace':
    case 'backup.prune':
    case 'backup.drill': {
      // A repository is a folder written to (create) or read as backups (the others): the UI has
      // no folder picker, so it uses the default repository only.
      if (caller === 'renderer' && (params as Parsed<'backup.list'>).repository !== null)
        throw new HangarError(
          'INVALID_INPUT',
          'The app uses the default backup repository ($HANGAR_HOME/backups): for another folder, use hangar backup --repository DIR.',
        );
      // A key file is a host file the engine reads: the page gives a passphrase only.
      const key = (params as { key?: unknown }).key;
      if (caller === 'renderer' && key && typeof key === 'object' && 'keyFile' in key)
        throw new HangarError(
          'INVALID_INPUT',
          'The app takes a passphrase for encrypted backups: for a key file, use hangar backup --key-file FILE.',
        );
      return params;
    }
    case 'remote.addHost': {
      // A host added from the page could be anyone's machine, and publish would then send it a
      // VM's disks; keyfile= and known_hosts= name files here that ssh reads. The app adds this
      // computer's own libvirt (no host in the URI, no parameters); the user adds others.
      const uri = (params as Parsed<'remote.addHost'>).uri;
      if (caller === 'renderer' && !/^qemu(\+unix)?:\/\/\/(system|session)$/.test(uri))
        throw new HangarError(
          'INVALID_INPUT',
          "The app adds this computer's libvirt only (qemu:///system): add other hosts with hangar host add NAME URI.",
        );
      return params;
    }
    default:
      return params;
  }
}
