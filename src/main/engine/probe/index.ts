// The host probe: which QEMU, which accelerator and why, which CPU models, machine types and
// firmware. It costs a few seconds (the KVM speed test), so the result is cached and thrown away
// whenever the binaries, /dev/kvm or the firmware descriptors change.
import { constants, closeSync, existsSync, openSync, readFileSync, statSync, mkdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { HostInfo } from '../../../shared/host';
import { writeFileAtomic } from '../config/atomic';
import { decideAccel, defaultCpuModel, type AccelEvidence } from './accel';
import { locate, parseVersion, versionLine } from './binaries';
import { firmwareDirs, readFirmware } from './firmware';
import { timeFirmwarePost } from './post';
import { queryQemu } from './query';

const PROBE_FORMAT = 1;

export interface ProbeOptions {
  env?: NodeJS.ProcessEnv;
  /** Where to keep the cached result; no caching without it. */
  cacheFile?: string;
  /** Ignore the cache. */
  fresh?: boolean;
}

function forcedAccel(env: NodeJS.ProcessEnv): 'kvm' | 'tcg' | null {
  const v = env.HANGAR_ACCEL?.trim().toLowerCase();
  return v === 'kvm' || v === 'tcg' ? v : null;
}

function fingerprint(paths: string[], env: NodeJS.ProcessEnv): string {
  const parts = paths.map((p) => {
    try {
      const s = statSync(p);
      return `${p}:${s.size}:${s.mtimeMs}:${s.mode}`;
    } catch {
      return `${p}:absent`;
    }
  });
  return JSON.stringify({ PROBE_FORMAT, parts, accel: forcedAccel(env) });
}

function openKvm(): string | null {
  if (!existsSync('/dev/kvm')) return null;
  try {
    closeSync(openSync('/dev/kvm', constants.O_RDWR));
    return '';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'unknown error';
  }
}

async function gatherAccelEvidence(qemu: string, forced: 'kvm' | 'tcg' | null): Promise<AccelEvidence> {
  const openError = openKvm();
  const e: AccelEvidence = {
    forced,
    devicePresent: openError !== null,
    openError,
    tcgPostMs: null,
    kvmPostMs: null,
    kvmFailure: null,
    hostCpuWorks: false,
  };
  // With TCG forced, or no usable device, the slow KVM test is skipped altogether.
  if (forced === 'tcg' || openError !== '') return e;
  const host = await timeFirmwarePost(qemu, 'kvm', 'host');
  if (host.ms !== null) {
    e.hostCpuWorks = true;
    e.kvmPostMs = host.ms;
  } else {
    const named = await timeFirmwarePost(qemu, 'kvm', 'qemu64');
    e.kvmPostMs = named.ms;
    e.kvmFailure = named.failure ?? host.failure;
  }
  e.tcgPostMs = (await timeFirmwarePost(qemu, 'tcg', 'qemu64')).ms;
  return e;
}

export async function probeHost(options: ProbeOptions = {}): Promise<HostInfo> {
  const env = options.env ?? process.env;
  const qemuPath = locate('qemu-system-x86_64', env.HANGAR_QEMU, env);
  const imgPath = locate('qemu-img', env.HANGAR_QEMU_IMG, env);
  let swtpmPath: string | null = null;
  try {
    swtpmPath = locate('swtpm', env.HANGAR_SWTPM, env);
  } catch {
    // No TPM support; only VMs that ask for a TPM will be refused.
  }
  const key = fingerprint([qemuPath, imgPath, swtpmPath ?? '-', '/dev/kvm', ...firmwareDirs(env)], env);
  if (options.cacheFile && !options.fresh) {
    const cached = readCache(options.cacheFile, key);
    if (cached) return cached;
  }

  const qemuVersion = parseVersion(await versionLine(qemuPath));
  const imgVersion = parseVersion(await versionLine(imgPath));
  const swtpm = swtpmPath
    ? { path: swtpmPath, version: parseVersion(await versionLine(swtpmPath)).version }
    : null;
  const evidence = await gatherAccelEvidence(qemuPath, forcedAccel(env));
  const decision = decideAccel(evidence);
  const q = await queryQemu(qemuPath, decision.accel);
  const cpuModels =
    decision.kvm.hostCpuWorks && decision.accel === 'kvm' ? ['host', ...q.cpuModels] : q.cpuModels;

  const info: HostInfo = {
    qemu: { path: qemuPath, ...qemuVersion },
    qemuImg: { path: imgPath, version: imgVersion.version },
    accel: decision.accel,
    accelReason: decision.reason,
    accelForced: evidence.forced !== null,
    kvm: decision.kvm,
    cpuModels,
    defaultCpu: defaultCpuModel(decision.accel, decision.kvm.hostCpuWorks, cpuModels),
    machines: q.machines,
    firmware: readFirmware(firmwareDirs(env)),
    swtpm,
    hostCpus: cpus().length,
    hostMemoryMiB: Math.floor(totalmem() / 1024 / 1024),
    probedAt: new Date().toISOString(),
  };
  if (options.cacheFile) {
    mkdirSync(join(options.cacheFile, '..'), { recursive: true });
    writeFileAtomic(options.cacheFile, JSON.stringify({ key, info }, null, 2));
  }
  return info;
}

function readCache(file: string, key: string): HostInfo | null {
  try {
    const raw = JSON.parse(readFileSync(file, 'utf8')) as { key?: string; info?: unknown };
    if (raw.key !== key) return null;
    const parsed = HostInfo.safeParse(raw.info);
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
