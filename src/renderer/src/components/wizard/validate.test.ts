import { describe, expect, it } from 'vitest';
import { CreateVmRequest, type PickedFile } from '../../../../shared/requests';
import { chooseOs, initialForm, newForwardRow, setField, type HostBounds, type WizardForm } from './form';
import { buildRequest, errorsFor, parseSize } from './validate';

const host: HostBounds = { hostCpus: 4, hostMemoryMiB: 8192, tpm: true };

/** A file as the file dialog hands it to the page: a grant, with the name and path to show. */
function picked(path: string, n = 0): PickedFile {
  return { grant: `grant:${String(n).padStart(22, 'A')}`, name: path.slice(path.lastIndexOf('/') + 1), path };
}
const ISO = picked('/isos/debian.iso', 1);
const DISK = picked('/vm/base.qcow2', 2);
const VMDK = picked('/vm/x.vmdk', 3);
const KERNEL = picked('/boot/vmlinuz', 4);
const INITRD = picked('/boot/initrd.img', 5);

function form(patch: Partial<WizardForm> = {}): WizardForm {
  return { ...initialForm(host), name: 'web', iso: ISO, ...patch };
}

function check(f: WizardForm, h: HostBounds | null = host) {
  return buildRequest(f, { host: h });
}

describe('parseSize', () => {
  it('reads sizes as people type them', () => {
    expect(parseSize('20G')).toEqual({ bytes: 20 * 2 ** 30 });
    expect(parseSize(' 512m ')).toEqual({ bytes: 512 * 2 ** 20 });
    expect(parseSize('1.5TiB')).toEqual({ bytes: 1.5 * 2 ** 40 });
    expect(parseSize('64M')).toEqual({ bytes: 64 * 2 ** 20 });
  });

  it.each([
    ['', /Enter a size/],
    ['0', /above zero/],
    ['0G', /above zero/],
    ['-1G', /negative/],
    ['20', /bytes: add a unit/],
    ['100K', /too small/],
    ['65T', /too large/],
    ['1P', /not a size/],
    ['1e9', /not a size/],
    ['20 GB extra', /not a size/],
  ])('refuses %j with a clear message', (text, message) => {
    const r = parseSize(text);
    expect('error' in r && r.error).toMatch(message);
  });
});

describe('buildRequest', () => {
  it('builds a request the shared schema accepts', () => {
    const { request, errors } = check(form());
    expect(errors).toEqual({});
    expect(request).toMatchObject({
      name: 'web',
      osType: 'linux',
      cpus: 2,
      memoryMiB: 2048,
      iso: ISO.grant,
      disk: { kind: 'new', size: '20G', format: 'qcow2', preallocation: 'off' },
      network: { portForwards: [] },
      directBoot: null,
    });
    expect(CreateVmRequest.safeParse(request).success).toBe(true);
  });

  it.each(['a, b', 'say "hi"', "it's", 'Übung 日本 🚀', '<b>bold</b>'])('allows the name %j', (name) => {
    expect(check(form({ name })).errors).toEqual({});
  });

  it.each([
    ['', /empty/],
    ['   ', /only spaces/],
    ['two\nlines', /line break/],
    ['tab\there', /control/],
    ['trailing\n', /line break/],
    ['x'.repeat(101), /longer than 100/],
  ])('refuses the name %j', (name, message) => {
    const r = check(form({ name }));
    expect(r.request).toBeNull();
    expect(r.errors.name).toMatch(message);
    expect(Object.keys(errorsFor('name', r.errors))).toEqual(['name']);
  });

  it('keeps CPUs and memory within the host', () => {
    expect(check(form({ cpus: '5' })).errors.cpus).toMatch(/4 CPUs/);
    expect(check(form({ cpus: '0' })).errors.cpus).toMatch(/at least 1/);
    expect(check(form({ cpus: 'two' })).errors.cpus).toMatch(/whole number/);
    expect(check(form({ memoryMiB: '9000' })).errors.memoryMiB).toMatch(/8192 MiB/);
    expect(check(form({ memoryMiB: '16' })).errors.memoryMiB).toMatch(/at least 32/);
    expect(check(form({ memoryMiB: '' })).errors.memoryMiB).toMatch(/Enter/);
    // Without the host probe the bounds are unknown; the schema's own limits still apply.
    expect(check(form({ cpus: '64' }), null).errors).toEqual({});
    expect(check(form({ cpus: '300' }), null).errors.cpus).toBeDefined();
  });

  it('refuses bad disk sizes but ignores the size for an existing image', () => {
    expect(check(form({ diskSize: '0' })).errors.diskSize).toMatch(/above zero/);
    expect(check(form({ diskSize: '-5G' })).errors.diskSize).toMatch(/negative/);
    expect(check(form({ diskSize: '999T' })).errors.diskSize).toMatch(/too large/);
    const existing = form({ media: 'disk', diskImage: DISK, diskSize: 'junk', existing: 'copy' });
    const r = buildRequest(existing, { host, disk: { grant: DISK.grant, format: 'qcow2' } });
    expect(r.errors).toEqual({});
    expect(r.request?.disk).toEqual({
      kind: 'existing',
      path: DISK.grant,
      copy: true,
      format: 'qcow2',
    });
    expect(r.request?.iso).toBeNull();
  });

  it('refuses metadata preallocation for raw images', () => {
    const r = check(form({ diskFormat: 'raw', preallocation: 'metadata' }));
    expect(Object.keys(errorsFor('disk', r.errors))).toEqual(['preallocation']);
    expect(check(form({ diskFormat: 'raw', preallocation: 'full' })).errors).toEqual({});
  });

  it('shows the engine error of disk.info and refuses foreign formats and unusable chains', () => {
    const f = form({ media: 'disk', diskImage: VMDK });
    expect(
      buildRequest(f, { host, disk: { grant: VMDK.grant, error: 'No such file.' } }).errors.diskImage,
    ).toBe('No such file.');
    expect(buildRequest(f, { host, disk: { grant: VMDK.grant, format: 'vmdk' } }).errors.diskImage).toMatch(
      /convert it to qcow2/,
    );
    expect(
      buildRequest(f, { host, disk: { grant: VMDK.grant, format: 'qcow2', chainError: 'No format.' } }).errors
        .diskImage,
    ).toBe('No format.');
    // An answer about another choice is stale and says nothing about this one.
    expect(buildRequest(f, { host, disk: { grant: DISK.grant, error: 'No.' } }).errors).toEqual({});
  });

  it('needs a chosen file, and sends its grant, never its path', () => {
    expect(check(form({ iso: null })).errors.iso).toMatch(/Choose an ISO/);
    expect(check(form({ media: 'disk', diskImage: null })).errors.diskImage).toMatch(/Choose the disk image/);
    const r = check(form({ media: 'disk', diskImage: DISK }));
    expect(JSON.stringify(r.request)).not.toContain(DISK.path);
    expect(JSON.stringify(check(form()).request)).not.toContain(ISO.path);
  });

  it('boots a kernel directly only with no media, and needs the kernel', () => {
    const r = check(form({ media: 'none', kernel: KERNEL, initrd: null, cmdline: 'console=ttyS0' }));
    expect(r.request?.directBoot).toEqual({ kernel: KERNEL.grant, cmdline: 'console=ttyS0' });
    expect(r.request?.iso).toBeNull();
    const both = check(form({ media: 'none', kernel: KERNEL, initrd: INITRD, cmdline: '' }));
    expect(both.request?.directBoot).toEqual({ kernel: KERNEL.grant, initrd: INITRD.grant, cmdline: '' });
    expect(check(form({ media: 'none', cmdline: 'quiet' })).errors.kernel).toMatch(/needs a kernel/);
    expect(check(form({ media: 'none', initrd: INITRD })).errors.kernel).toMatch(/needs a kernel/);
    expect(check(form({ media: 'iso', kernel: KERNEL })).request?.directBoot).toBeNull();
  });

  it('validates port forwards: range, numbers and duplicates', () => {
    const rows = [1, 2, 3, 4].map(() => newForwardRow());
    const [a, b, c, d] = rows as [(typeof rows)[0], (typeof rows)[0], (typeof rows)[0], (typeof rows)[0]];
    Object.assign(a, { hostPort: '8080', guestPort: '80' });
    Object.assign(b, { hostPort: '8080', guestPort: '81' });
    Object.assign(c, { hostPort: '8080', guestPort: '53', protocol: 'udp' });
    Object.assign(d, { hostPort: '70000', guestPort: 'x' });
    const { errors } = check(form({ forwards: rows }));
    expect(errors[`forward.${a.id}.host`]).toBeUndefined();
    expect(errors[`forward.${b.id}.host`]).toMatch(/already forwarded/);
    expect(errors[`forward.${c.id}.host`]).toBeUndefined();
    expect(errors[`forward.${d.id}.host`]).toMatch(/1 to 65535/);
    expect(errors[`forward.${d.id}.guest`]).toMatch(/whole number/);
    expect(Object.keys(errorsFor('network', errors))).toHaveLength(3);
    // With NAT off there is no network, and its rows no longer matter.
    expect(check(form({ nat: false, forwards: rows })).request?.network).toBeNull();
  });

  it('refuses a TPM when the host has no swtpm', () => {
    expect(check(form({ tpm: true }), { ...host, tpm: false }).errors.tpm).toMatch(/swtpm/);
  });
});

describe('OS profiles', () => {
  it('applies defaults to fields the user has not changed, bounded by the host', () => {
    const small: HostBounds = { hostCpus: 1, hostMemoryMiB: 3000, tpm: false };
    const f = chooseOs(initialForm(small), 'windows11', small);
    expect(f).toMatchObject({
      cpus: '1',
      memoryMiB: '3000',
      diskSize: '64G',
      firmware: 'uefi-secure',
      tpm: false,
    });
  });

  it('keeps what the user set by hand', () => {
    let f = setField(initialForm(host), 'memoryMiB', '256');
    f = setField(f, 'diskSize', '64M');
    f = chooseOs(f, 'windows10', host);
    expect(f).toMatchObject({ memoryMiB: '256', diskSize: '64M', firmware: 'uefi', osType: 'windows10' });
  });
});

describe('a cloud image', () => {
  const IMAGE = picked('/images/debian-12-genericcloud-amd64.qcow2', 6);
  const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA0fVIt7SmjSrCeEkSJzMi4vj4wwcf1sPvAVnHKvzTNt me@laptop';
  const cloud = (patch: Partial<WizardForm> = {}) =>
    form({ media: 'cloud', iso: null, cloudImage: IMAGE, diskSize: '20G', ...patch });

  it('is copied into the VM, grown, and set up by cloud-init with the ticked and pasted keys', () => {
    const { request, errors } = check(
      cloud({
        ciUser: 'dev',
        ciKeys: [KEY],
        ciPastedKeys: `\n${KEY.replace('me@laptop', 'ci')}\n`,
        ciPassword: 'pw',
      }),
    );
    expect(errors).toEqual({});
    expect(request).toMatchObject({
      disk: { kind: 'existing', path: IMAGE.grant, copy: true },
      diskSize: '20G',
      iso: null,
      cloudInit: { user: 'dev', sshKeys: [KEY, KEY.replace('me@laptop', 'ci')], password: 'pw' },
    });
    expect(CreateVmRequest.safeParse(request).success).toBe(true);
  });

  it("leaves the keys to the engine's default (~/.ssh/*.pub) until the list has loaded", () => {
    const { request } = check(cloud());
    expect(request?.cloudInit).toEqual({});
  });

  it('says which pasted line is not a public key, on the media step', () => {
    const { errors } = check(cloud({ ciPastedKeys: `${KEY}\n-----BEGIN OPENSSH PRIVATE KEY-----` }));
    expect(errors.ciPastedKeys).toMatch(/Line 2 is not an SSH public key/);
    expect(Object.keys(errorsFor('media', errors))).toContain('ciPastedKeys');
  });

  it('refuses user-data that is neither #cloud-config nor a script, and a root user', () => {
    const { errors } = check(cloud({ ciUserData: 'packages: [git]', ciUser: 'root' }));
    expect(errors.ciUserData).toMatch(/#cloud-config/);
    expect(errors.ciUser).toMatch(/other than root/);
  });

  it('needs the image, NAT, and a size no smaller than the image', () => {
    expect(check(cloud({ cloudImage: null })).errors.cloudImage).toMatch(/Choose the cloud image/);
    expect(check(cloud({ nat: false })).errors.nat).toMatch(/needs its network/);
    const small = buildRequest(cloud({ diskSize: '1G' }), {
      host,
      disk: { grant: IMAGE.grant, format: 'qcow2', virtualSize: 3 * 2 ** 30 },
    });
    expect(small.errors.diskSize).toMatch(/already 3G/);
    expect(small.request).toBeNull();
  });
});
