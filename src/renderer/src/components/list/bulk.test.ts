import { describe, expect, it } from 'vitest';
import type { VmSummary } from '../../../../shared/api-types';
import { planBulk } from './bulk';

const vm = (name: string, more: Partial<VmSummary> = {}): VmSummary => ({
  id: name.padEnd(12, '0'),
  name,
  osType: 'linux',
  state: 'stopped',
  last: { id: name, state: 'stopped', at: '2026-11-28T10:00:00Z' },
  cpus: 1,
  memoryMiB: 256,
  error: null,
  busy: null,
  ...more,
});

describe('planBulk', () => {
  const a = vm('a');
  const b = vm('b', { state: 'running' });
  const t = vm('t', { template: true });
  const c = vm('c', { linkedTo: 't00000000000', baseline: true });
  const busy = vm('d', { busy: 'snapshot' });

  it('starts the stopped VMs and names the rest with why', () => {
    const p = planBulk('start', [a, b, t, busy]);
    expect(p.act.map((v) => v.name)).toEqual(['a']);
    expect(p.skip.map((s) => `${s.vm.name}: ${s.why}`)).toEqual([
      'b: already running',
      'd: snapshot is under way',
      't: a template is never started',
    ]);
  });

  it('shuts down only running VMs and resets only those with a baseline', () => {
    expect(planBulk('stop', [a, b]).act.map((v) => v.name)).toEqual(['b']);
    expect(planBulk('reset', [a, c]).act.map((v) => v.name)).toEqual(['c']);
    expect(planBulk('reset', [a]).skip[0]!.why).toBe('it has no baseline');
  });

  it('deletes stopped VMs, linked clones before templates', () => {
    const p = planBulk('delete', [t, b, c]);
    expect(p.act.map((v) => v.name)).toEqual(['c', 't']);
    expect(p.skip.map((s) => s.vm.name)).toEqual(['b']);
  });
});
