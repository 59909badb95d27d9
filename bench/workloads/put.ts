import type { Workload } from '../workload.js';

/** PUT of new objects, each slot writing its own keys (no overwrites). */
export const put: Workload = {
  name: 'put',
  summary: 'PUT new objects of --size',
  defaultKeys: () => 0,
  async prepare({ client, config }) {
    await client.createBucket(config.bucket);
  },
  async start({ client, config, proc }) {
    const run = `${Date.now().toString(36)}-${process.pid}`;
    const counters: number[] = [];
    return async (slot) => {
      const n = (counters[slot] = (counters[slot] ?? 0) + 1);
      await client.put(config.bucket, `put/${run}/${proc}-${slot}-${n}`, config.size);
      return { op: 'PUT', bytes: config.size };
    };
  },
};
