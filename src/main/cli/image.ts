// `hangar image ...` (the library: list, add, import, pull, rm, verify, catalog) and `hangar os ...`
// (osinfo-db: search, show). Progress of add, import, pull and verify shows on stderr.
import { HangarError } from '../../shared/errors';
import type { CatalogOs, ImageMeta } from '../../shared/images';
import { formatSize } from '../engine/storage/size';
import { sniffFormat } from '../engine/images/sniff';
import { call, type Ctx } from './commands';
import { EXIT } from './exit';
import { need, str } from './options';
import { resolve } from 'node:path';

const USE_IMAGE = 'Use: hangar image list|add FILE|import FILE|pull NAME|rm IMAGE|verify [IMAGE]|catalog';

function describeImage(m: ImageMeta & { usedBy?: string[] }): string {
  const os = m.os ? `  ${m.os.name}` : '';
  const used = m.usedBy?.length ? `  used by ${m.usedBy.join(', ')}` : '';
  return `${m.id.slice(0, 12)}  ${m.name}  ${m.format} ${formatSize(m.virtualSize)}${os}${used}`;
}

function describeOs(o: CatalogOs): string {
  const r = o.recommended;
  const dates = [
    o.releaseDate && `released ${o.releaseDate}`,
    o.eolDate && `end of life ${o.eolDate}`,
  ].filter(Boolean);
  return [
    `${o.shortId}  ${o.name}${o.vendor ? ` (${o.vendor})` : ''}`,
    `  family ${o.family ?? '?'}${dates.length ? `, ${dates.join(', ')}` : ''}`,
    `  recommended: ${r.cpus ?? '?'} CPU, ${r.memoryMiB ?? '?'} MiB, ${r.diskBytes ? formatSize(r.diskBytes) : '?'} disk; minimum ${o.minimum.memoryMiB ?? '?'} MiB`,
    `  virtio: ${o.virtio ? 'yes' : 'no (emulated devices)'}${o.firmware.length ? `; firmware: ${o.firmware.join(', ')}` : ''}${o.downloads.length ? `; pull: ${o.downloads.join(', ')}` : ''}`,
  ].join('\n');
}

export async function image(ctx: Ctx): Promise<number | void> {
  const [sub, arg] = ctx.args;
  switch (sub) {
    case 'list':
    case 'ls': {
      const list = await call(ctx, 'image.list', {});
      ctx.print(
        list,
        list.length
          ? list.map(describeImage).join('\n')
          : 'The library is empty (hangar image pull NAME, or hangar image add FILE).',
      );
      return;
    }
    case 'add':
    case 'import': {
      const file = resolve(need(arg, 'the file'));
      let kind: string;
      try {
        kind = sniffFormat(file);
      } catch (err) {
        throw new HangarError('NOT_FOUND', `Cannot read ${file}: ${(err as Error).message}`);
      }
      if (kind === 'ova') {
        if (ctx.values['dry-run']) {
          const plan = await call(ctx, 'image.planOva', { path: file });
          const disks = plan.disks.map((d) => `${d.file} (${formatSize(d.capacityBytes)})`).join(', ');
          const notes = plan.notHonoured.length
            ? `\nNot honoured:\n${plan.notHonoured.map((n) => `  - ${n}`).join('\n')}`
            : '\nEverything in it can be honoured.';
          ctx.print(
            plan,
            `Would import VM "${plan.name}": ${plan.cpus ?? '?'} CPU, ${plan.memoryMiB ?? '?'} MiB, ${plan.firmware}, disk ${disks}, NICs ${plan.nics.join(', ') || 'none'}.${notes}`,
          );
          return;
        }
        const r = await call(ctx, 'image.importOva', { path: file, name: str(ctx.values, 'name') });
        const notes = r.notHonoured.length
          ? `\nNot honoured:\n${r.notHonoured.map((n) => `  - ${n}`).join('\n')}`
          : '';
        ctx.print(
          r,
          `Imported ${file}: VM "${r.vm.name}" (${r.vm.id}), ${r.vm.cpus} CPU, ${r.vm.memoryMiB} MiB, ${r.vm.firmware}, on image ${r.image.id.slice(0, 12)}.${notes}`,
        );
        return;
      }
      const format = str(ctx.values, 'format');
      if (format !== undefined && format !== 'raw')
        throw new HangarError(
          'INVALID_INPUT',
          '--format takes only raw (to store a hybrid ISO as a disk); other formats are read from the file.',
        );
      const m = await call(ctx, 'image.add', { path: file, name: str(ctx.values, 'name'), format });
      const converted =
        m.source.originalFormat && m.source.originalFormat !== m.format
          ? ` (converted from ${m.source.originalFormat}, compared)`
          : '';
      ctx.print(m, `Added ${describeImage(m)}${converted}.`);
      return;
    }
    case 'pull': {
      const m = await call(ctx, 'image.pull', { id: need(arg, 'the catalog name (hangar image catalog)') });
      const v = m.source.verified;
      ctx.print(m, `Pulled ${describeImage(m)}${v ? `; ${v.algorithm} verified against ${v.list}` : ''}.`);
      return;
    }
    case 'rm':
    case 'remove': {
      const m = await call(ctx, 'image.remove', { image: need(arg, 'the image (id, id prefix or name)') });
      ctx.print(m, `Removed ${m.name} (${m.id.slice(0, 12)}).`);
      return;
    }
    case 'verify': {
      const results = await call(ctx, 'image.verify', { image: arg });
      const lines = results.map(
        (r) =>
          `${r.ok ? 'ok     ' : 'CHANGED'}  ${r.id.slice(0, 12)}  ${r.name}${r.ok ? '' : `  (the file's SHA-256 is now ${r.actual})`}`,
      );
      ctx.print(results, lines.join('\n') || 'The library is empty.');
      return results.every((r) => r.ok) ? EXIT.ok : EXIT.failed;
    }
    case 'catalog': {
      const list = await call(ctx, 'image.catalog', {});
      ctx.print(
        list,
        list
          .map(
            (e) =>
              `${e.id.padEnd(20)} ${e.kind.padEnd(5)} ${e.name}${e.defaultUser ? `  user ${e.defaultUser}` : ''}${e.pulled ? '  (pulled)' : ''}`,
          )
          .join('\n'),
      );
      return;
    }
    default:
      throw new HangarError('INVALID_INPUT', USE_IMAGE);
  }
}

export async function os(ctx: Ctx): Promise<void> {
  const [sub, ...rest] = ctx.args;
  if (sub !== 'search' && sub !== 'show' && sub !== 'list')
    throw new HangarError('INVALID_INPUT', 'Use: hangar os search WORDS | hangar os show SHORT-ID');
  const query = rest.join(' ');
  if (sub === 'show') need(query || undefined, 'the short-id (as virt-install --os-variant)');
  const found = await call(ctx, 'os.search', { query });
  const list = sub === 'show' ? found.filter((o) => o.shortId === query || found.length === 1) : found;
  if (sub === 'show' && !list.length)
    throw new HangarError('NOT_FOUND', `osinfo-db knows no OS "${query}"; try hangar os search.`);
  ctx.print(
    sub === 'show' ? list[0] : list,
    sub === 'show'
      ? describeOs(list[0]!)
      : list.map((o) => `${o.shortId.padEnd(22)} ${o.name}`).join('\n') || 'No OS matches.',
  );
}
