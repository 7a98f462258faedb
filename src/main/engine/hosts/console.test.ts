import { describe, expect, it } from 'vitest';
import { parseDomdisplay, RemoteConsoles } from './console';
import { SshMux } from './ssh';

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

describe('RemoteConsoles tickets', () => {
  const consoles = new RemoteConsoles(() => {
    throw new Error('no virsh in this test');
  }, new SshMux('/nonexistent'));

  it('gives one stable id per host and domain, shaped like a VM id', () => {
    const a = consoles.ticket('far', 'web');
    expect(a).toMatch(/^[a-z0-9]{12}$/);
    expect(consoles.ticket('far', 'web')).toBe(a);
    expect(consoles.ticket('far', 'db')).not.toBe(a);
    expect(consoles.open('zzzzzzzzzzzz', 'vnc')).toBeNull();
  });

  it('keeps at most 1000, forgetting the oldest, and forgets a removed host', () => {
    const first = consoles.ticket('many', 'd0');
    for (let i = 1; i <= 1000; i++) consoles.ticket('many', `d${i}`);
    expect(consoles.open(first, 'vnc')).toBeNull();
    const last = consoles.ticket('many', 'd1000');
    expect(consoles.ticket('many', 'd1000')).toBe(last);
    consoles.forget('many');
    expect(consoles.open(last, 'vnc')).toBeNull();
  });
});
