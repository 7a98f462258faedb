// `hangar`: the command line front end. It drives the same engine as the app, prints plain text
// for people and, with --json, one JSON document for scripts; failures go to stderr with an
// exit code from exit.ts.
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { HangarError, toErrorData } from '../../shared/errors';
import type { HostInfo } from '../../shared/host';
import { hangarHome } from '../engine/config/paths';
import { probeHost } from '../engine/probe';
import { EXIT, exitCodeFor } from './exit';

const USAGE = `Usage: hangar <command> [options]

Commands:
  probe [--fresh]     What this host can do: QEMU, accelerator (and why), CPU models, firmware

Options:
  --json              Print one JSON document instead of text
  -h, --help          Show this help

Data lives in $HANGAR_HOME (default ~/.local/share/hangar).`;

function printProbe(info: HostInfo): string {
  const fw = info.firmware.map((f) => `${f.descriptor}${f.secureBoot ? ' (secure boot)' : ''}`);
  return [
    `QEMU         ${info.qemu.version}  ${info.qemu.path}`,
    `qemu-img     ${info.qemuImg.version}  ${info.qemuImg.path}`,
    `Accelerator  ${info.accel.toUpperCase()}: ${info.accelReason}`,
    `CPU model    ${info.defaultCpu} (of ${info.cpuModels.length} usable)`,
    `Machines     ${info.machines
      .filter((m) => m.alias)
      .map((m) => `${m.alias} (${m.name})`)
      .join(', ')}`,
    `UEFI         ${fw.length ? fw.join(', ') : 'none found: install ovmf for UEFI guests'}`,
    `TPM          ${info.swtpm ? `swtpm ${info.swtpm.version}` : 'swtpm not found: install swtpm for TPM guests'}`,
    `Host         ${info.hostCpus} CPUs, ${info.hostMemoryMiB} MiB`,
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        fresh: { type: 'boolean' },
      },
    });
  } catch (err) {
    console.error(`hangar: ${(err as Error).message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  const [command] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return command || values.help ? EXIT.ok : EXIT.usage;
  }
  try {
    switch (command) {
      case 'probe': {
        const home = hangarHome();
        const info = await probeHost({
          cacheFile: join(home, 'cache', 'probe.json'),
          fresh: values.fresh === true,
        });
        console.log(values.json ? JSON.stringify(info, null, 2) : printProbe(info));
        return EXIT.ok;
      }
      default:
        throw new HangarError(
          'INVALID_INPUT',
          `Unknown command "${command}". Run hangar --help for the list.`,
        );
    }
  } catch (err) {
    const data = toErrorData(err);
    if (values.json) console.log(JSON.stringify({ ok: false, error: data }));
    console.error(`hangar: ${data.message}`);
    return exitCodeFor(data.code);
  }
}
