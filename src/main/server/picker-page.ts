// The file picker's pages: plain HTML with links and forms, so it works from the keyboard and
// with a screen reader as any web form does, and needs no script beyond closing its window when
// done. Every value from the file system is escaped; URLs are built with URLSearchParams.
import type { PickedFile, PickPurpose } from '../../shared/requests';
import type { BackingLink } from '../../shared/vm';
import { PURPOSE_FILTER_LABEL, type Listing } from './picker-files';

const TITLE: Readonly<Record<PickPurpose, string>> = {
  iso: 'Choose an ISO image',
  disk: 'Choose a disk image',
  kernel: 'Choose a kernel',
  initrd: 'Choose an initrd',
  file: 'Choose a file',
  folder: 'Choose a folder to share',
};

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

export function sizeLabel(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let n = bytes;
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 || Number.isInteger(n) ? n : n.toFixed(1)} ${units[i]}`;
}

export interface ViewOptions {
  allFiles: boolean;
  showHidden: boolean;
}

/** A link to a folder of this picker, keeping the view options. Relative to the session's page. */
export function folderHref(dir: string, view: ViewOptions, select?: string): string {
  const q = new URLSearchParams({ dir });
  if (view.allFiles) q.set('all', '1');
  if (view.showHidden) q.set('hidden', '1');
  if (select) q.set('sel', select);
  return `./?${q.toString()}`;
}

function page(title: string, body: string, extra = ''): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${escapeHtml(title)} · Hangar</title>
<link rel="stylesheet" href="/assets/picker.css"><script src="/assets/picker.js" defer></script>
</head><body${extra}><main>
${body}
</main></body></html>
`;
}

function crumbs(dir: string, view: ViewOptions): string {
  const parts = dir.split('/').filter(Boolean);
  const items = [`<li><a href="${escapeHtml(folderHref('/', view))}">Computer</a></li>`];
  parts.forEach((name, i) => {
    const path = `/${parts.slice(0, i + 1).join('/')}`;
    items.push(
      i === parts.length - 1
        ? `<li aria-current="location">${escapeHtml(name)}</li>`
        : `<li><a href="${escapeHtml(folderHref(path, view))}">${escapeHtml(name)}</a></li>`,
    );
  });
  return `<nav aria-label="Folder"><ol class="crumbs" data-testid="picker-crumbs">${items.join('')}</ol></nav>`;
}

export interface ListingPage {
  purpose: PickPurpose;
  listing: Listing | null;
  /** Where the location box points (the listed folder, or what the user typed). */
  location: string;
  select: string | null;
  error: string | null;
  view: ViewOptions;
}

export function renderListing(p: ListingPage): string {
  const { listing, view } = p;
  const out: string[] = [`<h1>${TITLE[p.purpose]}</h1>`];
  if (p.error)
    out.push(`<p class="error" role="alert" data-testid="picker-error">${escapeHtml(p.error)}</p>`);
  out.push(
    `<form method="get" action="./" class="goto">` +
      `<label for="location">Location</label>` +
      `<input id="location" name="dir" value="${escapeHtml(p.location)}" spellcheck="false" autocomplete="off" data-testid="picker-location">` +
      (view.allFiles ? '<input type="hidden" name="all" value="1">' : '') +
      (view.showHidden ? '<input type="hidden" name="hidden" value="1">' : '') +
      `<button type="submit" data-testid="picker-go">Go</button></form>`,
  );
  if (listing) {
    out.push(crumbs(listing.dir, view));
    const toggles = [
      p.purpose === 'folder'
        ? null
        : view.allFiles
          ? `<a href="${escapeHtml(folderHref(listing.dir, { ...view, allFiles: false }))}">Show only ${PURPOSE_FILTER_LABEL[p.purpose]}</a>`
          : `<a href="${escapeHtml(folderHref(listing.dir, { ...view, allFiles: true }))}" data-testid="picker-all">Show all files</a>`,
      view.showHidden
        ? `<a href="${escapeHtml(folderHref(listing.dir, { ...view, showHidden: false }))}">Hide hidden files</a>`
        : `<a href="${escapeHtml(folderHref(listing.dir, { ...view, showHidden: true }))}">Show hidden files</a>`,
    ];
    out.push(`<p class="toggles">${toggles.filter(Boolean).join(' · ')}</p>`);
    const dirs = [
      ...(listing.parent !== null
        ? [
            `<li><a href="${escapeHtml(folderHref(listing.parent, view))}" data-testid="picker-up">.. (up one folder)</a></li>`,
          ]
        : []),
      ...listing.dirs.map(
        (d) =>
          `<li><a href="${escapeHtml(folderHref(d.path, view))}" data-testid="picker-dir">${escapeHtml(d.name)}/</a></li>`,
      ),
    ];
    out.push(
      `<h2 id="folders-h">Folders</h2><ul class="dirs" aria-labelledby="folders-h">${dirs.join('')}</ul>`,
    );
    const files = listing.files.map((f, i) => {
      const checked = p.select === f.path;
      return (
        `<li><input type="radio" name="path" id="f${i}" value="${escapeHtml(f.path)}"` +
        `${i === 0 ? ' required' : ''}${checked ? ' checked autofocus' : ''} data-testid="picker-file">` +
        `<label for="f${i}">${escapeHtml(f.name)}</label> <span class="size">${sizeLabel(f.size)}</span></li>`
      );
    });
    const notes: string[] = [];
    if (listing.filtered)
      notes.push(
        `${listing.filtered} other file${listing.filtered === 1 ? '' : 's'} not shown (Show all files).`,
      );
    if (listing.hidden)
      notes.push(`${listing.hidden} hidden name${listing.hidden === 1 ? '' : 's'} not shown.`);
    if (listing.truncated) notes.push(`${listing.truncated} more entries not read.`);
    if (p.purpose === 'folder') {
      out.push(shareForm(listing, view));
      return page(TITLE[p.purpose], out.join('\n'));
    }
    out.push(
      `<form method="post" action="choose" class="files">` +
        `<input type="hidden" name="dir" value="${escapeHtml(listing.dir)}">` +
        (view.allFiles ? '<input type="hidden" name="all" value="1">' : '') +
        (view.showHidden ? '<input type="hidden" name="hidden" value="1">' : '') +
        `<fieldset><legend>Files in ${escapeHtml(listing.dir)}</legend>` +
        (files.length
          ? `<ul class="files-list">${files.join('')}</ul>`
          : '<p class="muted">No files to choose here.</p>') +
        (notes.length ? `<p class="muted">${escapeHtml(notes.join(' '))}</p>` : '') +
        `</fieldset>` +
        `<p class="muted">Hangar's own data is never listed: the files of its VMs cannot be attached to another.</p>` +
        `<div class="actions"><button type="submit" formaction="cancel" formnovalidate data-testid="picker-cancel">Cancel</button>` +
        `<button type="submit" class="primary" data-testid="picker-use">Use this file</button></div></form>`,
    );
  } else {
    out.push(
      `<form method="post" action="cancel"><div class="actions"><button type="submit" data-testid="picker-cancel">Cancel</button></div></form>`,
    );
  }
  return page(TITLE[p.purpose], out.join('\n'));
}

/** A folder is chosen by opening it and sharing the folder on screen; its files are only shown. */
function shareForm(listing: Listing, view: ViewOptions): string {
  const files = listing.files.length + listing.filtered;
  return (
    `<form method="post" action="choose" class="files">` +
    `<input type="hidden" name="path" value="${escapeHtml(listing.dir)}">` +
    (view.showHidden ? '<input type="hidden" name="hidden" value="1">' : '') +
    `<p>The guest will see <code data-testid="picker-folder">${escapeHtml(listing.dir)}</code> and everything ` +
    `below it${files ? ` (${files} file${files === 1 ? '' : 's'} here)` : ''}, and may change it.</p>` +
    `<p class="muted">A folder that holds Hangar's own data cannot be shared: the guest would reach every VM's disks.</p>` +
    `<div class="actions"><button type="submit" formaction="cancel" formnovalidate data-testid="picker-cancel">Cancel</button>` +
    `<button type="submit" class="primary" data-testid="picker-use">Share this folder</button></div></form>`
  );
}

/** A disk built on other files: the user confirms that very chain here, where the page cannot. */
export function renderChain(purpose: PickPurpose, path: string, chain: BackingLink[], back: string): string {
  const rows = chain
    .map((l) => `<li><code>${escapeHtml(l.path)}</code> (${escapeHtml(l.format)})</li>`)
    .join('');
  const hidden = chain
    .map((l) => `<input type="hidden" name="chain" value="${escapeHtml(l.path)}">`)
    .join('');
  return page(
    TITLE[purpose],
    `<h1>${TITLE[purpose]}</h1>
<form method="post" action="choose">
<input type="hidden" name="path" value="${escapeHtml(path)}">${hidden}
<fieldset><legend><code>${escapeHtml(path)}</code> is built on other files</legend>
<p>A VM using this image reads these files too, nearest first:</p>
<ol class="chain" data-testid="picker-chain">${rows}</ol>
<p><input type="checkbox" id="trust" name="trust" value="1" required data-testid="picker-trust">
<label for="trust">I trust these files</label></p>
</fieldset>
<div class="actions"><a href="${escapeHtml(back)}">Back</a>
<button type="submit" class="primary" data-testid="picker-use">Use this file</button></div>
</form>`,
  );
}

export function renderDone(file: PickedFile): string {
  return page(
    'File chosen',
    `<h1>File chosen</h1>
<p role="status" data-testid="picker-done">Hangar will use <strong>${escapeHtml(file.name)}</strong>
(<code>${escapeHtml(file.path)}</code>). You can close this window.</p>`,
    ' data-done="1"',
  );
}

export function renderMessage(title: string, text: string): string {
  return page(
    title,
    `<h1>${escapeHtml(title)}</h1><p role="status" data-testid="picker-message">${escapeHtml(text)}</p>`,
    ' data-done="1"',
  );
}

export const PICKER_CSS = `
:root { color-scheme: light dark; font-family: system-ui, sans-serif; font-size: 15px; }
body { margin: 0; background: Canvas; color: CanvasText; }
main { max-width: 56rem; margin: 0 auto; padding: 1rem 1.25rem 2rem; }
h1 { font-size: 1.3rem; margin: 0 0 .75rem; }
h2 { font-size: 1rem; margin: 1rem 0 .25rem; }
a { color: LinkText; }
:focus-visible { outline: 2px solid Highlight; outline-offset: 2px; }
.goto { display: flex; gap: .5rem; align-items: center; }
.goto input { flex: 1; font: inherit; padding: .3rem .4rem; }
.crumbs { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem; padding: 0; margin: .75rem 0 .25rem; }
.crumbs li + li::before { content: '/'; margin-right: .25rem; opacity: .6; }
.toggles { margin: .25rem 0; }
ul.dirs, ul.files-list { list-style: none; padding: 0; margin: 0; max-height: 40vh; overflow: auto; }
ul.dirs li, ul.files-list li { padding: .15rem 0; }
.size, .muted { opacity: .7; }
fieldset { border: 1px solid GrayText; border-radius: 4px; margin: .75rem 0; }
legend { padding: 0 .25rem; word-break: break-all; }
.error { color: #c62828; font-weight: 600; }
.actions { display: flex; gap: .75rem; justify-content: flex-end; align-items: center; }
button { font: inherit; padding: .35rem .9rem; }
button.primary { font-weight: 600; }
code { word-break: break-all; }
`;

/** The picker's one script: a finished picker closes its own window (it was opened by script). */
export const PICKER_JS = `
if (document.body && document.body.dataset.done) setTimeout(function () { window.close(); }, 1500);
`;
