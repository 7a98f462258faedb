import { describe, expect, it } from 'vitest';
import { shortcutFor, type KeyPress, type KeyTarget } from './keys';

const press = (key: string, more: Partial<KeyPress> = {}): KeyPress => ({
  key,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  defaultPrevented: false,
  ...more,
});
const page: KeyTarget = { typing: false, inConsole: false, inDialog: false };

describe('shortcutFor', () => {
  it('maps the documented keys on the page', () => {
    expect(shortcutFor(press('n', { ctrlKey: true }), page)).toBe('new');
    expect(shortcutFor(press('N', { metaKey: true }), page)).toBe('new');
    expect(shortcutFor(press('/'), page)).toBe('filter');
    expect(shortcutFor(press('?'), page)).toBe('help');
    expect(shortcutFor(press('Escape'), page)).toBe('back');
    expect(shortcutFor(press('x'), page)).toBeNull();
    expect(shortcutFor(press('n'), page)).toBeNull();
  });

  it('leaves typed characters to fields, except Ctrl+N', () => {
    const typing = { ...page, typing: true };
    expect(shortcutFor(press('/'), typing)).toBeNull();
    expect(shortcutFor(press('?'), typing)).toBeNull();
    expect(shortcutFor(press('Escape'), typing)).toBeNull();
    expect(shortcutFor(press('n', { ctrlKey: true }), typing)).toBe('new');
  });

  it('gives every key to the guest in a console and to an open dialog', () => {
    for (const at of [
      { ...page, inConsole: true },
      { ...page, inDialog: true },
    ]) {
      expect(shortcutFor(press('Escape'), at)).toBeNull();
      expect(shortcutFor(press('/'), at)).toBeNull();
      expect(shortcutFor(press('n', { ctrlKey: true }), at)).toBeNull();
    }
  });

  it('ignores keys already handled and Alt combinations', () => {
    expect(shortcutFor(press('Escape', { defaultPrevented: true }), page)).toBeNull();
    expect(shortcutFor(press('n', { ctrlKey: true, altKey: true }), page)).toBeNull();
    expect(shortcutFor(press('/', { ctrlKey: true }), page)).toBeNull();
  });
});
