// An engine process that the restart-safety test kills at a random moment: it opens the engine
// (re-adopting what runs), then performs random operations (start, force stop, snapshot, snapshot
// delete, clone, create, delete) for ever, printing "op NAME" before and "end NAME" after each.
// Arguments: the ids of the VMs that must survive (they are never deleted).
import { Engine } from '../../src/main/engine/engine';
import { createSnapshot, deleteSnapshot, listSnapshots } from '../../src/main/engine/snapshots';
import { toApiError } from '../../src/main/api/dispatch';
import { cloneVm, deleteVm } from '../../src/main/engine/vms/manage';
import { HangarError } from '../../src/shared/errors';
import { createVm } from '../../src/main/engine/vms/create';
import { CreateVmRequest } from '../../src/shared/requests';

// The test guest's files, from the parent (test/support/guest.ts is CommonJS-only).
const g = JSON.parse(process.env.CHAOS_GUEST!) as { kernel: string; initrd: string; cmdline: string };
const makeVm = (name: string) =>
  createVm(
    CreateVmRequest.parse({
      name,
      osType: 'linux',
      cpus: 1,
      memoryMiB: 128,
      disk: { kind: 'new', size: '64M' },
      directBoot: { kernel: g.kernel, initrd: g.initrd, cmdline: g.cmdline },
    }),
    { store: engine.store, host: engine.host, img: engine.img, policy: engine.policy },
  );

const keep = new Set(process.argv.slice(2));
const engine = await Engine.open();
console.log('ready');

const pick = <T>(xs: T[]): T | undefined => xs[Math.floor(Math.random() * xs.length)];
const vms = () => engine.list().filter((v) => !v.error);
const main = () => vms().filter((v) => keep.has(v.id));
const extras = () => vms().filter((v) => !keep.has(v.id));
const up = (s: string) => s === 'running' || s === 'paused';

type Op = [name: string, weight: number, run: () => Promise<unknown> | null];
const ops: Op[] = [
  [
    'start',
    4,
    () => {
      const v = pick(main().filter((x) => !up(x.state)));
      return v ? engine.start(v.id) : null;
    },
  ],
  [
    'stop',
    2,
    () => {
      const v = pick(main().filter((x) => up(x.state)));
      return v ? engine.stop(v.id, { force: true }) : null;
    },
  ],
  [
    'snapshot',
    3,
    () => {
      const v = pick(main().filter((x) => engine.store.load(x.id).snapshots.length < 2));
      return v ? createSnapshot(engine, v.id, `s${Date.now()}`) : null;
    },
  ],
  [
    'snapshot-delete',
    3,
    () => {
      // From the list, so that tags left by an interrupted snapshot are deleted too.
      const v = pick(main());
      return v
        ? listSnapshots(engine, v.id).then((l) => (l[0] ? deleteSnapshot(engine, v.id, l[0].id) : null))
        : null;
    },
  ],
  [
    'clone',
    2,
    () => {
      const v = pick(main().filter((x) => !up(x.state)));
      return v && extras().length < 4 ? cloneVm(engine, v.id, `clone-${Date.now()}`) : null;
    },
  ],
  ['create', 1, () => (extras().length < 4 ? makeVm(`extra-${Date.now()}`) : null)],
  [
    'delete',
    2,
    () => {
      const v = pick(extras());
      return v ? deleteVm(engine, v.id) : null;
    },
  ],
];
// CHAOS_OPS=start,stop limits the operations (the test aims some kills at starts).
const only = process.env.CHAOS_OPS?.split(',');
if (only) ops.splice(0, ops.length, ...ops.filter(([name]) => only.includes(name)));
const total = ops.reduce((n, [, w]) => n + w, 0);

for (;;) {
  let r = Math.random() * total;
  const [name, , run] = ops.find(([, w]) => (r -= w) < 0) ?? ops[0]!;
  let p: Promise<unknown> | null;
  try {
    p = run();
  } catch (err) {
    p = Promise.reject(err);
  }
  if (!p) {
    await new Promise((r) => setImmediate(r));
    continue;
  }
  console.log(`op ${name}`);
  try {
    await p;
    console.log(`end ${name} ok`);
  } catch (raw) {
    // Classified as the API would answer it.
    const err = toApiError(raw);
    const code = err instanceof HangarError ? err.code : 'INTERNAL';
    console.log(`end ${name} ${code} ${(err as Error).message.split('\n')[0]}`);
  }
}
