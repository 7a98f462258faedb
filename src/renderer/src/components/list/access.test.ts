import { describe, expect, it } from 'vitest';
import { accessFor, uptimeLabel } from './access';

const fwd = (guestPort: number, hostPort: number, protocol: 'tcp' | 'udp' = 'tcp') => ({
  protocol,
  hostAddress: '127.0.0.1' as const,
  hostPort,
  guestPort,
});

describe('accessFor', () => {
  it('gives ssh a command, web ports an address and the rest a port', () => {
    expect(
      accessFor(
        [fwd(22, 2222), fwd(80, 8080), fwd(443, 8443), fwd(5432, 15432), fwd(53, 5353, 'udp')],
        'dev',
      ),
    ).toEqual([
      { kind: 'ssh', text: 'ssh -p 2222 dev@localhost' },
      { kind: 'web', text: 'http://localhost:8080', href: 'http://localhost:8080' },
      { kind: 'web', text: 'https://localhost:8443', href: 'https://localhost:8443' },
      { kind: 'port', text: 'localhost:15432 → 5432/tcp' },
      { kind: 'port', text: 'localhost:5353 → 53/udp' },
    ]);
  });

  it('leaves the user out when none is known, and udp 22 is not ssh', () => {
    expect(accessFor([fwd(22, 2200)], null)[0]!.text).toBe('ssh -p 2200 localhost');
    expect(accessFor([fwd(22, 2200, 'udp')], 'dev')[0]!.kind).toBe('port');
  });
});

describe('uptimeLabel', () => {
  const t0 = Date.parse('2026-11-28T10:00:00Z');
  it('reads minutes, hours and days', () => {
    expect(uptimeLabel('2026-11-28T10:00:00Z', t0 + 20_000)).toBe('up less than a minute');
    expect(uptimeLabel('2026-11-28T10:00:00Z', t0 + 5 * 60_000)).toBe('up 5 min');
    expect(uptimeLabel('2026-11-28T10:00:00Z', t0 + 123 * 60_000)).toBe('up 2 h 3 min');
    expect(uptimeLabel('2026-11-28T10:00:00Z', t0 + 120 * 60_000)).toBe('up 2 h');
    expect(uptimeLabel('2026-11-28T10:00:00Z', t0 + (3 * 24 + 4) * 3_600_000)).toBe('up 3 d 4 h');
  });
  it('says nothing for a bad or future time', () => {
    expect(uptimeLabel('not a time', t0)).toBeNull();
    expect(uptimeLabel('2026-11-28T11:00:00Z', t0)).toBeNull();
  });
});
