// The image library's methods of the API (engine/images). Progress of add, import, pull and verify
// goes out as `progress` events under the id "images".
import type { z } from 'zod';
import type { ApiParams, ApiResults } from '../../shared/api';
import type { CatalogOs } from '../../shared/images';
import type { Engine } from '../engine/engine';
import { loadCatalog } from '../engine/images/catalog';
import { findOs, searchOsinfo, type OsinfoOs } from '../engine/images/osinfo';
import {
  addImage,
  identifyIso,
  importOva,
  library,
  listImages,
  planOva,
  pullImage,
  removeImage,
  verifyImages,
} from '../engine/images/service';

type P<M extends keyof typeof ApiParams> = z.output<(typeof ApiParams)[M]>;

export function imageHandlers(engine: Engine) {
  const catalogOs = (o: OsinfoOs | null): CatalogOs | null => {
    if (!o) return null;
    const downloads = loadCatalog(engine.home)
      .filter((e) => e.osinfo !== null && o.shortIds.includes(e.osinfo))
      .map((e) => e.id);
    const { id: _id, shortIds: _s, distro: _d, derivesFrom: _f, media: _m, ...rest } = o;
    return { ...rest, downloads };
  };
  return {
    'image.list': () => listImages(engine),
    'image.add': (p: P<'image.add'>) => addImage(engine, p.path, p.name, p.format),
    'image.importOva': async (p: P<'image.importOva'>): Promise<ApiResults['image.importOva']> => {
      const r = await importOva(engine, p.path, p.name);
      return { vm: r.vm, image: r.image, notHonoured: r.ovf.notHonoured };
    },
    'image.planOva': async (p: P<'image.planOva'>): Promise<ApiResults['image.planOva']> => {
      const { files: _files, ...plan } = await planOva(engine, p.path);
      return plan;
    },
    'image.pull': (p: P<'image.pull'>) => pullImage(engine, p.id),
    'image.remove': (p: P<'image.remove'>) => removeImage(engine, p.image),
    'image.verify': (p: P<'image.verify'>) => verifyImages(engine, p.image),
    'image.catalog': (): ApiResults['image.catalog'] => {
      const images = library(engine).list();
      return loadCatalog(engine.home).map((e) => ({
        id: e.id,
        name: e.name,
        kind: e.kind,
        url: e.url,
        checksums: e.checksums.url,
        signed: e.checksums.signed,
        signatureChecked: e.checksums.signature !== null,
        defaultUser: e.defaultUser,
        serialConsole: e.serialConsole,
        os: e.osinfo ? catalogOs(findOs(e.osinfo)) : null,
        pulled: images.find((m) => m.catalogId === e.id)?.id ?? null,
      }));
    },
    'os.search': (p: P<'os.search'>) =>
      searchOsinfo(p.query)
        .slice(0, 200)
        .map((o) => catalogOs(o)!),
    'iso.identify': (p: P<'iso.identify'>): ApiResults['iso.identify'] => {
      const found = identifyIso(engine, p.path);
      return { kind: found.kind, volumeId: found.volumeId, os: catalogOs(found.os) };
    },
  };
}
