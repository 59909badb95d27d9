import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // two files at once: most tests wait on child processes (gateways, redis-servers, VMs,
    // client CLIs), so a second worker halves the wall time on CI's two cores; every test
    // waits for what it asserts, never for a fixed time, so a busier machine is only slower
    maxWorkers: 2,
  },
});
