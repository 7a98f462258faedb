import { describe, expect, it } from 'vitest';
import { parseDomdisplay } from './console';

describe('parseDomdisplay', () => {
  it('reads a UNIX socket path whole, spaces and escapes included', () => {
    expect(parseDomdisplay('vnc+unix:///var/lib/libvirt/qemu/domain-1-far one/vnc.sock\n')).toEqual({
      socket: '/var/lib/libvirt/qemu/domain-1-far one/vnc.sock',
    });
    expect(parseDomdisplay('vnc+unix:///run/domain-2-a%20b/vnc.sock')).toEqual({
      socket: '/run/domain-2-a b/vnc.sock',
    });
    expect(parseDomdisplay('vnc+unix:///run/100%/vnc.sock')).toEqual({ socket: '/run/100%/vnc.sock' });
  });

  it('turns a display number into its port', () => {
    expect(parseDomdisplay('vnc://127.0.0.1:0\n')).toEqual({ host: '127.0.0.1', port: 5900 });
    expect(parseDomdisplay('vnc://[::1]:7')).toEqual({ host: '::1', port: 5907 });
    expect(parseDomdisplay('vnc://localhost:12')).toEqual({ host: 'localhost', port: 5912 });
  });

  it('refuses what is no VNC display, quoting it', () => {
    expect(() => parseDomdisplay('spice://127.0.0.1:5930')).toThrow(/no VNC display.*spice/);
    expect(() => parseDomdisplay('')).toThrow(/no VNC display/);
    expect(() => parseDomdisplay('vnc://-oProxy:1')).toThrow(/no VNC display/);
  });
});
