// Reading a QEMU command line back the way QEMU reads it, to prove that no user text changed its
// shape: which elements are options, and which keys each option value holds.

/** Options that take no value. Everything else in QEMU's table for what we pass takes one. */
export const FLAG_OPTIONS = new Set(['-no-user-config', '-nodefaults', '-S']);

/** Options whose value QEMU takes verbatim (a file name or the kernel command line). */
export const VERBATIM_OPTIONS = new Set(['-kernel', '-initrd', '-append', '-pidfile']);

/** Every option the builder may emit; anything else in an option position is an injection. */
export const KNOWN_OPTIONS = new Set([
  ...FLAG_OPTIONS,
  ...VERBATIM_OPTIONS,
  '-name',
  '-machine',
  '-accel',
  '-cpu',
  '-smp',
  '-m',
  '-rtc',
  '-blockdev',
  '-device',
  '-netdev',
  '-global',
  '-chardev',
  '-tpmdev',
  '-fsdev',
  '-mon',
  '-serial',
  '-display',
  '-vnc',
  '-msg',
  '-sandbox',
]);

/**
 * QemuOpts: parts separated by single commas; ",," is a literal comma. Returns the parts with
 * escapes undone. (QEMU has no other escape: a backslash, quote or '=' in a value is literal.)
 */
export function splitOpts(value: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === ',') {
      if (value[i + 1] === ',') {
        cur += ',';
        i++;
      } else {
        parts.push(cur);
        cur = '';
      }
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

export interface ParsedOpts {
  /** The first part when it has no '=' (a driver, backend or machine type), else null. */
  head: string | null;
  /** key -> value; a part without '=' after the head is recorded with value null (QEMU: key=on). */
  pairs: [string, string | null][];
}

export function parseOpts(value: string): ParsedOpts {
  const parts = splitOpts(value);
  let head: string | null = null;
  const pairs: [string, string | null][] = [];
  parts.forEach((p, i) => {
    const eq = p.indexOf('=');
    if (i === 0 && eq < 0) head = p;
    else if (eq < 0) pairs.push([p, null]);
    else pairs.push([p.slice(0, eq), p.slice(eq + 1)]);
  });
  return { head, pairs };
}

export interface ArgvOption {
  option: string;
  value: string | null;
}

/**
 * Walks argv as QEMU does: an option, then its value when it takes one. Returns the options, or
 * throws when an element in an option position is not an option we emit.
 */
export function walkArgv(argv: readonly string[]): ArgvOption[] {
  const out: ArgvOption[] = [];
  for (let i = 0; i < argv.length; i++) {
    const option = argv[i]!;
    if (!KNOWN_OPTIONS.has(option))
      throw new Error(`argv[${i}] ${JSON.stringify(option)} is not an option we emit`);
    if (FLAG_OPTIONS.has(option)) {
      out.push({ option, value: null });
      continue;
    }
    if (i + 1 >= argv.length) throw new Error(`${option} has no value`);
    out.push({ option, value: argv[++i]! });
  }
  return out;
}

/**
 * A command line split into words as GLib's g_shell_parse_argv does for libslirp's guestfwd
 * `cmd:` (no shell runs): blanks separate words; '...' is literal; "..." allows \" \\ \$ \`;
 * a backslash outside quotes escapes the next character (backslash-newline vanishes).
 */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let cur: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === ' ' || c === '\t' || c === '\n') {
      if (cur !== null) words.push(cur);
      cur = null;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error('unterminated single quote');
      cur = (cur ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      let text = '';
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] === '\\' && '"\\$`\n'.includes(line[j + 1] ?? ''))
          text += line[++j] === '\n' ? '' : line[j];
        else text += line[j];
      }
      if (j >= line.length) throw new Error('unterminated double quote');
      cur = (cur ?? '') + text;
      i = j;
    } else if (c === '\\') {
      const next = line[++i];
      if (next === undefined) throw new Error('trailing backslash');
      if (next !== '\n') cur = (cur ?? '') + next;
    } else cur = (cur ?? '') + c;
  }
  if (cur !== null) words.push(cur);
  return words;
}
