// What the engine asks a guest through its agent: which commands it has, its addresses, running
// a command, reading and writing files. The guest is untrusted: every reply is parsed with a
// schema and bounded before anything uses it. Works with the command set of qemu-ga 7.2 (Debian
// 12): guest-exec takes the boolean capture-output.
import { z } from 'zod';
import { HangarError } from '../../../shared/errors';
import type { AgentReply, GuestAgent } from './session';

/** A reply turned into its value, or the error a caller shows. */
function need<T>(reply: AgentReply<unknown>, what: string, schema: z.ZodType<T>): T {
  if (!reply.ok) {
    if (reply.answered)
      throw new HangarError('QEMU_FAILED', `The guest agent refused ${what}: ${reply.error}`);
    throw new HangarError(
      'TIMEOUT',
      `No answer from the guest agent to ${what} (${reply.error}). Is qemu-guest-agent installed and running in the guest?`,
      { reason: reply.reason },
    );
  }
  const parsed = schema.safeParse(reply.value);
  if (!parsed.success)
    throw new HangarError(
      'QEMU_FAILED',
      `The guest agent's answer to ${what} is not what the protocol says.`,
    );
  return parsed.data;
}

const Info = z.object({
  version: z.string().max(100),
  supported_commands: z.array(z.object({ name: z.string().max(100), enabled: z.boolean() }).loose()).max(500),
});

export async function guestInfo(
  agent: GuestAgent,
  timeoutMs = 5_000,
): Promise<{ version: string; commands: string[] }> {
  const info = need(await agent.execute('guest-info', undefined, timeoutMs), 'guest-info', Info);
  return {
    version: info.version,
    commands: info.supported_commands.filter((c) => c.enabled).map((c) => c.name),
  };
}

const Interfaces = z
  .array(
    z
      .object({
        name: z.string().max(256),
        'hardware-address': z.string().max(64).optional(),
        'ip-addresses': z
          .array(
            z
              .object({
                'ip-address-type': z.enum(['ipv4', 'ipv6']),
                'ip-address': z.string().max(64),
                prefix: z.number().int().min(0).max(128),
              })
              .loose(),
          )
          .max(256)
          .optional(),
      })
      .loose(),
  )
  .max(256);

export interface GuestAddress {
  ipv4: string | null;
  ipv6: string | null;
  interface: string;
}

/** The addresses of the guest's NIC with this MAC; loopback and link-local left out. */
export async function addressOf(
  agent: GuestAgent,
  mac: string,
  timeoutMs = 5_000,
): Promise<GuestAddress | null> {
  const ifaces = need(
    await agent.execute('guest-network-get-interfaces', undefined, timeoutMs),
    'guest-network-get-interfaces',
    Interfaces,
  );
  const nic = ifaces.find((i) => i['hardware-address']?.toLowerCase() === mac.toLowerCase());
  if (!nic) return null;
  const ips = nic['ip-addresses'] ?? [];
  const v4 = ips.find(
    (a) =>
      a['ip-address-type'] === 'ipv4' &&
      !a['ip-address'].startsWith('127.') &&
      !a['ip-address'].startsWith('169.254.'),
  );
  const v6 = ips.find((a) => a['ip-address-type'] === 'ipv6' && !/^(fe80:|::1$)/i.test(a['ip-address']));
  if (!v4 && !v6) return null;
  return {
    ipv4: v4?.['ip-address'] ?? null,
    ipv6: v6?.['ip-address'] ?? null,
    interface: nic.name.slice(0, 64),
  };
}

export interface ExecOptions {
  args?: string[];
  env?: string[];
  stdin?: Buffer;
  timeoutMs?: number;
  /** Output kept per stream; the agent caps it too (16 MiB in qemu-ga). */
  maxOutputBytes?: number;
}

export interface ExecResult {
  exitCode: number | null;
  signal: number | null;
  stdout: Buffer;
  stderr: Buffer;
  /** True when either stream was cut (by the agent or by maxOutputBytes). */
  truncated: boolean;
}

const Pid = z.object({ pid: z.number().int().nonnegative() });
const Status = z
  .object({
    exited: z.boolean(),
    exitcode: z.number().int().optional(),
    signal: z.number().int().optional(),
    'out-data': z.string().optional(),
    'err-data': z.string().optional(),
    'out-truncated': z.boolean().optional(),
    'err-truncated': z.boolean().optional(),
  })
  .loose();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs a program in the guest (no shell unless you run one) and waits for it to end. */
export async function guestExec(
  agent: GuestAgent,
  path: string,
  options: ExecOptions = {},
): Promise<ExecResult> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const max = options.maxOutputBytes ?? 4 * 1024 * 1024;
  const started = need(
    await agent.execute(
      'guest-exec',
      {
        path,
        arg: options.args ?? [],
        env: options.env ?? [],
        'capture-output': true,
        ...(options.stdin ? { 'input-data': options.stdin.toString('base64') } : {}),
      },
      10_000,
    ),
    'guest-exec',
    Pid,
  );
  const deadline = Date.now() + timeoutMs;
  let wait = 50;
  for (;;) {
    const st = need(
      await agent.execute('guest-exec-status', { pid: started.pid }, 10_000),
      'guest-exec-status',
      Status,
    );
    if (st.exited) {
      const out = Buffer.from(st['out-data'] ?? '', 'base64');
      const err = Buffer.from(st['err-data'] ?? '', 'base64');
      return {
        exitCode: st.exitcode ?? null,
        signal: st.signal ?? null,
        stdout: out.subarray(0, max),
        stderr: err.subarray(0, max),
        truncated: Boolean(
          st['out-truncated'] || st['err-truncated'] || out.length > max || err.length > max,
        ),
      };
    }
    if (Date.now() >= deadline)
      throw new HangarError(
        'TIMEOUT',
        `The command did not finish within ${Math.round(timeoutMs / 1000)} s; it may still be running in the guest (pid ${started.pid}).`,
        { pid: started.pid },
      );
    await sleep(wait);
    wait = Math.min(wait * 2, 500);
  }
}

const Handle = z.number().int().nonnegative();
const Read = z
  .object({ count: z.number().int().nonnegative(), 'buf-b64': z.string(), eof: z.boolean() })
  .loose();
const Wrote = z.object({ count: z.number().int().nonnegative() }).loose();

/** Chunks small enough that a base64 reply line stays far below the session's line limit. */
export const FILE_CHUNK = 1024 * 1024;

export async function openGuestFile(agent: GuestAgent, path: string, mode: 'r' | 'w'): Promise<number> {
  return need(
    await agent.execute('guest-file-open', { path, mode }, 10_000),
    `opening ${path} in the guest`,
    Handle,
  );
}

export async function closeGuestFile(agent: GuestAgent, handle: number): Promise<void> {
  await agent.execute('guest-file-close', { handle }, 10_000);
}

export async function readGuestChunk(
  agent: GuestAgent,
  handle: number,
): Promise<{ data: Buffer; eof: boolean }> {
  const r = need(
    await agent.execute('guest-file-read', { handle, count: FILE_CHUNK }, 30_000),
    'guest-file-read',
    Read,
  );
  const data = Buffer.from(r['buf-b64'], 'base64');
  if (data.length > FILE_CHUNK)
    throw new HangarError('QEMU_FAILED', 'The guest agent sent more than was asked for.');
  return { data, eof: r.eof };
}

export async function writeGuestChunk(agent: GuestAgent, handle: number, data: Buffer): Promise<void> {
  const w = need(
    await agent.execute('guest-file-write', { handle, 'buf-b64': data.toString('base64') }, 30_000),
    'guest-file-write',
    Wrote,
  );
  if (w.count !== data.length)
    throw new HangarError(
      'IO_ERROR',
      `The guest wrote ${w.count} of ${data.length} bytes (is its disk full?).`,
    );
}
