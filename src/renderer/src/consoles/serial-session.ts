// The serial console of one VM: an xterm.js Terminal and the one WebSocket that feeds it. QEMU's
// serial chardev serves a single client, so a session never opens a second socket while one lives.
// The Terminal outlives reconnects, so what the guest printed before it stopped stays readable.
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { WebglAddon } from '@xterm/addon-webgl';
import '@xterm/xterm/css/xterm.css';
import { closeReason, Observable, type LinkStatus } from './observable';

let gpu: boolean | undefined;
/**
 * WebGL drawn by the CPU (SwiftShader, llvmpipe: Chromium with --disable-gpu, VMs without a GPU)
 * is slower than xterm's DOM renderer, so only a real GPU gets the WebGL addon. Asked once.
 */
function gpuWebgl(): boolean {
  if (gpu !== undefined) return gpu;
  const gl = document.createElement('canvas').getContext('webgl2');
  const info = gl?.getExtension('WEBGL_debug_renderer_info');
  const renderer = gl && info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : '';
  gl?.getExtension('WEBGL_lose_context')?.loseContext();
  gpu = gl !== null && !/swiftshader|llvmpipe|softpipe|software|basic render/i.test(renderer);
  return gpu;
}

export class SerialSession {
  /** The Terminal's host element, moved between containers by the component that shows it. */
  readonly element: HTMLDivElement;
  readonly status = new Observable<LinkStatus>({ state: 'disconnected', reason: '' });
  readonly hasSelection = new Observable(false);
  readonly term: Terminal;
  private readonly fitAddon = new FitAddon();
  private ws: WebSocket | null = null;
  private opened = false;
  private resizeObserver: ResizeObserver | null = null;

  constructor(private readonly url: string) {
    this.element = document.createElement('div');
    this.element.className = 'term-host';
    this.term = new Terminal({
      scrollback: 10_000,
      // An accessible copy of the screen for screen readers (the canvas alone says nothing).
      screenReaderMode: true,
      cursorBlink: true,
      fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace',
      fontSize: 14,
      theme: { background: '#111418', foreground: '#e6e8eb', selectionBackground: '#4b6fa8' },
    });
    this.term.loadAddon(this.fitAddon);
    this.term.onData((s) => {
      if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(s);
    });
    this.term.onSelectionChange(() => this.hasSelection.set(this.term.hasSelection()));
    this.term.attachCustomKeyEventHandler((e) => {
      // Shift+Tab leaves the terminal (the browser moves focus back), so keyboard users are not
      // trapped; plain Tab still reaches the guest's shell for completion.
      if (e.key === 'Tab' && e.shiftKey) return false;
      if (e.type === 'keydown' && e.ctrlKey && e.shiftKey && e.key.toLowerCase() === 'c') {
        void this.copySelection();
        return false;
      }
      return true;
    });
  }

  /** Puts the terminal into a container and keeps it sized to it. */
  attach(container: HTMLElement): void {
    container.appendChild(this.element);
    if (!this.opened) {
      // open() measures fonts, so it waits until the element is really in the document.
      this.term.open(this.element);
      this.opened = true;
      this.loadWebgl();
    }
    this.resizeObserver = new ResizeObserver(() => this.fit());
    this.resizeObserver.observe(container);
    this.fit();
  }

  detach(): void {
    this.resizeObserver?.disconnect();
    this.resizeObserver = null;
    this.element.remove();
  }

  private loadWebgl(): void {
    if (!gpuWebgl()) return;
    try {
      const webgl = new WebglAddon();
      // A lost context (GPU reset, too many contexts) falls back to the DOM renderer.
      webgl.onContextLoss(() => webgl.dispose());
      this.term.loadAddon(webgl);
    } catch {
      // WebGL2 failed to start: the DOM renderer is already in place.
    }
  }

  private fit(): void {
    // A detached or hidden container measures 0x0; fitting then would shrink the terminal to nothing.
    if (!this.element.isConnected || this.element.clientWidth === 0) return;
    try {
      this.fitAddon.fit();
    } catch {
      // fit() can throw while the renderer is being swapped; the next resize fits again.
    }
  }

  connect(): void {
    if (this.ws) return;
    const ws = new WebSocket(this.url);
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      if (this.ws === ws) this.status.set({ state: 'connected', reason: '' });
    };
    ws.onmessage = (m: MessageEvent<ArrayBuffer | string>) => {
      this.term.write(typeof m.data === 'string' ? m.data : new Uint8Array(m.data));
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.status.set({ state: 'disconnected', reason: closeReason(ev) });
    };
    this.ws = ws;
    this.status.set({ state: 'connecting', reason: '' });
  }

  disconnect(reason: string): void {
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.close(1000, 'Client closed');
      // Marks in the scrollback where one boot ends, so the next boot's output is not confused with it.
      this.term.write(`\r\n\x1b[2m[${reason}]\x1b[0m\r\n`);
    }
    this.status.set({ state: 'disconnected', reason });
  }

  /** Copies the selection; returns false when there is nothing selected or no clipboard. */
  async copySelection(): Promise<boolean> {
    const text = this.term.getSelection();
    if (!text || !navigator.clipboard) return false;
    await navigator.clipboard.writeText(text);
    return true;
  }

  /** The whole buffer as text, for tests whose renderer (WebGL) draws rows only to a canvas. */
  text(): string {
    const buf = this.term.buffer.active;
    const rows: string[] = [];
    for (let i = 0; i < buf.length; i++) rows.push(buf.getLine(i)?.translateToString(true) ?? '');
    return rows.join('\n').trimEnd();
  }

  dispose(): void {
    this.disconnect('Closed.');
    this.detach();
    this.term.dispose();
  }
}
