import { describe, expect, it } from 'vitest';
import { vm } from '../testing/fixtures';
import { copyConfig } from './copy-config';

describe('copyConfig', () => {
  it('gives a clone its own identity, without the source’s shared folder or demo tag', () => {
    const src = vm({ tags: ['demo', 'web'], sharedFolder: { path: '/home/u/project' } });
    const copy = copyConfig(src, 'clone');
    expect(copy.id).not.toBe(src.id);
    expect(copy.name).toBe('clone');
    expect(copy.sharedFolder).toBeNull();
    expect(copy.tags).toEqual(['web']);
  });
});
