import { describe, expect, it } from 'vitest';
import { socketBase } from './urls';

const page = (href: string) => new URL(href);

describe('socketBase', () => {
  it('stays under the page’s own base path, whatever the hash or query', () => {
    const base = '/s/AbCdEfGhIjKlMnOpQrStUvWxYz012345/';
    expect(socketBase(page(`http://127.0.0.1:4000${base}`))).toBe(`ws://127.0.0.1:4000${base}`);
    expect(socketBase(page(`http://127.0.0.1:4000${base}#/vm/abc123def456/serial`))).toBe(
      `ws://127.0.0.1:4000${base}`,
    );
    expect(socketBase(page(`http://localhost:4000${base}index.html?x=1`))).toBe(`ws://localhost:4000${base}`);
  });

  it('uses wss for an https page', () => {
    expect(socketBase(page('https://example.test/s/x/'))).toBe('wss://example.test/s/x/');
  });

  it('falls back to the root for a page at the root (the dev server)', () => {
    expect(socketBase(page('http://localhost:5173/'))).toBe('ws://localhost:5173/');
  });
});
