import { fill, objectKey, randomInt, type Workload } from '../workload.js';

const prefix = (size: number) => `get-${size}`;

/** GET of objects uploaded beforehand, chosen uniformly at random. */
export const get: Workload = {
  name: 'get',
  summary: 'GET objects of --size (--keys of them are uploaded first)',
  // small objects: enough that they are not all one hot key; large: a few
  defaultKeys: (c) => (c.size <= 1 << 20 ? 1000 : Math.max(2, c.concurrency * c.procs)),
  async prepare(ctx) {
    await fill(ctx, prefix(ctx.config.size), ctx.keys, ctx.config.size);
  },
  async start({ client, config, keys }) {
    return async () => {
      const r = await client.get(config.bucket, objectKey(prefix(config.size), randomInt(keys)));
      return { op: 'GET', bytes: r.bytes };
    };
  },
};
