import { describe, expect, it } from 'vitest';
import { highlightYaml } from './highlight';

describe('highlightYaml', () => {
  it('gives back the text exactly, piece by piece', () => {
    const text =
      "# lab\nversion: 1\nvms:\n  a: { template: tiny, cpus: 2 }\n  b:\n    ready: ['serial:X']\n  c: |\n    two\n    lines\n";
    expect(
      highlightYaml(text)
        .map((p) => p.text)
        .join(''),
    ).toBe(text);
  });

  it('tells keys, strings, literals, comments and indicators apart', () => {
    const classes = (t: string) =>
      highlightYaml(t)
        .filter((p) => p.text.trim())
        .map((p) => [p.text.trim(), p.cls]);
    expect(classes('name: web # the lab\n')).toEqual([
      ['name', 'key'],
      [':', 'punct'],
      ['web', 'string'],
      ['# the lab', 'comment'],
    ]);
    expect(classes("cpus: 2\nok: true\nready: ['agent']\n")).toEqual([
      ['cpus', 'key'],
      [':', 'punct'],
      ['2', 'literal'],
      ['ok', 'key'],
      [':', 'punct'],
      ['true', 'literal'],
      ['ready', 'key'],
      [':', 'punct'],
      ['[', 'punct'],
      ["'agent'", 'string'],
      [']', 'punct'],
    ]);
  });

  it('keeps broken YAML whole (the editor shows what was typed)', () => {
    const text = 'vms:\n  a: [unclosed\n\t- "half';
    expect(
      highlightYaml(text)
        .map((p) => p.text)
        .join(''),
    ).toBe(text);
  });
});
