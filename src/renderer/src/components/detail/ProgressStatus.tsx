// A slow operation's latest step and percentage (the engine's `progress` events for this VM).
import { useVms } from '../../store/vms';

export function ProgressStatus({ id, testId }: { id: string; testId: string }) {
  const progress = useVms((s) => s.progress[id]);
  if (!progress) return null;
  return (
    <div className="snap-progress" role="status" data-testid={testId}>
      <span>
        {progress.operation}: {progress.step}
      </span>
      <progress max={100} value={progress.percent} aria-label={progress.operation} />
    </div>
  );
}
