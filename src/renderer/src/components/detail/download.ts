// Saving bytes the engine sent as a file the user keeps, without any Node API in the renderer.
export function downloadBase64(base64: string, fileName: string, type: string): void {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.appendChild(a);
  a.click();
  a.remove();
  // The click starts the download synchronously; revoking later avoids racing it in slow browsers.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** "web-01" + now -> "web-01-2025-01-31-142501.png": sortable and safe on every file system. */
export function screenshotName(vmName: string, now = new Date()): string {
  const safe = vmName.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'vm';
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}-${p(now.getMonth() + 1)}-${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  return `${safe}-${stamp}.png`;
}
