// Plain-text output for people; --json output is the API's own data.
import { mountHelp } from '../../shared/share';
import type { VmSummary } from '../../shared/api-types';
import type { ApiResults } from '../../shared/api';
import type { HostInfo } from '../../shared/host';
import { formatSize } from '../engine/storage/size';

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => [...(r[i] ?? '')].length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c + ' '.repeat(widths[i]! - [...c].length))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Names are user text: show control characters escaped so they cannot move the cursor. */
export function safe(text: string): string {
  return JSON.stringify(text).slice(1, -1).replace(/\\"/g, '"');
}

export function formatList(vms: VmSummary[]): string {
  if (!vms.length) return 'No VMs yet. Create one with: hangar create --name NAME --iso PATH';
  return table([
    ['ID', 'NAME', 'STATE', 'CPUS', 'MEMORY', 'OS'],
    ...vms.map((v) => [
      v.id,
      safe(v.name),
      v.error ? 'unreadable' : v.busy ? `${v.state} (${v.busy})` : v.state,
      String(v.cpus ?? '-'),
      v.memoryMiB ? `${v.memoryMiB} MiB` : '-',
      v.osType ?? '-',
    ]),
  ]);
}

/** `address`: the guest's, when its agent gave one (cloud images; see the info command). */
export function formatInfo(d: ApiResults['vm.get'], address?: ApiResults['vm.address'] | null): string {
  const c = d.config;
  const lines = [
    `Name       ${safe(c.name)}`,
    `ID         ${c.id}`,
    `State      ${d.state.state}${d.state.reason ? ` (${d.state.reason})` : ''}${d.busy ? `, busy: ${d.busy}` : ''}`,
    `OS         ${c.osType}`,
    `Hardware   ${c.cpus} CPU, ${c.memoryMiB} MiB, ${c.machine}, ${c.firmware}${c.tpm ? ' + TPM' : ''}, ${d.accel.toUpperCase()}`,
    ...c.disks.map(
      (k) =>
        `Disk       ${k.id}: ${k.owned ? k.file : k.path} (${k.format}, ${k.bus}${k.owned ? '' : ', external'}${k.readOnly ? ', read-only' : ''})`,
    ),
    ...c.cdroms.map((k) => `CD-ROM     ${k.id}: ${k.media ?? 'empty'}`),
    ...c.nics.map(
      (n) =>
        `Network    ${n.id}: ${n.model} ${n.mac} NAT` +
        n.portForwards.map((f) => ` ${f.protocol}:${f.hostAddress}:${f.hostPort}->${f.guestPort}`).join(''),
    ),
    ...(c.sharedFolder
      ? [
          `Shared     ${safe(c.sharedFolder.path)} (${c.sharedFolder.readOnly ? 'read-only' : 'read-write'}, SMB${c.sharedFolder.over9p ? ' and 9p' : ''})`,
          `           Linux guest:   ${mountHelp().linux}`,
          ...(c.sharedFolder.over9p ? [`           With 9p:       ${mountHelp().linux9p}`] : []),
          `           Windows guest: ${mountHelp().windows} (${mountHelp().windowsNote})`,
        ]
      : []),
    `Snapshots  ${c.snapshots.length}`,
  ];
  const ip = address?.ipv4 ?? address?.ipv6;
  if (ip) {
    const ssh = address!.ssh;
    const how = ssh ? ` (ssh -p ${ssh.port} ${ssh.user ? `${ssh.user}@` : ''}${ssh.host})` : '';
    lines.splice(lines.length - 1, 0, `Address    ${ip}${how}`);
  }
  if (d.state.logTail) lines.push('', 'Last lines of qemu.log:', d.state.logTail);
  return lines.join('\n');
}

export function formatSnapshots(list: ApiResults['snapshot.list']): string {
  if (!list.length) return 'No snapshots.';
  return table([
    // OWN: the space only that snapshot holds (what deleting it gives back), its RAM included.
    ['', 'ID', 'NAME', 'TAKEN', 'RAM', 'OWN', 'PARENT'],
    ...list.map((s) => [
      s.current ? '*' : '',
      s.id,
      safe(s.name) + (s.missingIn.length ? ' (incomplete)' : ''),
      s.createdAt.replace('T', ' ').slice(0, 19),
      s.vmState ? 'yes' : 'no',
      s.ownBytes === null ? '?' : formatSize(s.ownBytes),
      s.parent ?? '-',
    ]),
  ]);
}

export function formatProbe(info: HostInfo): string {
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

export function formatDiskInfo(
  i: Omit<ApiResults['disk.info'], 'backingChain' | 'backingChainError'>,
): string {
  return [
    `Format        ${i.format}`,
    `Virtual size  ${formatSize(i.virtualSize)} (${i.virtualSize} bytes)`,
    `On disk       ${i.actualSize === null ? '-' : formatSize(i.actualSize)}`,
    `Backing file  ${i.backingFile ?? '-'}`,
    `Snapshots     ${i.snapshots}`,
  ].join('\n');
}
