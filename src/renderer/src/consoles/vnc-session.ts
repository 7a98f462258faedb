// The graphical console of one VM: a noVNC RFB drawing into an element that this session owns.
// Components move that element into their container and back out, so a tab switch keeps the
// connection (and the guest's screen) instead of renegotiating VNC each time.
import RFB from '@novnc/novnc';
import { closeReason, Observable, type LinkStatus } from './observable';

export class VncSession {
  /** RFB's target; it stays the same across reconnects so the container never has to change. */
  readonly element: HTMLDivElement;
  readonly status = new Observable<LinkStatus>({ state: 'disconnected', reason: '' });
  private rfb: RFB | null = null;

  constructor(private readonly url: string) {
    this.element = document.createElement('div');
    this.element.className = 'console-vnc-target';
    // noVNC sends every key on its canvas to the guest, Tab included, which traps keyboard users.
    // Shift+Tab is kept from it (as in the serial terminal), so the browser moves focus back out;
    // noVNC releases the keys it holds when its canvas loses focus.
    this.element.addEventListener(
      'keydown',
      (e) => {
        if (e.key === 'Tab' && e.shiftKey) e.stopPropagation();
      },
      true,
    );
  }

  /** Opens a connection unless one is open or opening. */
  connect(): void {
    if (this.rfb) return;
    // Our own WebSocket, because RFB's disconnect event does not carry the server's close reason,
    // and the bridge puts the useful words ("VM is not running") there.
    const ws = new WebSocket(this.url, ['binary']);
    let reason = '';
    ws.addEventListener('close', (ev) => {
      reason ||= closeReason(ev);
    });
    const rfb = new RFB(this.element, ws);
    rfb.scaleViewport = true;
    // Reachable with Tab and named, where noVNC leaves its canvas out of the tab order.
    const canvas = this.element.querySelector('canvas');
    if (canvas) {
      canvas.tabIndex = 0;
      canvas.setAttribute('role', 'application');
      canvas.setAttribute('aria-label', 'Guest screen: keys go to the guest; Shift+Tab leaves');
    }
    rfb.background = '#000';
    rfb.addEventListener('connect', () => {
      if (this.rfb === rfb) this.status.set({ state: 'connected', reason: '' });
    });
    rfb.addEventListener('securityfailure', (e) => {
      reason = `VNC security negotiation failed${e.detail.reason ? `: ${e.detail.reason}` : '.'}`;
    });
    rfb.addEventListener('disconnect', (e) => {
      if (this.rfb !== rfb) return; // a disconnect we asked for already set its own reason
      this.rfb = null;
      const why = reason || (e.detail.clean ? 'The console closed.' : 'The connection failed.');
      this.status.set({ state: 'disconnected', reason: why });
    });
    this.rfb = rfb;
    this.status.set({ state: 'connecting', reason: '' });
  }

  disconnect(reason: string): void {
    const rfb = this.rfb;
    this.rfb = null;
    rfb?.disconnect();
    this.status.set({ state: 'disconnected', reason });
  }

  focus(): void {
    this.rfb?.focus();
  }

  dispose(): void {
    this.disconnect('Closed.');
    this.element.remove();
  }
}
