// Where a running engine serves its API, so a CLI started later can be its client instead of
// fighting it for the QMP sockets. The record (port and token) lives in the private runtime dir.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runtimeRoot, ensurePrivateDir } from '../engine/config/paths';
import { writeFileAtomic } from '../engine/config/atomic';
import { isAlive } from '../engine/supervisor/proc';
import { readLock } from '../engine/lock';

export interface EndpointRecord {
  pid: number;
  port: number;
  token: string;
}

function file(home: string, env: NodeJS.ProcessEnv): string {
  return join(runtimeRoot(home, env), 'engine.json');
}

export function writeEndpoint(home: string, env: NodeJS.ProcessEnv, record: EndpointRecord): void {
  ensurePrivateDir(runtimeRoot(home, env));
  writeFileAtomic(file(home, env), JSON.stringify(record), 0o600);
}

export function removeEndpoint(home: string, env: NodeJS.ProcessEnv): void {
  rmSync(file(home, env), { force: true });
}

/** The live engine's endpoint, or null when no engine serves one. */
export function readEndpoint(home: string, env: NodeJS.ProcessEnv): EndpointRecord | null {
  try {
    const r = JSON.parse(readFileSync(file(home, env), 'utf8')) as EndpointRecord;
    const holder = readLock(home);
    return holder?.pid === r.pid && isAlive(r.pid) ? r : null;
  } catch {
    return null;
  }
}
