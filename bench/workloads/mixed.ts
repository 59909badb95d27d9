import { fill, objectKey, randomInt, type Workload } from '../workload.js';

const prefix = (size: number) => `mixed-${size}`;

/** warp's "mixed" distribution */
export const MIX: [op: 'GET' | 'PUT' | 'STAT' | 'DELETE', weight: number][] = [
  ['GET', 45],
  ['PUT', 15],
  ['STAT', 30],
  ['DELETE', 10],
];

function pick(): (typeof MIX)[number][0] {
  let r = Math.random() * 100;
  for (const [op, w] of MIX) if ((r -= w) < 0) return op;
  return 'GET';
}

/**
 * warp's mixed workload: 45% GET, 15% PUT, 30% STAT, 10% DELETE over objects uploaded
 * first. Each process owns a share of the keys; a key is taken out of the pool while an
 * operation uses it, so a GET never races a DELETE of the same key (no false 404s).
 */
export const mixed: Workload = {
  name: 'mixed',
  summary: "warp's mix: 45% GET, 15% PUT, 30% STAT, 10% DELETE",
  defaultKeys: (c) => (c.size <= 1 << 20 ? 2000 : Math.max(4, 4 * c.concurrency * c.procs)),
  async prepare(ctx) {
    await fill(ctx, prefix(ctx.config.size), ctx.keys, ctx.config.size);
  },
  async start({ client, config, keys, proc }) {
    const pool: string[] = [];
    for (let i = proc; i < keys; i += config.procs) pool.push(objectKey(prefix(config.size), i));
    const run = `${Date.now().toString(36)}-${process.pid}`;
    let n = 0;
    const take = (): string | undefined => {
      if (pool.length === 0) return undefined;
      const i = randomInt(pool.length);
      const key = pool[i]!;
      pool[i] = pool[pool.length - 1]!;
      pool.pop();
      return key;
    };
    return async () => {
      let op = pick();
      const key = op === 'PUT' ? undefined : take();
      if (key === undefined) op = 'PUT'; // pool empty (or all keys busy): make more
      if (op === 'PUT') {
        const fresh = `mixed/${run}/${proc}-${++n}`;
        await client.put(config.bucket, fresh, config.size);
        pool.push(fresh);
        return { op, bytes: config.size };
      }
      try {
        if (op === 'GET') return { op, bytes: (await client.get(config.bucket, key!)).bytes };
        if (op === 'STAT') {
          await client.head(config.bucket, key!);
          return { op, bytes: 0 };
        }
        await client.del(config.bucket, key!);
        return { op, bytes: 0 };
      } finally {
        if (op !== 'DELETE') pool.push(key!);
      }
    };
  },
};
