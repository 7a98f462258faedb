// A running guest's ways in, on its card and in the detail header: the ssh command to copy, web
// ports to open (in the system browser from the desktop app), other forwarded ports, and uptime.
import { useEffect, useState } from 'react';
import type { VmSummary } from '../../../../shared/api-types';
import { useVmConfig } from '../vm-config';
import { accessFor, uptimeLabel, type Access } from './access';
import { CopyButton } from '../CopyButton';

function useNow(everyMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}

function CopyText({ item }: { item: Access }) {
  return (
    <span className="access-item" data-testid={`access-${item.kind}`}>
      <code>{item.text}</code> <CopyButton text={item.text} />
    </span>
  );
}

export function AccessLinks({ vm, showSsh = true }: { vm: VmSummary; showSsh?: boolean }) {
  const config = useVmConfig(vm.id);
  const now = useNow(30_000);
  const up = vm.state === 'running' || vm.state === 'paused';
  if (!up) return null;
  const user = vm.readiness?.ssh?.user ?? config?.cloudInit?.user ?? null;
  const forwards = config?.nics.flatMap((n) => (n.mode === 'user' ? n.portForwards : [])) ?? [];
  const items = accessFor(forwards, user).filter((a) => showSsh || a.kind !== 'ssh');
  const uptime = vm.state === 'running' ? uptimeLabel(vm.last.at, now) : null;
  if (!items.length && !uptime) return null;
  return (
    <div className="access" data-testid="access">
      {uptime && (
        <span
          className="muted"
          data-testid="uptime"
          title={`Running since ${new Date(vm.last.at).toLocaleString()}`}
        >
          {uptime}
        </span>
      )}
      {items.map((item) =>
        item.href ? (
          <span className="access-item" key={item.text} data-testid="access-web">
            <a href={item.href} target="_blank" rel="noopener noreferrer">
              {item.text}
            </a>
          </span>
        ) : (
          <CopyText key={item.text} item={item} />
        ),
      )}
    </div>
  );
}
