import { fill, objectKey, type Workload } from '../workload.js';
import { zipfian } from './zipf.js';

const prefix = (size: number) => `ycsb-${size}`;

/**
 * YCSB-style: a load phase writes --keys records (objects of --size, 1 KiB by default),
 * then the run reads 80% and updates (overwrites) 20%, records chosen zipfian as YCSB does.
 */
export const ycsb: Workload = {
  name: 'ycsb',
  summary: 'load --keys records, then 80% read / 20% update (zipfian)',
  defaultKeys: () => 10_000,
  async prepare(ctx) {
    ctx.log(`ycsb load phase: ${ctx.keys} records`);
    await fill(ctx, prefix(ctx.config.size), ctx.keys, ctx.config.size);
  },
  async start({ client, config, keys }) {
    const next = zipfian(keys);
    return async () => {
      const key = objectKey(prefix(config.size), next());
      if (Math.random() < 0.8) return { op: 'READ', bytes: (await client.get(config.bucket, key)).bytes };
      await client.put(config.bucket, key, config.size);
      return { op: 'UPDATE', bytes: config.size };
    };
  },
};
