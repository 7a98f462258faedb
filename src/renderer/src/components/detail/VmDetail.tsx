import type { Tab } from '../../store/ui';

export function VmDetail({ id, tab }: { id: string; tab: Tab }) {
  return (
    <p>
      VM {id}, tab {tab}: arrives here.
    </p>
  );
}
