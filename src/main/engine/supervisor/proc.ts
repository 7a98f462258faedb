// Process facts from /proc. kill(pid, 0) is not enough: a detached QEMU that died stays a
// zombie until PID 1 reaps it (1-2 s on these machines), so liveness reads the process state.
import { readdirSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';

/** The one-letter state from /proc/PID/stat (R, S, D, T, Z, ...), or null if there is no such process. */
export function processState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may itself contain spaces or parentheses.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) || null;
  } catch {
    return null;
  }
}

/**
 * How a process that is not our child ended, read from its zombie's /proc/PID/stat (field 52,
 * the wait status) before PID 1 reaps it; null once it is reaped or while it runs.
 */
export function zombieExit(pid: number): { code: number | null; signal: string | null } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] !== 'Z') return null;
    const status = Number(fields[49]);
    if (!Number.isInteger(status)) return null;
    const sig = status & 0x7f;
    if (sig === 0) return { code: status >> 8, signal: null };
    const name = Object.entries(constants.signals).find(([, n]) => n === sig)?.[0] ?? `signal ${sig}`;
    return { code: null, signal: name };
  } catch {
    return null;
  }
}

export function isAlive(pid: number): boolean {
  const s = processState(pid);
  return s !== null && s !== 'Z' && s !== 'X';
}

export function cmdline(pid: number): string[] | null {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`);
    return raw
      .toString('utf8')
      .split('\u0000')
      .filter((a, i, all) => a !== '' || i < all.length - 1);
  } catch {
    return null;
  }
}

/** True only for a live QEMU started with exactly this pidfile: a recycled PID never matches. */
export function isOurQemu(pid: number, pidFile: string): boolean {
  if (!isAlive(pid)) return false;
  const args = cmdline(pid);
  if (!args) return false;
  const i = args.indexOf('-pidfile');
  return i >= 0 && args[i + 1] === pidFile;
}

/**
 * Live QEMUs by the -pidfile on their command line (any binary name: distributions differ), from
 * one scan of /proc. It finds a QEMU whose
 * pidfile is missing too: one spawned by an engine that was killed before QEMU wrote the file.
 */
export function qemusByPidFile(): Map<string, number> {
  const found = new Map<string, number>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const args = cmdline(Number(entry));
    const i = args?.indexOf('-pidfile') ?? -1;
    if (!args || i < 0 || !isAlive(Number(entry))) continue;
    found.set(args[i + 1]!, Number(entry));
  }
  return found;
}

export function readPidFile(path: string): number | null {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(pid) && pid > 1 ? pid : null;
  } catch {
    return null;
  }
}
