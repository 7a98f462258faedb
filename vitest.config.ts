import { defineConfig } from 'vitest/config';

// Two tiers in one runner: unit tests never boot a VM; integration tests drive real
// qemu-system-x86_64 (TCG) with the project's test guest, so they run one file at a time
// because these machines have two cores.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
