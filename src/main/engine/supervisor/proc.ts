// Process facts from /proc. kill(pid, 0) is not enough: a detached QEMU that died stays a
// zombie until PID 1 reaps it (1-2 s on these machines), so liveness reads the process state.
import { readFileSync } from 'node:fs';

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

export function readPidFile(path: string): number | null {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(pid) && pid > 1 ? pid : null;
  } catch {
    return null;
  }
}
