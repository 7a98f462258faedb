import { defineConfig } from 'vitest/config';

// Three tiers in one runner: unit tests never boot a VM; integration tests drive real
// qemu-system-x86_64 (TCG) with the project's test guest, so they run one file at a time
// because these machines have two cores; reliability tests inject faults and run on their own
// (npm run test:reliability), so scripts/test-all.sh names the projects of its main run.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'bench/**/*.test.ts', 'scripts/**/*.test.ts'],
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
      {
        // Fault injection (kills, full disks, hung QEMUs, concurrency), bounded to ~10 minutes.
        test: {
          name: 'reliability',
          include: ['test/reliability/**/*.test.ts'],
          environment: 'node',
          testTimeout: 600_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
