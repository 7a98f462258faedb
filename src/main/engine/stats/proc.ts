// What the host kernel says about a QEMU process: CPU time of all its threads (vCPUs, I/O, the
// main loop) and its resident memory. /proc/PID/stat sums every thread's time, so one read is
// enough; clock ticks are 100 a second on Linux (USER_HZ), which is what getconf would say.
import { readFileSync } from 'node:fs';

export const TICKS_PER_SECOND = 100;
const PAGE = 4096;

export interface ProcTimes {
  /** user + system time of every thread, in clock ticks. */
  ticks: number;
  rssBytes: number;
}

/** null when the process is gone (it may exit between listing and reading). */
export function procTimes(pid: number): ProcTimes | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name is in parentheses and may hold spaces: fields count from after its ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const rssPages = Number(fields[21]);
    if (![utime, stime, rssPages].every(Number.isFinite)) return null;
    return { ticks: utime + stime, rssBytes: rssPages * PAGE };
  } catch {
    return null;
  }
}
