import { describe, expect, it } from 'vitest';
import { formatLabError, MAX_LAB_FILE_BYTES, parseLab } from './parse';

const EXAMPLE = `version: 1
name: web
baseline: on-ready
networks:
  backend:
    subnet: 10.10.0.0/24
vms:
  db:
    template: debian-12
    memory: 1G
    nics:
      - network: backend
        ip: 10.10.0.5
    ready: [agent, "port:5432"]
  app:
    image: /srv/images/debian-12.qcow2
    nics: [{ network: backend }]
    forwards: ["8080:80"]
    provision:
      - apt-get install -y nginx
      - { run: systemctl restart nginx, via: ssh }
    ready: [ssh, "http:80/health"]
    dependsOn: [db]
  client:
    nics: [{ network: backend }]
    matrix:
      debian: { template: debian-12 }
      tiny: { template: tiny, memory: 256M }
    dependsOn: [app]
`;

function errors(text: string) {
  const r = parseLab(text);
  if (r.ok) throw new Error('expected errors');
  return r.errors;
}

describe('lab files', () => {
  it('expands a valid lab: matrix entries, dependsOn, addresses and MACs the same on every read', () => {
    const r = parseLab(EXAMPLE);
    if (!r.ok) throw new Error(r.errors.map((e) => formatLabError('x', e)).join('\n'));
    const vms = Object.fromEntries(r.lab.vms.map((v) => [v.name, v]));
    expect(Object.keys(vms)).toEqual(['db', 'app', 'client-debian', 'client-tiny']);
    expect(vms['client-tiny']!.source).toEqual({ kind: 'template', value: 'tiny' });
    expect(vms['client-tiny']!.memoryMiB).toBe(256);
    expect(vms['db']!.memoryMiB).toBe(1024);
    expect(vms['client-debian']!.dependsOn).toEqual(['app']);
    expect(vms['app']!.dependsOn).toEqual(['db']);
    // The fixed address is kept; the others come from .10 up, in name order; .1 is the switch's.
    expect(vms['db']!.nics[0]!.ip).toBe('10.10.0.5');
    expect(['app', 'client-debian', 'client-tiny'].map((n) => vms[n]!.nics[0]!.ip)).toEqual([
      '10.10.0.10',
      '10.10.0.11',
      '10.10.0.12',
    ]);
    expect(r.lab.networks[0]).toMatchObject({ name: 'backend', switchIp: '10.10.0.1', prefix: 24 });
    const macs = r.lab.vms.map((v) => v.nics[0]!.mac);
    expect(new Set(macs).size).toBe(4);
    for (const m of macs) expect(m).toMatch(/^52:54:00(:[0-9a-f]{2}){3}$/);
    const again = parseLab(EXAMPLE);
    expect(again.ok && again.lab).toEqual(r.lab);
    expect(vms['app']!.forwards).toEqual([{ host: 8080, guest: 80, proto: 'tcp' }]);
    expect(vms['app']!.provision).toEqual([
      { run: 'apt-get install -y nginx', via: 'agent' },
      { run: 'systemctl restart nginx', via: 'ssh' },
    ]);
    // Another lab name gives other MACs: two labs never share one.
    const other = parseLab(EXAMPLE.replace('name: web', 'name: web2'));
    expect(other.ok && other.lab.vms[0]!.nics[0]!.mac).not.toBe(macs[0]);
  });

  it('refuses an unknown key with its line, column and key path', () => {
    const e = errors(EXAMPLE.replace('    memory: 1G\n', '    memory: 1G\n    memroy: 2G\n'));
    expect(e).toEqual([
      expect.objectContaining({
        line: 11,
        column: 5,
        key: 'vms.db.memroy',
        message: expect.stringContaining('unknown key "memroy"'),
      }),
    ]);
    expect(formatLabError('hangar.lab.yaml', e[0]!)).toMatch(
      /^hangar\.lab\.yaml:11:5: vms\.db\.memroy: unknown key/,
    );
  });

  it('points at the value that has the wrong type or form', () => {
    const e = errors(EXAMPLE.replace('memory: 1G', 'memory: lots').replace('"8080:80"', '"80:80:80"'));
    expect(e.map((x) => [x.line, x.key])).toEqual([
      [10, 'vms.db.memory'],
      [18, 'vms.app.forwards.0'],
    ]);
    expect(e[0]!.message).toMatch(/size like 512M/);
  });

  it('checks what the schema cannot: sources, networks, addresses, ports, dependsOn', () => {
    const bad = `version: 1
name: lab
networks:
  a: { subnet: 10.0.0.0/24 }
  b: { subnet: 10.0.0.128/25 }
vms:
  one:
    nics: [{ network: a, ip: 10.0.0.1 }, { network: c }]
    dependsOn: [two]
  two:
    template: t
    iso: /x.iso
    nics: [{ network: a, ip: 10.0.0.9 }, { network: a, ip: 10.0.0.9 }]
    forwards: ["2222:22"]
    dependsOn: [one, nope]
  three:
    template: t
    forwards: ["2222:22/tcp"]
    nics: [{ network: a, ip: 10.0.1.3 }]
`;
    const e = errors(bad);
    const by = (key: string) => e.find((x) => x.key === key)?.message ?? `(no error at ${key})`;
    expect(by('networks.b.subnet')).toMatch(/overlaps network "a"/);
    expect(by('vms.one')).toMatch(/none of image, template, iso or vm/);
    expect(by('vms.one.nics.0.ip')).toMatch(/taken by the lab switch/);
    expect(by('vms.one.nics.1.network')).toMatch(/no network "c"/);
    expect(by('vms.two')).toMatch(/template and iso/);
    expect(by('vms.two.nics.1.ip')).toMatch(/10\.0\.0\.9 is taken by two/);
    expect(by('vms.two.dependsOn.1')).toMatch(/no VM "nope"/);
    expect(by('vms.three.forwards.0')).toMatch(/2222\/tcp is forwarded by two/);
    expect(by('vms.three.nics.0.ip')).toMatch(/not a host address of 10\.0\.0\.0\/24/);
    expect(e.some((x) => /waits in a circle: one → two → one|two → one → two/.test(x.message))).toBe(true);
    // Each points somewhere real in the file.
    for (const x of e) expect(x.line).toBeGreaterThan(1);
  });

  it('refuses a matrix VM with a fixed IP or forwards, and names that collide', () => {
    const e = errors(`version: 1
name: m
networks: { n: { subnet: 192.168.50.0/24 } }
vms:
  web:
    template: t
    nics: [{ network: n, ip: 192.168.50.20 }]
    forwards: ["8080:80"]
    matrix: { a: {}, b: { image: /i.qcow2 } }
  web-a:
    template: t
`);
    expect(e.map((x) => x.key)).toEqual(
      expect.arrayContaining(['vms.web.nics', 'vms.web.forwards', 'vms.web-a']),
    );
    expect(e.find((x) => x.key === 'vms.web-a')?.message).toMatch(
      /named "web-a", as "web \(matrix a\)" does/,
    );
  });

  it('gives YAML errors with their position, refuses duplicate keys, alias bombs and huge files', () => {
    const syntax = errors('version: 1\nname: x\nvms:\n  a: [unclosed\n');
    expect(syntax[0]!.line).toBeGreaterThanOrEqual(4);
    const dup = errors('version: 1\nname: x\nname: y\nvms: { a: { template: t } }\n');
    expect(dup[0]).toMatchObject({ line: 3 });
    expect(dup[0]!.message).toMatch(/unique/i);
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 12; i++) {
      const prev = String.fromCharCode(96 + i);
      const cur = String.fromCharCode(97 + i);
      levels.push(`${cur}: &${cur} [${Array(10).fill(`*${prev}`).join(',')}]`);
    }
    const bomb = errors(`version: 1\nname: x\n${levels.join('\n')}\nvms: { v: { template: t } }\n`);
    expect(bomb[0]!.message).toMatch(/alias/i);
    const huge = errors(`version: 1\nname: x\n# ${'x'.repeat(MAX_LAB_FILE_BYTES)}\n`);
    expect(huge[0]!.message).toMatch(/at most 1024 KiB/);
    expect(errors('version: 2\nname: x\nvms: { a: { template: t } }\n')[0]).toMatchObject({
      key: 'version',
      line: 1,
    });
    expect(errors('')[0]!.message).toBeTruthy();
  });
});
