import { describe, expect, it } from 'vitest';
import { textToKeys } from './keys';

describe('textToKeys', () => {
  it('types letters, capitals, digits and shifted symbols', () => {
    expect(textToKeys('aZ1 !\n')).toEqual([['a'], ['shift', 'z'], ['1'], ['spc'], ['shift', '1'], ['ret']]);
    expect(textToKeys('echo "x" > /tmp/f')).toHaveLength(17);
  });

  it('refuses characters a US keyboard cannot type, naming them', () => {
    expect(() => textToKeys('café')).toThrow(/"é"/);
  });
});
