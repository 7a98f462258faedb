// Readiness checks, each a question asked of a running guest: does its agent answer, has
// cloud-init finished (and without errors), does its NIC have an address, is a port listening,
// does sshd answer through the forward. Each answers now; wait.ts asks them in order until all
// say yes. Guest replies are read with limits: the guest is untrusted.
import { connect } from 'node:net';
import { z } from 'zod';
import { HangarError } from '../../../shared/errors';
import type { VmConfig } from '../../../shared/vm';
import type { EngineContext } from '../context';
import { closeGuestFile, guestExec, openGuestFile, readGuestChunk } from '../agent/guest';
import { sshOf, vmAddress } from '../agent/vm-ops';

export type CheckName = 'agent' | 'cloud-init' | 'ip' | 'ssh' | `port:${number}`;

export interface CheckResult {
  ok: boolean;
  /** What is still awaited, or what was found. */
  detail: string;
}

/** Reads a small file through the agent; null when it does not exist. */
export async function readSmall(
  engine: EngineContext,
  id: string,
  path: string,
  max = 256 * 1024,
): Promise<string | null> {
  const agent = engine.agent(id);
  let handle: number;
  try {
    handle = await openGuestFile(agent, path, 'r');
  } catch (err) {
    if (err instanceof HangarError && err.code === 'QEMU_FAILED') return null; // no such file
    throw err;
  }
  try {
    const chunks: Buffer[] = [];
    let size = 0;
    for (;;) {
      const { data, eof } = await readGuestChunk(agent, handle);
      chunks.push(data);
      size += data.length;
      if (size > max) throw new HangarError('QEMU_FAILED', `${path} in the guest is larger than expected.`);
      if (eof || data.length === 0) break;
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    await closeGuestFile(agent, handle);
  }
}

/** A guest's boot id: it changes at every boot, which is how a reboot is noticed. */
export async function bootId(engine: EngineContext, id: string): Promise<string | null> {
  const text = await readSmall(engine, id, '/proc/sys/kernel/random/boot_id', 100).catch(() => null);
  return text?.trim() ?? null;
}

const Result = z.object({
  v1: z
    .object({ errors: z.array(z.unknown()).max(1000), datasource: z.string().max(500).nullable().optional() })
    .loose(),
});

async function cloudInit(engine: EngineContext, config: VmConfig): Promise<CheckResult> {
  // result.json appears in /run (cleared at every boot) when cloud-init's last stage is over.
  const text = await readSmall(engine, config.id, '/run/cloud-init/result.json');
  if (text === null) return { ok: false, detail: 'cloud-init is still running' };
  let parsed: z.infer<typeof Result>;
  try {
    parsed = Result.parse(JSON.parse(text));
  } catch {
    return { ok: false, detail: 'cloud-init is writing its result' };
  }
  if (!parsed.v1.errors.length) return { ok: true, detail: 'cloud-init is done' };
  const log = await guestExec(engine.agent(config.id), 'tail', {
    args: ['-n', '15', '/var/log/cloud-init-output.log'],
    maxOutputBytes: 8192,
  }).catch(() => null);
  throw new HangarError(
    'QEMU_FAILED',
    `cloud-init finished with errors: ${parsed.v1.errors.map((e) => String(e).slice(0, 300)).join('; ')}` +
      (log ? `\nThe end of /var/log/cloud-init-output.log:\n${log.stdout.toString('utf8')}` : ''),
    { check: 'cloud-init' },
  );
}

/** Listening TCP ports in the guest, read from /proc/net/tcp and tcp6 (state 0A). */
async function listening(engine: EngineContext, id: string, port: number): Promise<boolean> {
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = (await readSmall(engine, id, f, 4 * 1024 * 1024)) ?? '';
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1]?.split(':')[1];
      if (cols[3] === '0A' && local && parseInt(local, 16) === port) return true;
    }
  }
  return false;
}

/** sshd answers with its banner through the host forward. */
function sshBanner(port: number, timeoutMs = 3_000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    let got = '';
    const done = (ok: boolean) => {
      clearTimeout(timer);
      s.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    s.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (got.includes('\n') || got.length > 255) done(got.startsWith('SSH-'));
    });
    s.on('error', () => done(false));
    s.on('close', () => done(got.startsWith('SSH-')));
  });
}

export async function runCheck(
  engine: EngineContext,
  config: VmConfig,
  check: CheckName,
): Promise<CheckResult> {
  if (check === 'agent') {
    const ok = await engine.agent(config.id).ping(2_000);
    return { ok, detail: ok ? 'the guest agent answers' : 'waiting for the guest agent' };
  }
  if (check === 'cloud-init') {
    if (!config.cloudInit) return { ok: true, detail: 'no cloud-init seed' };
    return cloudInit(engine, config);
  }
  if (check === 'ip') {
    const a = await vmAddress(engine, config.id, 3_000);
    const ip = a.ipv4 ?? a.ipv6;
    return ip
      ? { ok: true, detail: `address ${ip}` }
      : { ok: false, detail: 'waiting for an address on the NIC' };
  }
  if (check === 'ssh') {
    const ssh = sshOf(config);
    if (!ssh)
      throw new HangarError('INVALID_INPUT', `"${config.name}" has no port forward to guest port 22.`);
    const ok = await sshBanner(ssh.port);
    return { ok, detail: ok ? `sshd answers on 127.0.0.1:${ssh.port}` : 'waiting for sshd' };
  }
  const port = Number(check.slice('port:'.length));
  const ok = await listening(engine, config.id, port);
  return { ok, detail: ok ? `port ${port} is listening` : `waiting for port ${port} to listen` };
}

/** Parses a check as written on the command line or in a lab file. */
export function parseCheck(text: string): CheckName[] {
  if (text === 'ready') return ['agent', 'cloud-init', 'ip'];
  if (text === 'agent' || text === 'cloud-init' || text === 'ip' || text === 'ssh') return [text];
  const m = /^port:(\d{1,5})$/.exec(text);
  if (m && Number(m[1]) >= 1 && Number(m[1]) <= 65535) return [`port:${Number(m[1])}`];
  throw new HangarError(
    'INVALID_INPUT',
    `Unknown readiness check "${text}"; use ready, agent, cloud-init, ip, ssh, port:N or serial:REGEX.`,
  );
}
