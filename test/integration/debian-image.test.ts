// The Debian cloud image (scripts/guest/debian/build.sh) boots from its own disk under BIOS and
// UEFI with plain QEMU (not through Hangar's engine): cloud-init reaches its final stage from a
// NoCloud seed, the guest agent answers, and ACPI power-off works. Each boot takes 1-3 minutes
// under TCG, so this runs only when HANGAR_DEBIAN_IMAGE_TEST=1 (and says so when it skips).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

const repo = join(__dirname, '..', '..');
const release = (process.env.HANGAR_DEBIAN_RELEASE ?? 'bookworm') as 'bookworm' | 'trixie';
const enabled = process.env.HANGAR_DEBIAN_IMAGE_TEST === '1';
const FINAL = /Cloud-init v\. [\d.]+.* finished at/;
const BOOT_TIMEOUT_MS = 8 * 60_000; // 50-90 s on a quiet machine; much more while others run VMs

let skipReason = enabled
  ? ''
  : 'set HANGAR_DEBIAN_IMAGE_TEST=1 to boot the Debian image (1-3 min per firmware)';
let image = '';
let qemu: ChildProcess | null = null;
let runDir = '';

beforeAll(() => {
  if (skipReason) return;
  try {
    execFileSync('bash', [join(repo, 'scripts', 'guest', 'debian', 'build.sh'), release], {
      stdio: ['ignore', 'inherit', 'inherit'],
      timeout: 30 * 60_000,
    });
    image = join(repo, '.cache', 'guest', `debian-${release}`, 'disk.qcow2');
  } catch (e) {
    const status = (e as { status?: number }).status;
    skipReason =
      status === 3
        ? `the package mirror does not serve Debian ${release}`
        : `the Debian ${release} image could not be built (exit ${status ?? 'unknown'})`;
  }
}, 31 * 60_000);

afterEach(() => {
  if (qemu && qemu.exitCode === null && qemu.signalCode === null) qemu.kill('SIGKILL');
  qemu = null;
  if (runDir) rmSync(runDir, { recursive: true, force: true });
  runDir = '';
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls a file until it matches, the process exits or the time is up. */
async function waitForFile(file: string, pattern: RegExp, ms: number): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const text = existsSync(file) ? readFileSync(file, 'latin1') : '';
    const m = pattern.exec(text);
    if (m) return m[0];
    if (qemu?.exitCode !== null || qemu?.signalCode !== null)
      throw new Error(`QEMU exited before ${pattern}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern} in ${file}`);
    await sleep(1000);
  }
}

type Msg = Record<string, unknown>;
interface Step {
  send: Buffer | string;
  until: (msg: Msg) => boolean;
}

/**
 * One connection, one step at a time: send, then read JSON lines until one satisfies the step.
 * Lines that do not parse (the tail of an answer an earlier connection left unread) and unrelated
 * messages (QMP greeting, events, the agent's complaint about the 0xFF reset byte) are skipped.
 * Every answer asked for is read in full: an agent whose answer nobody reads blocks writing to its
 * port, and then takes systemd's 90 s stop timeout at shutdown.
 */
function converse(socket: string, steps: Step[], ms = 20_000): Promise<Msg[]> {
  return new Promise((resolve, reject) => {
    const c = connect(socket);
    const matched: Msg[] = [];
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      c.destroy();
      reject(new Error(`no answer on ${socket}`));
    }, ms);
    c.on('connect', () => c.write(steps[0]!.send));
    c.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    c.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      let nl: number;
      while ((nl = buf.indexOf(10)) >= 0) {
        const line = buf.subarray(0, nl).toString('latin1').replace(/\xff/g, '').trim();
        buf = buf.subarray(nl + 1);
        let msg: Msg;
        try {
          msg = JSON.parse(line) as Msg;
        } catch {
          continue;
        }
        if (!steps[matched.length]!.until(msg)) continue;
        matched.push(msg);
        if (matched.length === steps.length) {
          clearTimeout(timer);
          c.end();
          resolve(matched);
          return;
        }
        c.write(steps[matched.length]!.send);
      }
    });
  });
}

async function agentInfo(socket: string): Promise<{ version: string; supported_commands: unknown[] }> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const id = Math.floor(Math.random() * 1e9);
    try {
      const [, info] = await converse(socket, [
        {
          // 0xFF resets the agent's parser; its answer to guest-sync-delimited is also preceded by 0xFF.
          send: Buffer.concat([
            Buffer.from([0xff]),
            Buffer.from(`{"execute":"guest-sync-delimited","arguments":{"id":${id}}}\n`),
          ]),
          until: (m) => m.return === id,
        },
        { send: '{"execute":"guest-info"}\n', until: (m) => typeof (m.return as Msg)?.version === 'string' },
      ]);
      return info!.return as { version: string; supported_commands: unknown[] };
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await sleep(2000);
    }
  }
}

function boot(firmware: 'bios' | 'uefi') {
  runDir = mkdtempSync(join(tmpdir(), 'hdeb-')); // short: UNIX socket paths are limited
  const seed = join(runDir, 'seed');
  mkdirSync(seed);
  const hostname = `hangar-test-${firmware}`;
  writeFileSync(
    join(seed, 'meta-data'),
    `instance-id: iid-${hostname}-${Date.now()}\nlocal-hostname: ${hostname}\n`,
  );
  writeFileSync(join(seed, 'user-data'), '#cloud-config\n');
  execFileSync(
    'xorriso',
    ['-as', 'mkisofs', '-quiet', '-V', 'cidata', '-J', '-r', '-o', `${runDir}/seed.iso`, seed],
    {
      stdio: 'ignore',
    },
  );
  execFileSync('qemu-img', [
    'create',
    '-q',
    '-f',
    'qcow2',
    '-b',
    image,
    '-F',
    'qcow2',
    `${runDir}/overlay.qcow2`,
    '3G',
  ]);
  const fw: string[] = [];
  if (firmware === 'uefi') {
    copyFileSync('/usr/share/OVMF/OVMF_VARS_4M.fd', `${runDir}/vars.fd`);
    fw.push('-drive', 'if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd');
    fw.push('-drive', `if=pflash,format=raw,unit=1,file=${runDir}/vars.fd`);
  }
  // The cloud kernel has no AHCI driver: the seed goes on a read-only virtio disk, not a SATA CD.
  qemu = spawn(
    'qemu-system-x86_64',
    [
      ...['-accel', 'tcg', '-machine', 'q35', '-m', '1024', '-smp', '2', ...fw],
      ...['-drive', `if=virtio,format=qcow2,file=${runDir}/overlay.qcow2`],
      ...['-drive', `if=virtio,format=raw,readonly=on,file=${runDir}/seed.iso`],
      ...['-netdev', 'user,id=n0,restrict=on', '-device', 'virtio-net-pci,netdev=n0'],
      ...['-chardev', `socket,id=qga0,path=${runDir}/qga.sock,server=on,wait=off`],
      ...[
        '-device',
        'virtio-serial-pci',
        '-device',
        'virtserialport,chardev=qga0,name=org.qemu.guest_agent.0',
      ],
      ...['-qmp', `unix:${runDir}/qmp.sock,server=on,wait=off`],
      ...['-serial', `file:${runDir}/serial.log`, '-display', 'none', '-no-reboot'],
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  return { serial: `${runDir}/serial.log`, qga: `${runDir}/qga.sock`, qmp: `${runDir}/qmp.sock`, hostname };
}

describe(`Debian ${release} cloud image under plain QEMU (TCG)`, () => {
  for (const firmware of ['bios', 'uefi'] as const) {
    it(
      `boots from its disk with ${firmware.toUpperCase()}, runs cloud-init, answers as agent, powers off`,
      async (ctx) => {
        if (skipReason) {
          console.log(`debian-image: skipped: ${skipReason}`);
          ctx.skip();
        }
        const started = Date.now();
        const vm = boot(firmware);
        await waitForFile(vm.serial, /Linux version \d/, 180_000);
        const final = await waitForFile(vm.serial, FINAL, BOOT_TIMEOUT_MS);
        console.log(
          `debian-image: ${firmware}: "${final}" after ${Math.round((Date.now() - started) / 1000)} s`,
        );
        expect(readFileSync(vm.serial, 'latin1')).toContain(`${vm.hostname} login:`);

        let t = Date.now();
        const info = await agentInfo(vm.qga);
        console.log(`debian-image: ${firmware}: qemu-ga ${info.version} answered in ${Date.now() - t} ms`);
        expect(info.version).toMatch(/^\d+\.\d+/);
        expect(info.supported_commands.length).toBeGreaterThan(10);

        t = Date.now();
        const [, down] = await converse(vm.qmp, [
          { send: '{"execute":"qmp_capabilities","id":1}\n', until: (m) => m.id === 1 },
          { send: '{"execute":"system_powerdown","id":2}\n', until: (m) => m.id === 2 },
        ]);
        expect(down).toMatchObject({ id: 2, return: {} });
        const code = await new Promise<number | null>((resolve, reject) => {
          const p = qemu!;
          const timer = setTimeout(() => reject(new Error('the guest ignored ACPI power-off')), 180_000);
          if (p.exitCode !== null) resolve(p.exitCode);
          p.on('exit', (c) => {
            clearTimeout(timer);
            resolve(c);
          });
        });
        expect(code).toBe(0);
        console.log(
          `debian-image: ${firmware}: powered off ${Math.round((Date.now() - t) / 1000)} s after system_powerdown`,
        );
      },
      BOOT_TIMEOUT_MS + 6 * 60_000,
    );
  }
});
