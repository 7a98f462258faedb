// The libvirt hosts the user named (hangar host add NAME URI), kept in $HANGAR_HOME/hosts.json.
// Only the engine writes it, and always whole (writeFileAtomic), so a crash leaves the old list
// or the new one. A damaged file is reported, never silently replaced by an empty list.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { HangarError } from '../../../shared/errors';
import { HostName, type LibvirtHost } from '../../../shared/hosts';
import { LibvirtUri } from '../../../shared/libvirt';
import { writeFileAtomic } from '../config/atomic';
import { HOSTS_FILE } from '../config/filenames';

const HostsFile = z.object({
  version: z.literal(1),
  hosts: z.array(z.object({ name: HostName, uri: LibvirtUri, added: z.string().max(40) })).max(1000),
});

export class HostRegistry {
  private readonly file: string;

  constructor(home: string) {
    this.file = join(home, HOSTS_FILE);
  }

  list(): LibvirtHost[] {
    if (!existsSync(this.file)) return [];
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(this.file, 'utf8'));
    } catch (err) {
      throw this.damaged((err as Error).message);
    }
    const ok = HostsFile.safeParse(parsed);
    if (!ok.success) throw this.damaged(ok.error.issues[0]?.message ?? 'unexpected content');
    return ok.data.hosts;
  }

  get(name: string): LibvirtHost {
    const host = this.list().find((h) => h.name === name);
    if (!host)
      throw new HangarError(
        'NOT_FOUND',
        `No host named "${name}". Add it with hangar host add ${name} URI.`,
        {
          host: name,
        },
      );
    return host;
  }

  add(name: string, uri: string): LibvirtHost {
    const hosts = this.list();
    const same = hosts.find((h) => h.name === name);
    if (same)
      throw new HangarError(
        'CONFLICT',
        `A host named "${name}" exists already (${same.uri}). Remove it first: hangar host remove ${name}.`,
      );
    const host = { name, uri, added: new Date().toISOString() };
    this.save([...hosts, host]);
    return host;
  }

  /** Forgets the connection only: nothing on the host is touched. */
  remove(name: string): LibvirtHost {
    const host = this.get(name);
    this.save(this.list().filter((h) => h.name !== name));
    return host;
  }

  private save(hosts: LibvirtHost[]): void {
    writeFileAtomic(this.file, `${JSON.stringify({ version: 1, hosts }, null, 2)}\n`);
  }

  private damaged(why: string): HangarError {
    return new HangarError(
      'INVALID_INPUT',
      `${this.file} is damaged (${why}). Fix or move it away; Hangar does not overwrite it.`,
      { file: this.file },
    );
  }
}
