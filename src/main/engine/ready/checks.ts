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
import { tailFile } from '../supervisor/logs';
import { serialSinceStart } from '../supervisor/launch';

export type CheckName =
  'agent' | 'cloud-init' | 'ip' | 'ssh' | `port:${number}` | `serial:${string}` | `http:${number}${string}`;

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

/** The text is on the serial console since the VM's last start (its log's start mark). */
function serialSays(engine: EngineContext, config: VmConfig, text: string): CheckResult {
  const log = tailFile(engine.paths(config.id).serialLog, 256 * 1024, 100_000);
  const since = serialSinceStart(log);
  const ok = since.includes(text);
  return {
    ok,
    detail: ok ? `the serial console says ${text}` : `waiting for "${text}" on the serial console`,
  };
}

/** An HTTP GET through the VM's forward of the guest port answers with a 2xx or 3xx status. */
async function httpAnswers(config: VmConfig, spec: string): Promise<CheckResult> {
  const slash = spec.indexOf('/');
  const guestPort = Number(slash < 0 ? spec : spec.slice(0, slash));
  const path = slash < 0 ? '/' : spec.slice(slash);
  const f = config.nics
    .flatMap((n) => n.portForwards)
    .find((p) => p.protocol === 'tcp' && p.guestPort === guestPort);
  if (!f)
    throw new HangarError(
      'INVALID_INPUT',
      `"${config.name}" has no port forward to guest port ${guestPort}.`,
    );
  const url = `http://127.0.0.1:${f.hostPort}${path}`;
  try {
    const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(3_000) });
    await res.body?.cancel();
    const ok = res.status >= 200 && res.status < 400;
    return { ok, detail: ok ? `${url} answers ${res.status}` : `${url} answers ${res.status}` };
  } catch {
    return { ok: false, detail: `waiting for ${url}` };
  }
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
  if (check.startsWith('serial:')) return serialSays(engine, config, check.slice('serial:'.length));
  if (check.startsWith('http:')) return httpAnswers(config, check.slice('http:'.length));
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
  // Printable ASCII only: the text is matched against the console log, never run or parsed.
  if (/^serial:[\x20-\x7e]{1,200}$/.test(text)) return [text as CheckName];
  const h = /^http:(\d{1,5})(\/[\x21-\x7e]{0,500})?$/.exec(text);
  if (h && Number(h[1]) >= 1 && Number(h[1]) <= 65535) return [text as CheckName];
  throw new HangarError(
    'INVALID_INPUT',
    `Unknown readiness check "${text}"; use ready, agent, cloud-init, ip, ssh, port:N, http:PORT/PATH or serial:TEXT.`,
  );
}
