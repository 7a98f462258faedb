// Times a firmware self-test: SeaBIOS with no boot device writes "No bootable device" to its
// debug port. It needs no guest image and shows whether an accelerator runs code at useful speed.
import { spawn } from 'node:child_process';

export interface PostResult {
  ms: number | null;
  /** Why it did not finish: QEMU's own last words, or a timeout. */
  failure: string | null;
}

const DONE = 'No bootable device';

export function timeFirmwarePost(
  qemu: string,
  accel: 'kvm' | 'tcg',
  cpu: string,
  timeoutMs = 10_000,
): Promise<PostResult> {
  const args = [
    '-machine',
    'q35',
    '-accel',
    accel,
    '-cpu',
    cpu,
    '-m',
    '64M',
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-no-reboot',
    '-chardev',
    'stdio,id=dbg',
    '-device',
    'isa-debugcon,iobase=0x402,chardev=dbg',
  ];
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(qemu, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let settled = false;
    const finish = (r: PostResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve(r);
    };
    const timer = setTimeout(
      () => finish({ ms: null, failure: `no result within ${timeoutMs / 1000} s` }),
      timeoutMs,
    );
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('latin1');
      if (out.includes(DONE)) finish({ ms: Math.round(performance.now() - started), failure: null });
      if (out.length > 1 << 20) out = out.slice(-4096);
    });
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    child.on('error', (e) => finish({ ms: null, failure: e.message }));
    child.on('exit', (code, signal) => {
      const last = err
        .trim()
        .split('\n')
        .filter((l) => !l.includes('warning:'))
        .slice(-2)
        .join(' ');
      finish({ ms: null, failure: `QEMU exited (${signal ?? code})${last ? ': ' + last : ''}` });
    });
  });
}
