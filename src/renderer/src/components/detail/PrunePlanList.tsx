// What a prune removes and keeps, as the preview shows it and the confirmation repeats it.
import { useId } from 'react';
import type { PrunePlan } from './retention';

export function PrunePlanList({ plan }: { plan: PrunePlan }) {
  // The preview and the confirmation can be on the page at once: their headings need their own ids.
  const id = useId();
  if (plan.removed.length === 0)
    return <p data-testid="prune-nothing">Nothing would be removed: this policy keeps every backup.</p>;
  return (
    <div className="retention-plan">
      <h3 id={`${id}-removed`}>
        Removed ({plan.removed.length} of {plan.removed.length + plan.kept.length})
      </h3>
      <ul aria-labelledby={`${id}-removed`}>
        {plan.removed.map((p) => (
          <li key={p.id} data-testid="prune-removed" data-id={p.id}>
            {p.when}
            {/* A later backup is built on this one: it takes this one's data, so it still restores. */}
            {p.mergedInto && <span className="muted"> (its data is merged into {p.mergedInto})</span>}
          </li>
        ))}
      </ul>
      <h3 id={`${id}-kept`}>Kept ({plan.kept.length})</h3>
      <ul aria-labelledby={`${id}-kept`}>
        {plan.kept.map((p) => (
          <li key={p.id} data-testid="prune-kept" data-id={p.id}>
            {p.when}
            {p.heldBy && (
              <span className="muted"> (&quot;{p.heldBy}&quot; still reads it: an instant restore)</span>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}
