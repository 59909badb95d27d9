import { fill, objectKey, randomInt, type PrepareContext, type Workload } from '../workload.js';
import { BenchError } from '../client.js';

/** the names the list workload lists: objectKey(listPrefix(keys), 0 … keys-1) */
export const listPrefix = (keys: number) => `list-${keys}`;

/**
 * ListObjectsV2 pages of 1000 keys from a bucket holding --keys empty objects; each page
 * starts after a random key so the whole key space is read, not one cached page.
 */
export const list: Workload = {
  name: 'list',
  summary: 'LIST pages of 1000 keys over --keys objects',
  defaultKeys: () => 10_000,
  async prepare(ctx) {
    // loaded by other means (bench:compare's big LIST on Erne): check, do not PUT again
    if (ctx.config.preloaded) return verify(ctx);
    // a bucket of its own, so other workloads' objects do not change the pages
    await fill(ctx, listPrefix(ctx.keys), ctx.keys, 0);
  },
  async start({ client, config, keys }) {
    const p = listPrefix(keys);
    return async () => {
      const from = randomInt(Math.max(1, keys - 1000));
      const page = await client.listPage(config.bucket, { prefix: p + '/', startAfter: from === 0 ? undefined : objectKey(p, from - 1), maxKeys: 1000 });
      const want = Math.min(1000, keys - from);
      if (page.keys !== want) throw new BenchError('WrongKeyCount', 200, `page of ${page.keys} keys, expected ${want}`);
      return { op: 'LIST', bytes: page.bytes };
    };
  },
};

/** pages through the whole prefix over HTTP: exactly `keys` names must be there, the last one last */
async function verify({ client, config, keys, log }: PrepareContext): Promise<void> {
  const p = listPrefix(keys);
  log(`prepare: ${keys} objects preloaded (${config.preloaded}); counting them over HTTP`);
  let seen = 0;
  let token: string | undefined;
  let lastLog = Date.now();
  do {
    const page = await client.listPage(config.bucket, { prefix: p + '/', maxKeys: 1000, token });
    seen += page.keys;
    token = page.next;
    if (Date.now() - lastLog > 1000) {
      lastLog = Date.now();
      log(`prepare: counted ${seen}/${keys} objects`);
    }
  } while (token !== undefined);
  const tail = keys < 2 ? { keys: 1 } : await client.listPage(config.bucket, { prefix: p + '/', startAfter: objectKey(p, keys - 2), maxKeys: 1000 });
  if (seen !== keys || tail.keys !== 1) throw new Error(`preloaded bucket holds ${seen} objects under ${p}/, expected ${keys} ending with ${objectKey(p, keys - 1)}`);
  log(`prepare: counted ${seen} objects`);
}
