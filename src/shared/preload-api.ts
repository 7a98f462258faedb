// What the preload script hands the renderer as window.hangar: the contract between the two,
// kept here because neither side may import the other.
import type { ErrorData } from './errors';
import type { PickedFile, PickPurpose } from './requests';

export interface PreloadApi {
  call(
    method: string,
    params: unknown,
  ): Promise<{ ok: true; result: unknown } | { ok: false; error: ErrorData }>;
  onEvent(listener: (event: string, data: unknown) => void): () => void;
  consoleUrl(kind: 'vnc' | 'serial', id: string): string;
  /** The desktop app's native file dialog; null when the user cancels. */
  pickFile(
    purpose: PickPurpose,
  ): Promise<{ ok: true; result: PickedFile | null } | { ok: false; error: ErrorData }>;
  /** A file dropped on the window (the desktop app knows its path); null when the user declines. */
  dropFile(file: File): Promise<{ ok: true; result: PickedFile | null } | { ok: false; error: ErrorData }>;
}
