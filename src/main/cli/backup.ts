// `hangar backup create | list | verify | restore` (engine/backup). Progress shows on stderr.
import { resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { HangarError } from '../../shared/errors';
import type { BackupKey, BackupListEntry } from '../../shared/backup';
import { readFileSync } from 'node:fs';
import { formatSize } from '../engine/storage/size';
import { call, type Ctx } from './commands';
import { EXIT } from './exit';
import { int, need, path, str } from './options';

const USE_BACKUP =
  'Use: hangar backup create VM [--full] | list [VM] | verify BACKUP [--full | --drill [--for CHECK]] | restore BACKUP --name NAME [--instant] | restore BACKUP --in-place [--yes] | export BACKUP|VM FILE | import FILE --name NAME' +
  ' | prune VM [--keep-last N] [--keep-daily N] [--keep-weekly N] [--dry-run]' +
  ' (each takes --repository DIR, the default being $HANGAR_HOME/backups; and --passphrase-file FILE or' +
  ' --key-file FILE: create encrypts with it, the others open encrypted backups with it)';

function row(b: BackupListEntry): string {
  const why = b.kind === 'full' && b.fullReason ? `  (full: ${b.fullReason})` : '';
  return `${b.id}  ${b.vmName}  ${b.kind.padEnd(11)} ${formatSize(b.size).padStart(9)}  ${b.consistency}${b.live ? ', live' : ''}${b.encrypted ? ', encrypted' : ''}${why}`;
}

/**
 * The key of an encrypted backup: --passphrase-file (its first line, as a passphrase) or
 * --key-file (the file's bytes, read by the engine). Never an argument: others can read those.
 */
function keyOf(ctx: Ctx): BackupKey | null {
  const pass = path(ctx.values, 'passphrase-file');
  const file = path(ctx.values, 'key-file');
  if (pass && file) throw new HangarError('INVALID_INPUT', 'Give --passphrase-file or --key-file, not both.');
  if (file) return { keyFile: file };
  if (!pass) return null;
  let text: string;
  try {
    text = readFileSync(pass, 'utf8');
  } catch (err) {
    throw new HangarError('INVALID_INPUT', `Cannot read the passphrase file: ${(err as Error).message}`);
  }
  const passphrase = text.split(/\r?\n/)[0] ?? '';
  if (!passphrase)
    throw new HangarError('INVALID_INPUT', `The passphrase file ${pass} starts with an empty line.`);
  return { passphrase };
}

/** verify --drill: the point booted in a throwaway VM with no network; exit 1 when it did not come up. */
async function drill(ctx: Ctx, id: string, repository: string | null): Promise<number> {
  const r = await call(ctx, 'backup.drill', {
    backup: id,
    for: [ctx.values.for ?? []].flat().map(String),
    ...(int(ctx.values, 'timeout') ? { timeoutSec: int(ctx.values, 'timeout') } : {}),
    repository,
    key: keyOf(ctx),
  });
  const evidence = r.screenshot ? `\nScreen at that moment: ${r.screenshot}` : '';
  ctx.print(
    r,
    r.ok
      ? `Backup ${r.backup} boots: ${r.detail} (${r.seconds} s, no network; the drill VM is deleted).${evidence}`
      : `Backup ${r.backup} did NOT boot as expected: ${r.detail}${evidence}`,
  );
  return r.ok ? EXIT.ok : EXIT.failed;
}

export async function backup(ctx: Ctx): Promise<number | void> {
  const [sub, arg] = ctx.args;
  const repository = path(ctx.values, 'repository') ?? null;
  switch (sub) {
    case 'create': {
      const r = await call(ctx, 'backup.create', {
        vm: need(arg, 'the VM'),
        repository,
        full: ctx.values.full === true,
        key: keyOf(ctx),
      });
      const why = r.kind === 'full' ? ` Full because ${r.fullReason}.` : ` On top of ${r.parent}.`;
      const warn = r.warning ? `\nNote: ${r.warning}` : '';
      ctx.print(
        r,
        `Backup ${r.id}: ${r.kind}, ${formatSize(r.size)}, ${r.consistency}${r.live ? ' (live)' : ''}${r.encrypted ? ', encrypted' : ''}, in ${r.dir}.${why}${warn}`,
      );
      return;
    }
    case 'export': {
      const target = ctx.args[2];
      const r = await call(ctx, 'backup.export', {
        backup: need(arg, 'the backup id or the VM'),
        file: resolve(need(target, 'the archive file to write')),
        repository,
      });
      ctx.print(
        r,
        `Wrote ${r.file} (${formatSize(r.bytes)}): "${r.vm}" as of backup ${r.backup}. On the other machine: hangar backup import ${r.file} --name NAME.`,
      );
      return;
    }
    case 'import': {
      const name = str(ctx.values, 'name');
      if (!name)
        throw new HangarError('INVALID_INPUT', 'Name the new VM: hangar backup import FILE --name NAME.');
      const vm = await call(ctx, 'backup.import', {
        file: resolve(need(arg, 'the archive file')),
        name,
        key: keyOf(ctx),
      });
      ctx.print(
        vm,
        `Imported "${vm.name}" (${vm.id}) from ${arg}; its backups are in the repository too. Start it with hangar start ${vm.id}.`,
      );
      return;
    }
    case 'list':
    case 'ls': {
      const l = await call(ctx, 'backup.list', { vm: arg ?? null, repository });
      const lines = l.backups.map(row);
      for (const b of l.broken) lines.push(`BROKEN  ${b.dir}: ${b.error}`);
      ctx.print(l, lines.join('\n') || `No backups in ${l.repository} (hangar backup create VM).`);
      return;
    }
    case 'verify': {
      if (ctx.values.drill === true)
        return drill(ctx, need(arg, 'the backup id (hangar backup list)'), repository);
      const r = await call(ctx, 'backup.verify', {
        backup: need(arg, 'the backup id (hangar backup list)'),
        mode: ctx.values.full === true ? 'full' : 'quick',
        repository,
        key: keyOf(ctx),
      });
      const problems = r.problems.map((p) => `  ${p.file}: ${p.problem}`).join('\n');
      ctx.print(
        r,
        r.ok
          ? `Backup ${r.backup} is intact (${r.mode}: ${r.chain.length} point${r.chain.length === 1 ? '' : 's'} checked).${r.source ? `\nIt was ${r.source}.` : ''}`
          : `Backup ${r.backup} is DAMAGED (${r.mode}):\n${problems}`,
      );
      return r.ok ? EXIT.ok : EXIT.failed;
    }
    case 'restore': {
      const name = str(ctx.values, 'name');
      if (ctx.values['in-place'] === true) {
        if (name)
          throw new HangarError('INVALID_INPUT', '--in-place restores into the VM itself: leave out --name.');
        const backup = need(arg, 'the backup id (hangar backup list)');
        await confirmReplace(ctx, backup);
        if (ctx.values.instant === true)
          throw new HangarError(
            'INVALID_INPUT',
            '--instant makes a new VM: leave out --in-place, or --instant.',
          );
        const r = await call(ctx, 'backup.restoreInPlace', { backup, repository, key: keyOf(ctx) });
        const chain = r.droppedBitmaps.length
          ? ' Its backup chain ended here: the next backup is a full one.'
          : '';
        ctx.print(
          r,
          `Restored backup ${backup} into "${r.vm.name}". What it held before is the snapshot "${r.keptAs}" ` +
            `(hangar snapshot revert ${r.vm.id} "${r.keptAs}" undoes the restore).${chain}`,
        );
        return;
      }
      if (!name)
        throw new HangarError(
          'INVALID_INPUT',
          'Name the new VM: hangar backup restore BACKUP --name NAME (or --in-place, into the VM it came from).',
        );
      const instant = ctx.values.instant === true;
      const vm = await call(ctx, 'backup.restore', {
        backup: need(arg, 'the backup id (hangar backup list)'),
        name,
        repository,
        instant,
        key: keyOf(ctx),
      });
      ctx.print(
        vm,
        instant
          ? `"${vm.name}" (${vm.id}) runs on backup ${arg}; its data is streamed in while it runs ` +
              `(hangar history ${vm.id} says when it is done; until then the backup must stay where it is).`
          : `Restored backup ${arg} as a new VM "${vm.name}" (${vm.id}); start it with hangar start ${vm.id}.`,
      );
      return;
    }
    case 'prune': {
      const keep = (name: string) => int(ctx.values, name) ?? 0;
      const r = await call(ctx, 'backup.prune', {
        vm: need(arg, 'the VM (or the id of a deleted one)'),
        keepLast: keep('keep-last'),
        keepDaily: keep('keep-daily'),
        keepWeekly: keep('keep-weekly'),
        dryRun: ctx.values['dry-run'] === true,
        repository,
        key: keyOf(ctx),
      });
      const would = r.dryRun ? 'Would remove' : 'Removed';
      const merged = r.merged.map((m) => `\n  ${m.point} merged into ${m.into} first`).join('');
      const held = r.held
        .map((h) => `\n  ${h.point} kept: "${h.vm}" still reads it (instant restore)`)
        .join('');
      ctx.print(
        r,
        r.removed.length
          ? `${would} ${r.removed.length} backup(s): ${r.removed.join(', ')}; kept ${r.kept.length}.${merged}${held}`
          : `Nothing to remove; the ${r.kept.length} backup(s) are all kept.${held}`,
      );
      return;
    }
    default:
      throw new HangarError('INVALID_INPUT', USE_BACKUP);
  }
}

/** Restoring in place replaces what the VM's disks hold now (kept as a snapshot): asked once, as a delete is. */
async function confirmReplace(ctx: Ctx, backup: string): Promise<void> {
  if (ctx.values.yes) return;
  if (!process.stdin.isTTY)
    throw new HangarError('INVALID_INPUT', 'Restoring in place needs --yes when not run from a terminal.');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question(
    `Replace the disks of the VM backup ${backup} was taken of with that backup? Their current state is kept as a snapshot. [y/N] `,
  );
  rl.close();
  if (!/^y(es)?$/i.test(answer.trim())) throw new HangarError('CONFLICT', 'Not restored.');
}
