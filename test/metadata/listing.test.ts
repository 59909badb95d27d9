import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ObjectLayer } from '../../metadata/object-layer.js';
import type { KvStore } from '../../metadata/kv.js';
import type { ListObjectsPage } from '../../metadata/types.js';
import { tempLayer } from './lmdb-temp.js';

const utf8 = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** S3 listing, the slow obvious way: all keys, sorted by UTF-8 bytes, rolled up */
function modelList(keys: string[], prefix: string, delimiter: string | undefined) {
  const out: { key: string; cp: boolean }[] = [];
  for (const k of [...new Set(keys)].sort(utf8)) {
    if (!k.startsWith(prefix)) continue;
    const i = delimiter ? k.indexOf(delimiter, prefix.length) : -1;
    if (i < 0) out.push({ key: k, cp: false });
    else {
      const cp = k.slice(0, i + delimiter!.length);
      if (!out.some((o) => o.cp && o.key === cp)) out.push({ key: cp, cp: true });
    }
  }
  return out;
}

async function listAll(layer: ObjectLayer, bucket: string, prefix: string, delimiter: string | undefined, maxKeys: number) {
  const got: { key: string; cp: boolean }[] = [];
  let after: string | undefined;
  for (let pages = 0; pages < 500; pages++) {
    const page: ListObjectsPage = await layer.listObjects({ bucket, prefix, delimiter, after, maxKeys });
    expect(page.contents.length + page.commonPrefixes.length).toBeLessThanOrEqual(maxKeys);
    // a page lists keys and prefixes in one merged order; rebuild it from `last`
    const merged = [
      ...page.contents.map((c) => ({ key: c.key, cp: false })),
      ...page.commonPrefixes.map((p) => ({ key: p, cp: true })),
    ].sort((a, b) => utf8(a.key, b.key));
    got.push(...merged);
    if (merged.length) expect(page.last).toBe(merged[merged.length - 1]!.key);
    if (!page.isTruncated) return got;
    expect(merged.length).toBe(maxKeys);
    after = page.last;
  }
  throw new Error('listing did not end');
}

describe('listObjects', () => {
  let env: { layer: ObjectLayer; kv: KvStore; cleanup(): Promise<void> };
  beforeAll(async () => {
    env = await tempLayer();
    await env.layer.createBucket({ name: 'bkt', owner: 'AK', region: 'test-1' });
  });
  afterAll(() => env.cleanup());

  async function replaceKeys(keys: string[]) {
    const page = await env.layer.listObjects({ bucket: 'bkt', maxKeys: 1000 });
    await env.layer.deleteObjects('bkt', page.contents.map((c) => ({ key: c.key })));
    for (const key of new Set(keys)) {
      await env.layer.putObject({
        bucket: 'bkt', key, size: 1, etag: 'e', owner: 'AK', headers: {}, userMetadata: {}, checksums: {},
        body: { kind: 'inline', data: Buffer.from('x') },
      });
    }
  }

  it('property: paginated listing equals the model for any keys, prefix, delimiter and page size', async () => {
    const alphabet = fc.constantFrom('a', 'b', '/', '!', ' ', '-', 'é', '\u{1f600}', '\u0000', 'z');
    const str = (max: number) => fc.array(alphabet, { maxLength: max }).map((cs) => cs.join(''));
    await fc.assert(
      fc.asyncProperty(
        fc.array(str(6).filter((k) => k.length > 0), { maxLength: 30 }),
        str(2),
        fc.option(fc.constantFrom('/', '!', 'a', '//', 'é', ' '), { nil: undefined }),
        fc.integer({ min: 1, max: 7 }),
        async (keys, prefix, delimiter, maxKeys) => {
          await replaceKeys(keys);
          const want = modelList(keys, prefix, delimiter);
          expect(await listAll(env.layer, 'bkt', prefix, delimiter, maxKeys)).toEqual(want);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('skips a whole common prefix with one range read', async () => {
    await replaceKeys(['a/1', 'a/2', 'a/3', 'a/4', 'a/5', 'b']);
    let reads = 0;
    const kv = env.kv;
    const origRead = kv.read.bind(kv);
    // count the range reads the listing makes through the real store
    (kv as { read: KvStore['read'] }).read = (fn) =>
      origRead((tx) =>
        fn({
          get: (k, o) => tx.get(k, o),
          getRange: (b, e, o) => (reads++, tx.getRange(b, e, { ...o, limit: o?.limit })),
        }),
      );
    try {
      const page = await env.layer.listObjects({ bucket: 'bkt', delimiter: '/', maxKeys: 1000 });
      expect(page.commonPrefixes).toEqual(['a/']);
      expect(page.contents.map((c) => c.key)).toEqual(['b']);
      // one read that meets 'a/1', one that starts past every 'a/…' key
      expect(reads).toBe(2);
    } finally {
      (kv as { read: KvStore['read'] }).read = origRead;
    }
  });

  it('maxKeys counts common prefixes; last resumes after a prefix; maxKeys 0 lists nothing', async () => {
    await replaceKeys(['a/1', 'a/2', 'b/1', 'c']);
    const p1 = await env.layer.listObjects({ bucket: 'bkt', delimiter: '/', maxKeys: 1 });
    expect(p1).toMatchObject({ commonPrefixes: ['a/'], contents: [], isTruncated: true, last: 'a/' });
    const p2 = await env.layer.listObjects({ bucket: 'bkt', delimiter: '/', maxKeys: 2, after: 'a/' });
    expect(p2.commonPrefixes).toEqual(['b/']);
    expect(p2.contents.map((c) => c.key)).toEqual(['c']);
    expect(p2.isTruncated).toBe(false);
    const p0 = await env.layer.listObjects({ bucket: 'bkt', maxKeys: 0 });
    expect(p0).toMatchObject({ contents: [], commonPrefixes: [], isTruncated: false });
  });

  it('lists contents with their metadata and without bodies', async () => {
    await replaceKeys(['k']);
    const page = await env.layer.listObjects({ bucket: 'bkt', maxKeys: 10 });
    expect(page.contents).toHaveLength(1);
    expect(page.contents[0]).toMatchObject({ bucket: 'bkt', key: 'k', size: 1, etag: 'e', owner: 'AK', deleteMarker: false });
  });

  it('NoSuchBucket for a missing bucket', async () => {
    await expect(env.layer.listObjects({ bucket: 'nope', maxKeys: 10 })).rejects.toMatchObject({ code: 'NoSuchBucket' });
  });
});
