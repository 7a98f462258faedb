// Choosing a host file. The page never names one itself: the engine refuses typed paths from the
// UI (src/main/api/callers.ts) and takes a grant for a file the user picked where this page cannot
// reach. In the desktop app that is main's native dialog (window.hangar.pickFile); in a browser,
// the host server's picker, a window on an origin of its own that answers the engine, not us: we
// open it and wait on the API for what the user chose there.
import type { ApiResults } from '../../../shared/api';
import type { PickedFile, PickPurpose } from '../../../shared/requests';
import { api } from './client';
import { RemoteError } from './transport';

export type { PickedFile, PickPurpose };

const POPUP_FEATURES = 'noopener,noreferrer,popup,width=760,height=640';

export async function pickFile(purpose: PickPurpose): Promise<PickedFile | null> {
  const native = window.hangar?.pickFile;
  if (native) {
    const r = await native(purpose);
    if (!r.ok) throw new RemoteError(r.error);
    return r.result;
  }
  const { id, url } = await api('picker.open', { purpose });
  // noopener: the picker needs nothing of this page, and (with both pages' opener policy) this
  // page keeps no handle on it. Still within the click's user activation, so no popup blocker.
  window.open(url, '_blank', POPUP_FEATURES);
  return api('picker.wait', { id });
}

/** host.isos as files the UI may use: each path with the grant the engine made for it. */
export function foundIsos(r: ApiResults['host.isos']): { recent: PickedFile[]; downloads: PickedFile[] } {
  const files = (paths: string[]) =>
    paths.flatMap((path) => {
      const grant = r.grants?.[path];
      return grant ? [{ grant, path, name: path.slice(path.lastIndexOf('/') + 1) || path }] : [];
    });
  return { recent: files(r.recent), downloads: files(r.downloads) };
}
