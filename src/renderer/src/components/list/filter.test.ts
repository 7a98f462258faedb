import { describe, expect, it } from 'vitest';
import type { VmSummary } from '../../../../shared/api-types';
import type { VmState } from '../../../../shared/state';
import { memoryLabel, visibleVms } from './filter';

function vm(id: string, name: string, state: VmState = 'stopped'): VmSummary {
  return {
    id,
    name,
    osType: 'linux',
    state,
    last: { id, state, at: '2025-01-01T00:00:00Z' },
    cpus: 1,
    memoryMiB: 256,
    error: null,
    busy: null,
  };
}

const vms = [
  vm('a', 'web 10', 'running'),
  vm('b', 'Web 9'),
  vm('c', 'db', 'crashed'),
  vm('d', 'Ünïcode', 'running'),
];
const names = (list: VmSummary[]) => list.map((v) => v.name);

describe('visibleVms', () => {
  it('filters by name without regard to case', () => {
    expect(names(visibleVms(vms, { text: 'WEB', state: 'all', sort: 'name' }))).toEqual(['Web 9', 'web 10']);
    expect(names(visibleVms(vms, { text: 'ünï', state: 'all', sort: 'name' }))).toEqual(['Ünïcode']);
  });

  it('filters by state and sorts live VMs first', () => {
    expect(names(visibleVms(vms, { text: '', state: 'running', sort: 'name' }))).toEqual([
      'Ünïcode',
      'web 10',
    ]);
    expect(names(visibleVms(vms, { text: '', state: 'all', sort: 'state' }))).toEqual([
      'Ünïcode',
      'web 10',
      'db',
      'Web 9',
    ]);
  });

  it('does not reorder the store', () => {
    visibleVms(vms, { text: '', state: 'all', sort: 'name' });
    expect(vms[0]!.id).toBe('a');
  });
});

it('labels memory', () => {
  expect(memoryLabel(2048)).toBe('2 GiB');
  expect(memoryLabel(256)).toBe('256 MiB');
  expect(memoryLabel(null)).toBe('? memory');
});
