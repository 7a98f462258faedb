// Binds the API map to the engine: params parsed with the shared schemas, host files checked
// against what the caller may name (callers.ts), then the engine call. The host server, the
// Electron IPC handlers and the CLI's in-process mode all use this.
import { statfsSync } from 'node:fs';
import { readinessOf } from '../engine/ready/watch';
import { statsOf } from '../engine/stats/sampler';
import { reseedVm } from '../engine/cloudinit/reseed';
import { defaultUser, userKeyFiles } from '../engine/cloudinit/plan';
import { fanOutEvents } from './events';
import { labHandlers } from './labs';
import { imageHandlers } from './images';
import { backupHandlers } from './backups';
import { libvirtHandlers } from './libvirt';
import { hostHandlers } from './hosts';
import { hostsOf } from '../engine/hosts';
import type { ConsoleStream } from '../engine/hosts/console-stream';
import { holdImage } from '../engine/images/service';
import { homedir } from 'node:os';
import { sep } from 'node:path';
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { ApiParams, type ApiMethod, type ApiResults } from '../../shared/api';
import { HangarError } from '../../shared/errors';
import { describeZodError } from '../engine/config/store';
import type { Engine } from '../engine/engine';
import { createVm } from '../engine/vms/create';
import { cloneVm, deleteVm, editVm } from '../engine/vms/manage';
import {
  createSnapshot,
  deleteSnapshot,
  editSnapshot,
  findSnapshot,
  listSnapshots,
} from '../engine/snapshots';
import { readThumbnail } from '../engine/snapshot-thumbnail';
import { createDemo } from '../engine/demo';
import { revertSnapshot } from '../engine/snapshot-revert';
import {
  ejectMedia,
  insertMedia,
  lastFrame,
  monitor,
  screenshotPng,
  sendKeys,
  typeText,
} from '../engine/live';
import { findIsos } from '../engine/isos';
import { clearBaseline, resetToBaseline, setBaseline } from '../engine/rollback/baseline';
import { linkedClone, makeIndependent, setTemplate } from '../engine/rollback/templates';
import { addDisk, diskInfo, removeDisk } from '../engine/vms/disks';
import { convertDisk, resizeDisk } from '../engine/vms/disk-ops';
import { tailFile } from '../engine/supervisor/logs';
import { readJournal } from '../engine/journal/journal';
import { GrantTable } from '../engine/policy/grants';
import { checkHostPath } from '../engine/policy/paths';
import { backingChain } from '../engine/policy/chain';
import { VmId, type BackingLink } from '../../shared/vm';
import { checkMonitorCommand } from './monitor-policy';
import { copyIn, copyOut, vmAddress, vmExec } from '../engine/agent/vm-ops';
import { parseCheck } from '../engine/ready/checks';
import { waitReady } from '../engine/ready/wait';
import { dropKind, DROP_PURPOSE } from '../../shared/drop';
import { findDropped } from '../engine/drop/find';
import { resolveCallerPaths, type CallerKind, type FileGrants } from './callers';
import {
  QmpCommandError,
  QmpDisconnectedError,
  QmpEventTimeoutError,
  QmpStateError,
  QmpTimeoutError,
} from '../engine/qmp';

type Handlers = {
  [M in ApiMethod]: (p: z.output<(typeof ApiParams)[M]>) => Promise<ApiResults[M]> | ApiResults[M];
};

function handlers(engine: Engine): Handlers {
  return {
    'host.info': () => engine.host,
    'vm.list': () => {
      const ready = readinessOf(engine);
      return engine.list().map((v) => ({ ...v, readiness: ready.current(v.id) }));
    },
    'vm.get': ({ vm }) => {
      const config = engine.resolve(vm);
      const r = engine.runtime(config.id);
      return {
        config,
        state: r.last,
        busy: engine.busyWith(config.id),
        accel: engine.host.accel,
        readiness: readinessOf(engine).current(config.id),
      };
    },
    'vm.create': (req) =>
      // Progress of a VM being made is reported under the id "new" until it has one.
      holdImage(engine, req.image, () =>
        createVm(req, {
          store: engine.store,
          host: engine.host,
          img: engine.img,
          policy: engine.policy,
          env: engine.env,
          onProgress: (p, step) => engine.progress('new', 'create', p, step),
        }),
      ).then(
        (c) => {
          engine.emit('config', { id: c.id, config: c });
          return c;
        },
        (err: unknown) => {
          engine.endProgress('new', 'create', true);
          throw err;
        },
      ),
    'vm.demo': () => createDemo(engine),
    'vm.edit': ({ vm, patch }) => editVm(engine, vm, patch),
    'vm.clone': ({ vm, name }) => cloneVm(engine, vm, name),
    'vm.delete': ({ vm }) => deleteVm(engine, vm),
    'vm.start': ({ vm, paused, disposable }) => engine.start(vm, { paused, disposable }),
    'vm.reseed': ({ vm }) => reseedVm(engine, vm),
    'vm.stats': ({ vm }) => {
      const config = engine.resolve(vm);
      statsOf(engine).enable();
      return { samples: statsOf(engine).history(config.id), intervalMs: 1_000 };
    },
    'host.stats': () => {
      statsOf(engine).enable();
      return {
        vms: statsOf(engine)
          .latest()
          .map(({ id, sample }) => {
            let name = id;
            try {
              name = engine.store.load(id).name;
            } catch {
              // A vm.json being rewritten or broken: the id still says which VM this is.
            }
            return { id, name, sample };
          }),
      };
    },
    'vm.linkedClone': ({ vm, name }) => linkedClone(engine, vm, name),
    'vm.makeIndependent': ({ vm }) => makeIndependent(engine, vm),
    'template.set': ({ vm, template }) => setTemplate(engine, vm, template),
    'baseline.set': ({ vm }) => setBaseline(engine, vm),
    'baseline.reset': ({ vm }) => resetToBaseline(engine, vm),
    'baseline.clear': ({ vm }) => clearBaseline(engine, vm),
    'snapshot.edit': ({ vm, snapshot, name, description }) =>
      editSnapshot(engine, vm, snapshot, { name, description }),
    'vm.stop': ({ vm, force, timeoutSec, forceAfterSec }) => {
      const wait = forceAfterSec ?? timeoutSec;
      return engine.stop(vm, {
        force,
        timeoutMs: wait ? wait * 1000 : undefined,
        forceAfter: forceAfterSec !== undefined,
      });
    },
    'vm.pause': ({ vm }) => engine.pause(vm),
    'vm.resume': ({ vm }) => engine.resume(vm),
    'vm.reset': ({ vm }) => engine.reset(vm),
    'vm.sendKeys': async ({ vm, keys }) => {
      await sendKeys(engine, vm, keys);
      return null;
    },
    'vm.typeText': async ({ vm, text }) => {
      await typeText(engine, vm, text);
      return null;
    },
    'host.isos': () => findIsos(engine),
    'host.findDropped': (file) => {
      const path = findDropped(engine, file); // the schema took only a plain name of a known kind
      return path ? { path, name: file.name } : null;
    },
    'host.sshKeys': () => ({ user: defaultUser(), keys: userKeyFiles(engine.env) }),
    'host.space': () => {
      const st = statfsSync(engine.home);
      return { free: st.bavail * st.bsize, total: st.blocks * st.bsize };
    },
    'disk.add': ({ vm, disk }) => addDisk(engine, vm, disk),
    'disk.resize': ({ vm, disk, size, shrink }) => resizeDisk(engine, vm, disk, size, shrink),
    'disk.convert': ({ vm, disk, format }) => convertDisk(engine, vm, disk, format),
    'disk.remove': ({ vm, disk, deleteFile }) => removeDisk(engine, vm, disk, deleteFile),
    'vm.screenshot': async ({ vm }) => ({ png: (await screenshotPng(engine, vm)).toString('base64') }),
    'vm.lastFrame': async ({ vm }) => lastFrame(engine, vm),
    'vm.monitor': async ({ vm, command }) => {
      checkMonitorCommand(command);
      return { output: await monitor(engine, vm, command) };
    },
    'vm.log': ({ vm, lines }) => ({
      text: tailFile(engine.paths(engine.resolve(vm).id).qemuLog, 1 << 20, lines ?? 200),
    }),
    'vm.history': ({ vm, limit }) => readJournal(engine.paths(engine.resolve(vm).id).vmDir, limit),
    'snapshot.list': ({ vm }) => listSnapshots(engine, vm),
    'snapshot.create': ({ vm, name, description, ram }) =>
      createSnapshot(engine, vm, name, description, { ram }),
    'snapshot.revert': ({ vm, snapshot }) => revertSnapshot(engine, vm, snapshot),
    'snapshot.delete': async ({ vm, snapshot }) => {
      await deleteSnapshot(engine, vm, snapshot);
      return null;
    },
    'snapshot.thumbnail': ({ vm, snapshot }) => {
      const config = engine.resolve(vm);
      return { png: readThumbnail(engine, config.id, findSnapshot(config, snapshot).id) };
    },
    'media.insert': ({ vm, path, drive }) => insertMedia(engine, vm, path, drive),
    'media.eject': ({ vm, drive }) => ejectMedia(engine, vm, drive),
    'vm.address': ({ vm }) => vmAddress(engine, vm),
    'vm.exec': async ({ vm, command, args, env, stdin, timeoutSec }) => {
      const r = await vmExec(engine, vm, command, {
        args,
        env,
        stdin: stdin === undefined ? undefined : Buffer.from(stdin, 'base64'),
        timeoutMs: timeoutSec === undefined ? undefined : timeoutSec * 1000,
      });
      return { ...r, stdout: r.stdout.toString('base64'), stderr: r.stderr.toString('base64') };
    },
    'vm.copyIn': ({ vm, hostPath, guestPath }) => {
      const id = engine.resolve(vm).id;
      return engine.exclusive(id, 'copy in', () =>
        copyIn(engine, id, hostPath, guestPath, (done, total) =>
          engine.progress(id, 'copy in', total ? (100 * done) / total : 100, `copying ${guestPath}`),
        ),
      );
    },
    'vm.copyOut': ({ vm, guestPath, hostPath }) => {
      const id = engine.resolve(vm).id;
      return engine.exclusive(id, 'copy out', () =>
        copyOut(engine, id, guestPath, hostPath, (done) =>
          engine.progress(id, 'copy out', 50, `copied ${Math.round(done / 1024)} KiB of ${guestPath}`),
        ),
      );
    },
    'vm.wait': ({ vm, for: wanted, timeoutSec }) => {
      const checks = [...new Set(wanted.flatMap(parseCheck))];
      const id = engine.resolve(vm).id;
      return waitReady(engine, id, checks, timeoutSec * 1000, (check, detail) =>
        engine.progress(id, 'wait', 0, `${check}: ${detail}`),
      );
    },
    'disk.info': ({ path }) => diskInfo(engine, path),
    // Served by the host server, which owns the picker's listener (server/picker.ts); the desktop
    // app has its native dialog (shell/pick.ts). Nothing reaches here but a caller without either.
    'picker.open': () => {
      throw new HangarError('UNSUPPORTED', 'The file picker is served by the host server (hangar serve).');
    },
    'picker.wait': () => {
      throw new HangarError('UNSUPPORTED', 'The file picker is served by the host server (hangar serve).');
    },
    ...labHandlers(engine),
    ...imageHandlers(engine),
    ...backupHandlers(engine),
    ...libvirtHandlers(engine),
    ...hostHandlers(engine),
  };
}

/** A dropped ISO or OVA the engine found (never a disk: find.ts), granted for what its kind needs. */
function withDropGrant(
  found: NonNullable<ApiResults['host.findDropped']>,
  grants: GrantTable,
): ApiResults['host.findDropped'] {
  return { ...found, grant: grants.grant(found.path, DROP_PURPOSE[dropKind(found.name)!]) };
}

/**
 * The UI sends no paths, so each ISO the engine found by itself (in use by a VM here, or in
 * ~/Downloads) comes with a grant; one the policy refuses now is left out of the lists.
 */
function withIsoGrants(found: ApiResults['host.isos'], grants: GrantTable): ApiResults['host.isos'] {
  const refs: Record<string, string> = {};
  const granted = (p: string) => {
    try {
      refs[p] ??= grants.grant(p, 'iso');
      return true;
    } catch {
      return false;
    }
  };
  return {
    recent: found.recent.filter(granted),
    downloads: found.downloads.filter(granted),
    grants: refs,
  };
}

/**
 * Errors from below the engine's own vocabulary (the QMP client, the file system) turned into
 * API errors with a code a client can act on. Without this they all arrived as INTERNAL.
 */
export function toApiError(err: unknown): unknown {
  if (err instanceof HangarError) return err;
  if (err instanceof QmpTimeoutError || err instanceof QmpEventTimeoutError) {
    const what = err instanceof QmpTimeoutError ? err.command : `the ${err.event} event`;
    return new HangarError(
      'TIMEOUT',
      `QEMU does not respond: no answer to ${what} within ${err.timeoutMs / 1000} s. The VM may be ` +
        'hung or stopped by a signal (SIGSTOP); if it does not recover, force it off. ' +
        'A command QEMU has not answered may still take effect if it recovers.',
      { command: what, timeoutMs: err.timeoutMs },
    );
  }
  if (err instanceof QmpDisconnectedError || err instanceof QmpStateError) {
    return new HangarError(
      'CONFLICT',
      `QEMU went away while the command was under way (the VM stopped or was stopped): ${err.message}`,
    );
  }
  if (err instanceof QmpCommandError)
    return new HangarError('QMP_ERROR', `QEMU refused ${err.command}: ${err.desc}`, {
      errorClass: err.errorClass,
    });
  const errno = (err as NodeJS.ErrnoException | null)?.code;
  if (errno === 'ENOSPC' || errno === 'EDQUOT')
    return new HangarError('IO_ERROR', `The disk is full: ${(err as Error).message}`, { errno });
  if (typeof errno === 'string' && /^E[A-Z]+$/.test(errno))
    return new HangarError('IO_ERROR', (err as Error).message, { errno });
  return err;
}

export interface Dispatcher {
  /**
   * Runs one method for a caller. Without a kind the caller is the user (the CLI in-process, the
   * engine's own tests and benchmarks); every transport that serves the UI passes 'renderer'.
   */
  call(method: string, params: unknown, caller?: CallerKind): Promise<unknown>;
  subscribe(listener: (event: string, data: unknown) => void): () => void;
  consoleSocket(vmId: string, kind: 'vnc' | 'serial'): string | null;
  /** A libvirt domain's console by its console id (remote.console), or null. */
  remoteConsole(id: string, kind: 'vnc' | 'serial'): ConsoleStream | null;
  /** For the trusted file dialogs: grants for files the user picked there. */
  files: FileGrants;
}

function insideAny(real: string, roots: readonly string[]): boolean {
  return roots.some((r) => real === r || real.startsWith(r.endsWith(sep) ? r : r + sep));
}

function sameChain(chain: BackingLink[], confirmed: string[] | undefined): boolean {
  return (
    confirmed !== undefined &&
    confirmed.length === chain.length &&
    chain.every((l, i) => l.path === confirmed[i])
  );
}

function fileGrants(engine: Engine, grants: GrantTable): FileGrants {
  return {
    home: () => engine.env.HOME ?? homedir(),
    isProtected: (real) => insideAny(real, engine.policy.protectedRoots),
    async grant(path, purpose, confirmChain) {
      let chain: BackingLink[] = [];
      if (purpose === 'disk') {
        const real = checkHostPath(engine.policy, path, 'disk image').path;
        try {
          const info = await engine.img.info(real);
          if (info.format === 'qcow2' || info.format === 'raw')
            chain = await backingChain(engine.img, engine.policy, real, info.format);
        } catch {
          // Not an image, or a chain that cannot be used at all: disk.info says what is wrong and
          // the engine refuses it when it is used; there is no chain to confirm here.
        }
        if (chain.length > 0 && !sameChain(chain, confirmChain)) return { ok: false, chain };
      }
      const grant = grants.grant(path, purpose, chain.length > 0 ? chain.map((l) => l.path) : null);
      const real = grants.resolve(grant, purpose).path;
      return { ok: true, file: { grant, name: real.slice(real.lastIndexOf('/') + 1), path: real } };
    },
  };
}

export function createDispatcher(engine: Engine): Dispatcher {
  const table = handlers(engine);
  // One table per engine: the host server's picker, the Electron dialog and the API share it.
  const grants = new GrantTable(engine.policy);
  let fanOut: ReturnType<typeof fanOutEvents> | null = null;
  const ctx = {
    grants,
    recordedBoot: (vm: string) => {
      try {
        return engine.resolve(vm).directBoot;
      } catch {
        return null;
      }
    },
  };
  return {
    async call(method, params, caller = 'user') {
      if (!Object.hasOwn(ApiParams, method))
        throw new HangarError('INVALID_INPUT', `Unknown API method "${method}".`);
      const m = method as ApiMethod;
      const parsed = ApiParams[m].safeParse(params ?? {});
      if (!parsed.success) throw new HangarError('INVALID_INPUT', describeZodError(parsed.error));
      try {
        const request = resolveCallerPaths(m, parsed.data, caller, ctx);
        const result = await (table[m] as (p: unknown) => unknown)(request);
        if (caller === 'renderer' && m === 'host.findDropped' && result)
          return withDropGrant(result as NonNullable<ApiResults['host.findDropped']>, grants);
        return caller === 'renderer' && m === 'host.isos'
          ? withIsoGrants(result as ApiResults['host.isos'], grants)
          : result;
      } catch (err) {
        throw toApiError(err);
      }
    },
    files: fileGrants(engine, grants),
    subscribe(listener) {
      // One set of engine listeners per dispatcher, however many clients: 50 browser tabs must
      // not mean 250 listeners on the engine (and Node's MaxListeners warning).
      if (!fanOut) {
        fanOut = fanOutEvents(engine);
        // A front end that mirrors the engine shows readiness and live figures: start both.
        readinessOf(engine).enable();
        statsOf(engine).enable();
      }
      return fanOut.add(listener);
    },
    consoleSocket(vmId, kind) {
      // One VM's own file, not a listing of them all: consoles open often, with many VMs.
      if (!VmId.safeParse(vmId).success || !existsSync(engine.paths(vmId).configFile)) return null;
      const s = engine.runtime(vmId).state;
      if (s !== 'running' && s !== 'paused') return null;
      const p = engine.paths(vmId);
      return kind === 'vnc' ? p.vncSocket : p.serialSocket;
    },
    remoteConsole(id, kind) {
      return VmId.safeParse(id).success ? hostsOf(engine).openConsole(id, kind) : null;
    },
  };
}
