// The preload's pure half (src/preload/protocol.ts), tested here because the shell writes what the
// preload reads: the two must round-trip.
import { describe, expect, it } from 'vitest';
import { consoleUrl, endpointArgs, parseEndpointArgs } from '../../preload/protocol';

const TOKEN = 'abcdefABCDEF0123456789_-';
const BASE = '/s/AbCdEfGhIjKlMnOpQrStUvWxYz012345/';
const endpoint = { port: 41234 };

describe('endpoint flags', () => {
  it('round-trip through the renderer argv', () => {
    const argv = ['/usr/lib/electron', '--type=renderer', ...endpointArgs(endpoint), '--enable-sandbox'];
    expect(parseEndpointArgs(argv)).toEqual(endpoint);
  });

  it('carry the port and nothing secret', () => {
    expect(endpointArgs(endpoint)).toEqual(['--hangar-port=41234']);
    expect(endpointArgs({ port: 41234, token: TOKEN } as typeof endpoint).join(' ')).not.toContain(TOKEN);
    // A token flag from an older main is ignored, never read.
    expect(parseEndpointArgs(['--hangar-port=41234', `--hangar-token=${TOKEN}`])).toEqual(endpoint);
  });

  it('read as null when absent or malformed', () => {
    expect(parseEndpointArgs([])).toBeNull();
    expect(parseEndpointArgs([`--hangar-token=${TOKEN}`])).toBeNull();
    expect(parseEndpointArgs(['--hangar-port=0'])).toBeNull();
    expect(parseEndpointArgs(['--hangar-port=99999'])).toBeNull();
    expect(parseEndpointArgs(['--hangar-port=12ab'])).toBeNull();
    expect(parseEndpointArgs(['--hangar-port='])).toBeNull();
    expect(() => endpointArgs({ port: 0 })).toThrow();
  });
});

describe('consoleUrl', () => {
  it('builds the bridge URL under the base path, without a token (the cookie authenticates the handshake)', () => {
    expect(consoleUrl(endpoint, BASE, 'vnc', 'abc123def456')).toBe(
      `ws://127.0.0.1:41234${BASE}console/vnc/abc123def456`,
    );
    expect(consoleUrl(endpoint, BASE, 'serial', '000000000000')).toBe(
      `ws://127.0.0.1:41234${BASE}console/serial/000000000000`,
    );
  });

  it('refuses kinds and ids that are not ours, so page input cannot shape the path', () => {
    expect(() => consoleUrl(endpoint, BASE, 'qmp', 'abc123def456')).toThrow(/kind/);
    expect(() => consoleUrl(endpoint, BASE, 'vnc', '../../api')).toThrow(/VM id/);
    expect(() => consoleUrl(endpoint, BASE, 'vnc', 'ABC123DEF456')).toThrow(/VM id/);
    expect(() => consoleUrl(endpoint, BASE, 'vnc', 'abc123def4567')).toThrow(/VM id/);
    expect(() => consoleUrl(endpoint, BASE, 'vnc', 42)).toThrow(/VM id/);
  });

  it('says so when main passed no endpoint or no base path (main answers foreign frames with null)', () => {
    expect(() => consoleUrl(null, BASE, 'vnc', 'abc123def456')).toThrow(/endpoint/);
    for (const base of [null, undefined, '', '/', '/s/x/', `${BASE}../`, 42])
      expect(() => consoleUrl(endpoint, base, 'vnc', 'abc123def456'), String(base)).toThrow(/base path/);
  });
});
