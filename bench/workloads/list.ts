import { fill, objectKey, randomInt, type Workload } from '../workload.js';
import { BenchError } from '../client.js';

const prefix = (keys: number) => `list-${keys}`;

/**
 * ListObjectsV2 pages of 1000 keys from a bucket holding --keys empty objects; each page
 * starts after a random key so the whole key space is read, not one cached page.
 */
export const list: Workload = {
  name: 'list',
  summary: 'LIST pages of 1000 keys over --keys objects',
  defaultKeys: () => 10_000,
  async prepare(ctx) {
    // a bucket of its own, so other workloads' objects do not change the pages
    await fill(ctx, prefix(ctx.keys), ctx.keys, 0);
  },
  async start({ client, config, keys }) {
    const p = prefix(keys);
    return async () => {
      const from = randomInt(Math.max(1, keys - 1000));
      const page = await client.listPage(config.bucket, { prefix: p + '/', startAfter: from === 0 ? undefined : objectKey(p, from - 1), maxKeys: 1000 });
      const want = Math.min(1000, keys - from);
      if (page.keys !== want) throw new BenchError('WrongKeyCount', 200, `page of ${page.keys} keys, expected ${want}`);
      return { op: 'LIST', bytes: page.bytes };
    };
  },
};
