// Text to QEMU key codes (US layout), for "paste as keystrokes" into guests without a clipboard.
import { HangarError } from '../../shared/errors';

const PLAIN: Record<string, string> = {
  ' ': 'spc',
  '\n': 'ret',
  '\t': 'tab',
  '-': 'minus',
  '=': 'equal',
  '[': 'bracket_left',
  ']': 'bracket_right',
  ';': 'semicolon',
  "'": 'apostrophe',
  '`': 'grave_accent',
  '\\': 'backslash',
  ',': 'comma',
  '.': 'dot',
  '/': 'slash',
};
const SHIFTED: Record<string, string> = {
  '!': '1',
  '@': '2',
  '#': '3',
  $: '4',
  '%': '5',
  '^': '6',
  '&': '7',
  '*': '8',
  '(': '9',
  ')': '0',
  _: 'minus',
  '+': 'equal',
  '{': 'bracket_left',
  '}': 'bracket_right',
  ':': 'semicolon',
  '"': 'apostrophe',
  '~': 'grave_accent',
  '|': 'backslash',
  '<': 'comma',
  '>': 'dot',
  '?': 'slash',
};

/** Each entry is one key press: a key, or shift plus a key. */
export function textToKeys(text: string): string[][] {
  const out: string[][] = [];
  for (const ch of text.replace(/\r\n?/g, '\n')) {
    if (/^[a-z0-9]$/.test(ch)) out.push([ch]);
    else if (/^[A-Z]$/.test(ch)) out.push(['shift', ch.toLowerCase()]);
    else if (PLAIN[ch]) out.push([PLAIN[ch]]);
    else if (SHIFTED[ch]) out.push(['shift', SHIFTED[ch]]);
    else {
      throw new HangarError(
        'INVALID_INPUT',
        `"${ch}" cannot be typed as a key press on a US keyboard; paste plain ASCII text.`,
      );
    }
  }
  return out;
}
