// `hangar host add|list|remove`, `hangar publish VM --host NAME`, and the commands that act on a
// host's domains when given --host NAME: list, start, stop [--force], snapshot create|list|revert,
// ip (engine/hosts). The words follow Hangar's own commands; virsh does the work on the host.
import { HangarError } from '../../shared/errors';
import type { RemoteDomain } from '../../shared/hosts';
import { formatSize } from '../engine/storage/size';
import { call, type Ctx } from './commands';
import { need, str } from './options';

const USE_HOST = 'Use: hangar host add NAME URI | host list | host remove NAME';
const USE_PUBLISH =
  'Use: hangar publish VM --host NAME [--pool POOL] [--name DOMAIN] [--domain-type kvm|qemu] [--no-start]';

export async function host(ctx: Ctx): Promise<void> {
  const [sub, name, uri] = ctx.args;
  switch (sub) {
    case 'add': {
      const h = await call(ctx, 'remote.addHost', {
        name: need(name, 'the host name'),
        uri: need(uri, 'the libvirt URI (qemu:///system, qemu+ssh://user@host/system)'),
      });
      ctx.print(h, `Added host "${h.name}" (${h.uri}${h.version ? `, libvirt ${h.version}` : ''}).`);
      return;
    }
    case 'list':
    case 'ls': {
      const l = await call(ctx, 'remote.hosts', {});
      ctx.print(l, l.map((h) => `${h.name}  ${h.uri}`).join('\n') || 'No hosts (hangar host add NAME URI).');
      return;
    }
    case 'remove':
    case 'rm': {
      const h = await call(ctx, 'remote.removeHost', { host: need(name, 'the host name') });
      ctx.print(h, `Removed host "${h.name}"; its domains were not touched.`);
      return;
    }
    default:
      throw new HangarError('INVALID_INPUT', USE_HOST);
  }
}

export async function publish(ctx: Ctx): Promise<void> {
  const hostName = str(ctx.values, 'host');
  if (!hostName || !ctx.args[0]) throw new HangarError('INVALID_INPUT', USE_PUBLISH);
  const domainType = str(ctx.values, 'domain-type');
  if (domainType !== undefined && domainType !== 'kvm' && domainType !== 'qemu')
    throw new HangarError('INVALID_INPUT', `--domain-type takes kvm or qemu, not "${domainType}".`);
  const r = await call(ctx, 'vm.publish', {
    vm: ctx.args[0],
    host: hostName,
    ...(str(ctx.values, 'pool') ? { pool: str(ctx.values, 'pool') } : {}),
    ...(str(ctx.values, 'name') ? { name: str(ctx.values, 'name') } : {}),
    ...(domainType ? { domainType } : {}),
    start: ctx.values['no-start'] !== true,
  });
  const volumes = r.volumes.map((v) => `  ${v.path} (${formatSize(v.bytes)})`).join('\n');
  const dropped = r.dropped.length
    ? `\nNot carried over:\n${r.dropped.map((d) => `  - ${d}`).join('\n')}`
    : '';
  const point =
    r.pointInTime === null
      ? ''
      : r.pointInTime === 'frozen'
        ? "\nCopied while running, at one point in time with the guest's filesystems frozen by its agent."
        : '\nCopied while running, at one point in time; no guest agent froze the filesystems, so the ' +
          'copy is crash-consistent (as after a power cut).';
  ctx.print(
    r,
    `Published as "${r.domain}" on ${r.host}${r.started ? ', running' : ''}. Volumes:\n${volumes}${point}${r.warning ? `\nWarning: ${r.warning}` : ''}${dropped}`,
  );
}

const row = (d: RemoteDomain) => `${d.state.padEnd(12)} ${d.name}`;

/** The commands that take --host NAME act on that host's domains instead of Hangar's VMs. */
export async function onHost(command: string, ctx: Ctx): Promise<void> {
  const hostName = str(ctx.values, 'host')!;
  const domain = () => need(ctx.args[command === 'snapshot' ? 1 : 0], 'the domain');
  switch (command) {
    case 'list': {
      const l = await call(ctx, 'remote.domains', { host: hostName });
      ctx.print(l, l.map(row).join('\n') || `No domains on ${hostName}.`);
      return;
    }
    case 'start':
    case 'stop': {
      const action = command === 'start' ? 'start' : ctx.values.force === true ? 'destroy' : 'shutdown';
      const d = await call(ctx, 'remote.action', { host: hostName, domain: domain(), action });
      ctx.print(
        d,
        `${d.name} on ${hostName}: ${d.state}${action === 'shutdown' ? ' (asked to shut down)' : ''}`,
      );
      return;
    }
    case 'ip': {
      const a = await call(ctx, 'remote.address', { host: hostName, domain: domain() });
      ctx.print(a, a.ipv4 ?? a.ipv6 ?? `No address: no guest agent answers in "${a.domain}".`);
      return;
    }
    case 'snapshot': {
      const sub = ctx.args[0];
      if (sub !== 'create' && sub !== 'list' && sub !== 'revert')
        throw new HangarError(
          'INVALID_INPUT',
          'Use: hangar snapshot create|list|revert --host NAME DOMAIN [SNAPSHOT]',
        );
      const snapshot = sub === 'list' ? undefined : need(ctx.args[2], 'the snapshot name');
      const l = await call(ctx, 'remote.snapshot', {
        host: hostName,
        domain: domain(),
        action: sub,
        ...(snapshot ? { snapshot } : {}),
      });
      const said =
        sub === 'create'
          ? `Took snapshot "${snapshot}".`
          : sub === 'revert'
            ? `Reverted to "${snapshot}".`
            : '';
      ctx.print(l, [said, ...l].filter(Boolean).join('\n') || 'No snapshots.');
      return;
    }
    default:
      throw new HangarError(
        'INVALID_INPUT',
        `hangar ${command} does not take --host; on a host there are list, start, stop [--force], ip and snapshot.`,
      );
  }
}
