// Retention for this VM's backups: how many to keep (the newest N, one a day, one a week), a
// preview of what that removes (a dry run of the engine's own selection, so the two never differ),
// and the prune itself after a yes that lists what goes. When that prune rewrites an encrypted
// point (one built on a point that goes), the yes also asks for the passphrase, used once.
import { useState } from 'react';
import type { VmSummary } from '../../../../shared/api-types';
import type { BackupListEntry } from '../../../../shared/backup';
import { api } from '../../api/client';
import { attempt, notify } from '../../store/notices';
import { useAskPassphrase } from './AskPassphrase';
import { useConfirm } from './Confirm';
import { pruneNeedsKey } from './passphrase';
import { PrunePlanList } from './PrunePlanList';
import { parseKeep, prunePlan, type Keep, type KeepFields, type PrunePlan } from './retention';

const FIELDS: { key: keyof KeepFields; label: string }[] = [
  { key: 'last', label: 'Keep last' },
  { key: 'daily', label: 'Keep daily' },
  { key: 'weekly', label: 'Keep weekly' },
];

export function PruneForm(p: {
  vm: VmSummary;
  backups: BackupListEntry[];
  working: string | null;
  setWorking: (w: string | null) => void;
  onPruned: () => Promise<void>;
}) {
  const [fields, setFields] = useState<KeepFields>({ last: '3', daily: '0', weekly: '0' });
  // A preview is only true of the numbers and the list it was made for: a change of either hides it.
  const [preview, setPreview] = useState<{ plan: PrunePlan; of: BackupListEntry[] } | null>(null);
  const shown = preview?.of === p.backups ? preview.plan : null;
  const [dialog, ask] = useConfirm();
  const [passphraseDialog, askPassphrase] = useAskPassphrase();
  const { keep, error } = parseKeep(fields);

  const plan = async (k: Keep) => {
    const r = await attempt('Could not work out what to prune', () =>
      api('backup.prune', { vm: p.vm.id, ...k, dryRun: true }),
    );
    return r ? { plan: prunePlan(r, p.backups), needsKey: pruneNeedsKey(r, p.backups) } : null;
  };
  const showPreview = async (k: Keep) => {
    p.setWorking('prune-preview');
    const r = await plan(k);
    p.setWorking(null);
    if (r) setPreview({ plan: r.plan, of: p.backups });
  };
  const prune = async (k: Keep) => {
    // "Pruning" only once the user said yes: until then nothing is being removed.
    p.setWorking('prune-ask');
    try {
      const planned = await plan(k);
      if (!planned) return;
      const r = planned.plan;
      setPreview({ plan: r, of: p.backups });
      if (r.removed.length === 0)
        return notify('info', 'Nothing to prune', 'This policy keeps every backup.');
      const question = {
        title: `Remove ${r.removed.length} of the backups of ${p.vm.name}?`,
        message: (
          <>
            <p>Removed backups are gone for good; every kept one still restores.</p>
            {planned.needsKey && (
              <p data-testid="prune-key-why">
                An encrypted backup is built on one that goes: it is rewritten with that one&apos;s data,
                which needs the passphrase of these backups.
              </p>
            )}
            <PrunePlanList plan={r} />
          </>
        ),
        confirmLabel: `Remove ${r.removed.length}`,
      };
      let key: { passphrase: string } | null = null;
      if (planned.needsKey) {
        const passphrase = await askPassphrase({ ...question, danger: true });
        if (passphrase === null) return;
        key = { passphrase };
      } else if (!(await ask(question))) return;
      p.setWorking('prune');
      const done = await attempt('Could not prune the backups', () =>
        api('backup.prune', { vm: p.vm.id, ...k, dryRun: false, key }),
      );
      if (!done) return;
      notify('info', 'Backups pruned', `${done.removed.length} removed, ${done.kept.length} kept.`);
      await p.onPruned();
    } finally {
      p.setWorking(null);
    }
  };

  const busy = p.working !== null;
  return (
    <section className="rb-section" aria-labelledby="bk-retention">
      <h2 id="bk-retention">Retention</h2>
      <p>
        Keep last N keeps the newest N backups; keep daily N, the newest of each of the last N days that have
        one; keep weekly N, the same for weeks (days and weeks in UTC). The others are removed. A removed
        backup that a kept one is built on is merged into it first, so every kept backup still restores.
      </p>
      <form
        className="retention-form"
        aria-label="Retention"
        onSubmit={(e) => {
          e.preventDefault();
          if (keep) void showPreview(keep);
        }}
      >
        <div className="retention-fields">
          {FIELDS.map((f) => (
            <label key={f.key}>
              {f.label}
              <input
                type="number"
                min={0}
                max={100_000}
                step={1}
                data-testid={`prune-keep-${f.key}`}
                value={fields[f.key]}
                aria-invalid={error !== null}
                aria-describedby={error ? 'prune-error' : undefined}
                onChange={(e) => {
                  setFields((v) => ({ ...v, [f.key]: e.target.value }));
                  setPreview(null);
                }}
              />
            </label>
          ))}
        </div>
        {error && (
          <p id="prune-error" className="field-error" data-testid="prune-error">
            {error}
          </p>
        )}
        <div className="rb-actions">
          <button type="submit" data-testid="prune-preview" disabled={busy || keep === null}>
            {p.working === 'prune-preview' ? 'Working it out…' : 'Preview'}
          </button>
          <button
            type="button"
            className="danger"
            data-testid="prune-run"
            disabled={busy || keep === null}
            onClick={() => keep && void prune(keep)}
          >
            {p.working === 'prune' ? 'Pruning…' : 'Prune…'}
          </button>
        </div>
      </form>
      {shown && (
        <div role="status" className="retention-preview" data-testid="prune-plan">
          <PrunePlanList plan={shown} />
        </div>
      )}
      {dialog}
      {passphraseDialog}
    </section>
  );
}
