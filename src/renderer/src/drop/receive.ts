// Turning a File dropped on the window into a file the engine granted, without the page naming a
// path: the desktop app asks main (which knows the path and asks the user); a browser first asks
// the engine to find the same file (name, size, time) where such files usually are, and only
// otherwise uploads a copy into ~/Downloads through the host server (server/upload.ts).
import { dropKind, dropRefusal, type DropKind } from '../../../shared/drop';
import type { ErrorData } from '../../../shared/errors';
import type { PickedFile } from '../../../shared/requests';
import { api } from '../api/client';
import { RemoteError } from '../api/transport';

export interface Dropped {
  kind: DropKind;
  file: PickedFile;
  /** True when a copy was uploaded (the browser could not say where the file was). */
  copied: boolean;
}

function upload(file: File, onProgress: (fraction: number) => void): Promise<PickedFile> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    // Relative: the page lives under the server's secret base path, and so does /upload.
    xhr.open('PUT', `upload?name=${encodeURIComponent(file.name)}`);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onerror = () => reject(new Error(`Uploading ${file.name} failed: the connection broke.`));
    xhr.onload = () => {
      type Answer = { ok: boolean; file?: PickedFile; error?: ErrorData };
      const body = ((): Answer | null => {
        try {
          return JSON.parse(xhr.responseText) as Answer;
        } catch {
          return null; // not our JSON (a proxy, an old server): said below
        }
      })();
      if (body?.ok && body.file) resolve(body.file);
      else if (body?.error) reject(new RemoteError(body.error));
      else reject(new Error(`Uploading ${file.name} failed (HTTP ${xhr.status}).`));
    };
    xhr.send(file);
  });
}

/** null: the user declined (the desktop app's confirmation). Throws with a message to show. */
export async function receiveDrop(
  file: File,
  onProgress: (fraction: number) => void,
): Promise<Dropped | null> {
  const kind = dropKind(file.name);
  if (!kind) throw new Error(dropRefusal(file.name));
  const native = window.hangar?.dropFile;
  if (native) {
    const r = await native(file);
    if (!r.ok) throw new RemoteError(r.error);
    return r.result && { kind, file: r.result, copied: false };
  }
  const found = await api('host.findDropped', {
    name: file.name,
    size: file.size,
    modifiedMs: file.lastModified,
  });
  if (found?.grant)
    return { kind, file: { grant: found.grant, name: found.name, path: found.path }, copied: false };
  return { kind, file: await upload(file, onProgress), copied: true };
}
