// Against the real osinfo-db the Debian package installs (npm run setup installs it).
import { describe, expect, it } from 'vitest';
import { findOs, loadOsinfo, osFromIso, searchOsinfo } from './osinfo';

const none = { system: '', publisher: '', application: '' };

describe('osinfo-db', () => {
  it('knows hundreds of OSes, by short-id as virt-install --os-variant takes them', () => {
    expect(loadOsinfo().length).toBeGreaterThan(300);
    const d = findOs('debian11')!;
    expect(d).toMatchObject({ name: 'Debian 11', family: 'linux', releaseDate: '2021-08-14', virtio: true });
    expect(d.recommended.memoryMiB).toBe(1024);
    expect(findOs('debianbullseye')?.shortId).toBe('debian11');
    const w = findOs('win10')!;
    expect(w.family).toBe('winnt');
    expect(w.minimum.memoryMiB).toBeGreaterThanOrEqual(1024);
    expect(findOs('win2k')?.virtio).toBe(false);
    expect(findOs('debian9')?.eolDate).toBe('2022-06-30');
    expect(findOs('no-such-os')).toBeNull();
  });

  it('searches by words of the name', () => {
    const ids = searchOsinfo('ubuntu 22.04').map((o) => o.shortId);
    expect(ids).toContain('ubuntu22.04');
    expect(searchOsinfo('freebsd').every((o) => /freebsd/i.test(o.name))).toBe(true);
  });

  it('recognises install media by their volume descriptor, every given field matching', () => {
    expect(osFromIso({ ...none, volume: 'Debian 11.5.0 amd64 n' })?.shortId).toBe('debian11');
    expect(osFromIso({ ...none, volume: 'Fedora-WS-Live-37-1-7' })?.shortId).toBe('fedora37');
    // grub-mkrescue's generic id matches ALT Linux only with ALT's publisher.
    expect(osFromIso({ ...none, volume: 'ISOIMAGE' })).toBeNull();
    expect(osFromIso({ ...none, volume: 'ISOIMAGE', publisher: 'ALT LINUX TEAM' })?.shortId).toMatch(/^alt/);
  });
});
