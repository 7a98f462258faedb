// Where the user is, kept in the URL hash so reloads and the back button keep their place:
// #/ (the VM cards), #/new (the wizard), #/labs, #/library, #/vm/<id>/<tab>.
import { create } from 'zustand';

export const TABS = [
  'console',
  'serial',
  'monitor',
  'snapshots',
  'rollback',
  'backups',
  'performance',
  'settings',
  'log',
] as const;
export type Tab = (typeof TABS)[number];

export type Route =
  | { kind: 'list' }
  | { kind: 'new' }
  | { kind: 'labs' }
  | { kind: 'library' }
  | { kind: 'hosts' }
  | { kind: 'vm'; id: string; tab: Tab };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  if (parts[0] === 'new') return { kind: 'new' };
  if (parts[0] === 'labs') return { kind: 'labs' };
  if (parts[0] === 'library') return { kind: 'library' };
  if (parts[0] === 'hosts') return { kind: 'hosts' };
  if (parts[0] === 'vm' && parts[1] && /^[a-z0-9]{12}$/.test(parts[1])) {
    const tab = (TABS as readonly string[]).includes(parts[2] ?? '') ? (parts[2] as Tab) : 'console';
    return { kind: 'vm', id: parts[1], tab };
  }
  return { kind: 'list' };
}

export function routeHash(r: Route): string {
  if (r.kind === 'new') return '#/new';
  if (r.kind === 'labs') return '#/labs';
  if (r.kind === 'library') return '#/library';
  if (r.kind === 'hosts') return '#/hosts';
  if (r.kind === 'vm') return `#/vm/${r.id}/${r.tab}`;
  return '#/';
}

export const useRoute = create<{ route: Route }>(() => ({ route: parseRoute(location.hash) }));

export function navigate(r: Route): void {
  location.hash = routeHash(r);
}

window.addEventListener('hashchange', () => useRoute.setState({ route: parseRoute(location.hash) }));
