import { describe, expect, it } from 'vitest';
import { LockTable } from './locks';

describe('locks that span VMs', () => {
  it('lets readers share a key and keeps writers out, and the reverse', () => {
    const t = new LockTable();
    const r1 = t.acquire([{ key: 'tpl', mode: 'read' }], 'linked clone');
    const r2 = t.acquire([{ key: 'tpl', mode: 'read' }], 'full clone');
    expect(() => t.acquire([{ key: 'tpl', mode: 'write' }], 'delete')).toThrow(/busy: linked clone/);
    r1();
    expect(t.holder('tpl')).toBe('full clone');
    r2();
    const w = t.acquire([{ key: 'tpl', mode: 'write' }], 'delete');
    expect(() => t.acquire([{ key: 'tpl', mode: 'read', label: 'the template' }], 'linked clone')).toThrow(
      /^The template is busy: delete/,
    );
    w();
    expect(t.holder('tpl')).toBeNull();
  });

  it('takes every claim or none', () => {
    const t = new LockTable();
    t.acquire([{ key: 'b', mode: 'write' }], 'snapshot');
    expect(() =>
      t.acquire(
        [
          { key: 'a', mode: 'write' },
          { key: 'b', mode: 'read' },
        ],
        'make independent',
      ),
    ).toThrow(/snapshot/);
    // Nothing of the refused claim stayed behind.
    expect(t.holder('a')).toBeNull();
  });

  it('treats a key claimed twice as one claim, a write when either is, and releases once', () => {
    const t = new LockTable();
    const release = t.acquire(
      [
        { key: 'a', mode: 'read' },
        { key: 'a', mode: 'write' },
      ],
      'op',
    );
    expect(() => t.acquire([{ key: 'a', mode: 'read' }], 'other')).toThrow(/busy: op/);
    release();
    release();
    const r = t.acquire([{ key: 'a', mode: 'read' }], 'other');
    expect(t.holder('a')).toBe('other');
    r();
  });
});
