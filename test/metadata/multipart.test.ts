/**
 * The multipart layer on a real LMDB environment: part replacement queues the old blob as
 * garbage, release of an upload with more parts than one transaction handles, the
 * completion token excluding a second completer, and ListMultipartUploads against a model.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetadataError } from '../../metadata/errors.js';
import { createMultipartLayer, type MultipartLayer } from '../../metadata/multipart.js';
import { RELEASE_BATCH } from '../../metadata/multipart-release.js';
import { encode } from '../../metadata/records.js';
import { pack } from '../../metadata/tuple.js';
import { tempLayer, type TempLayer } from './lmdb-temp.js';

let t: TempLayer;
let mp: MultipartLayer;
const BUCKET = 'mp-bucket';
let blobSeq = 0;
const blobId = () => (++blobSeq).toString(16).padStart(24, '0');

beforeAll(async () => {
  t = await tempLayer();
  mp = createMultipartLayer(t.kv);
  await t.layer.createBucket({ name: BUCKET, owner: 'o', region: 'test-1' });
});

afterAll(async () => {
  await t?.cleanup();
});

const newUpload = (key: string) => mp.createUpload({ bucket: BUCKET, key, owner: 'o', headers: {}, userMetadata: {} });
const part = (n: number, id = blobId()) => ({ partNumber: n, size: 10, etag: 'e'.repeat(32), checksums: {}, lastModified: 1, blobId: id, node: 'n1' });

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as MetadataError).code;
  }
  return 'ok';
}

describe('parts', () => {
  it('re-uploading a part number queues the old blob as garbage and keeps one reference', async () => {
    const up = await newUpload('replace');
    const first = blobId();
    await mp.putPart(BUCKET, 'replace', up.uploadId, part(1, first));
    expect(await t.layer.isBlobReferenced(first)).toBe(true);
    const second = blobId();
    await mp.putPart(BUCKET, 'replace', up.uploadId, part(1, second));
    expect(await t.layer.isBlobReferenced(first)).toBe(false);
    expect(await t.layer.isBlobReferenced(second)).toBe(true);
    expect((await t.layer.garbage(100)).map((g) => g.blobId)).toContain(first);
    expect((await mp.listParts(up.uploadId, 0, 10)).map((p) => p.blobId)).toEqual([second]);
  });

  it(`releasing an upload of ${RELEASE_BATCH + 7} parts runs in bounded batches and frees every blob`, async () => {
    const up = await newUpload('many');
    const ids: string[] = [];
    for (let n = 1; n <= RELEASE_BATCH + 7; n++) {
      const id = blobId();
      ids.push(id);
      await mp.putPart(BUCKET, 'many', up.uploadId, part(n, id));
    }
    await mp.abortUpload(BUCKET, 'many', up.uploadId);
    expect(await code(mp.getUpload(BUCKET, 'many', up.uploadId))).toBe('NoSuchUpload');
    // a budget smaller than the upload: the queue entry stays until a later call finishes it
    await mp.releaseQueued(RELEASE_BATCH);
    expect((await mp.listParts(up.uploadId, 0, 10_000)).length).toBeGreaterThan(0);
    await mp.releaseQueued();
    expect(await mp.listParts(up.uploadId, 0, 10_000)).toEqual([]);
    for (const id of [ids[0]!, ids[RELEASE_BATCH - 1]!, ids.at(-1)!]) expect(await t.layer.isBlobReferenced(id)).toBe(false);
    const garbage = new Set((await t.layer.garbage(10_000)).map((g) => g.blobId));
    expect(ids.every((id) => garbage.has(id))).toBe(true);
    expect(await mp.releaseQueued()).toBe(0);
  });
});

describe('completion steps', () => {
  it('freeze parts, exclude a second completer, and go back to open when abandoned', async () => {
    const up = await newUpload('freeze');
    await mp.putPart(BUCKET, 'freeze', up.uploadId, part(1));
    await mp.beginCompletion(BUCKET, 'freeze', up.uploadId, 'tokA');
    expect(await code(mp.putPart(BUCKET, 'freeze', up.uploadId, part(2)))).toBe('NoSuchUpload');
    // a second completion takes over; the first one's writes are refused from then on
    await mp.beginCompletion(BUCKET, 'freeze', up.uploadId, 'tokB');
    const entry = { ordinal: 1, partNumber: 1, offset: 0, size: 10 };
    expect(await code(mp.writeIndex(BUCKET, 'freeze', up.uploadId, 'tokA', [entry]))).toBe('OperationAborted');
    expect(await code(mp.writeIndex(BUCKET, 'freeze', up.uploadId, 'tokB', [entry]))).toBe('ok');
    await mp.abandonCompletion(BUCKET, 'freeze', up.uploadId, 'tokB');
    expect((await mp.getUpload(BUCKET, 'freeze', up.uploadId)).state).toBe('open');
    expect(await code(mp.putPart(BUCKET, 'freeze', up.uploadId, part(2)))).toBe('ok');
  });

  it('ordinalAt finds the part holding an offset', async () => {
    const up = await newUpload('index');
    const sizes = [5, 7, 1, 9];
    let off = 0;
    const entries = sizes.map((size, i) => {
      const e = { ordinal: i + 1, partNumber: (i + 1) * 3, offset: off, size };
      off += size;
      return e;
    });
    for (const e of entries) await mp.putPart(BUCKET, 'index', up.uploadId, part(e.partNumber));
    await mp.beginCompletion(BUCKET, 'index', up.uploadId, 'tok2');
    await mp.writeIndex(BUCKET, 'index', up.uploadId, 'tok2', entries);
    for (let x = 0; x < off; x++) {
      const ord = await mp.ordinalAt(up.uploadId, entries.length, x);
      const e = entries[ord - 1]!;
      expect(x >= e.offset && x < e.offset + e.size).toBe(true);
    }
  });
});

describe('ListMultipartUploads', () => {
  it('pages (keys, common prefixes, markers) agree with a model of the same uploads', async () => {
    const keyArb = fc.array(fc.constantFrom('a', 'b', '/', 'c'), { minLength: 1, maxLength: 4 }).map((c) => c.join(''));
    await fc.assert(
      fc.asyncProperty(
        fc.array(keyArb, { minLength: 0, maxLength: 12 }),
        fc.constantFrom('', 'a', 'b/'),
        fc.constantFrom('', '/'),
        fc.integer({ min: 1, max: 4 }),
        async (keys, prefix, delimiter, max) => {
          const bucket = `lb-${++blobSeq}`;
          await t.layer.createBucket({ name: bucket, owner: 'o', region: 'test-1' });
          const ups: [string, string][] = [];
          for (const key of keys) {
            const u = await mp.createUpload({ bucket, key, owner: 'o', headers: {}, userMetadata: {} });
            ups.push([key, u.uploadId]);
          }
          // the model: sorted by (key bytes, upload id), rolled up into common prefixes
          const cmp = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
          ups.sort((x, y) => cmp(x[0], y[0]) || cmp(x[1], y[1]));
          const expected: string[] = [];
          for (const [key, id] of ups) {
            if (!key.startsWith(prefix)) continue;
            const i = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
            const item = i >= 0 ? `P:${key.slice(0, i + 1)}` : `U:${key}:${id}`;
            if (expected.at(-1) !== item) expected.push(item);
          }
          const got: string[] = [];
          let keyMarker: string | undefined;
          let uploadIdMarker: string | undefined;
          for (let page = 0; page < 50; page++) {
            const r = await mp.listUploads({ bucket, prefix, delimiter, maxUploads: max, keyMarker, uploadIdMarker });
            // uploads and common prefixes merged in key order (a stable sort keeps one key's uploads in order)
            const items: [string, string][] = [
              ...r.uploads.map((u): [string, string] => [u.key, `U:${u.key}:${u.uploadId}`]),
              ...r.commonPrefixes.map((p): [string, string] => [p, `P:${p}`]),
            ];
            expect(items.length).toBeLessThanOrEqual(max);
            got.push(...items.sort((x, y) => cmp(x[0], y[0])).map((x) => x[1]));
            if (!r.isTruncated) break;
            keyMarker = r.nextKeyMarker;
            uploadIdMarker = r.nextUploadIdMarker;
          }
          expect(got).toEqual(expected);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('completion lease', () => {
  const LEASE = 60_000;
  let clock = 1_000_000_000;
  // every layer here judges leases by the same test clock; `mp` above uses the real one
  const at = () => createMultipartLayer(t.kv, { completionLeaseMs: LEASE, now: () => clock });
  const entry = (n: number) => ({ ordinal: n, partNumber: n, offset: (n - 1) * 10, size: 10 });
  const pending = { size: 20, etag: 'x-2', checksums: {}, partCount: 2 };

  it('a completion that died leaves the upload frozen only until its lease lapses; its late steps are refused', async () => {
    const gw = at();
    const up = await gw.createUpload({ bucket: BUCKET, key: 'died', owner: 'o', headers: {}, userMetadata: {} });
    await gw.putPart(BUCKET, 'died', up.uploadId, part(1));
    await gw.putPart(BUCKET, 'died', up.uploadId, part(2));
    await gw.beginCompletion(BUCKET, 'died', up.uploadId, 'dead');
    await gw.writeIndex(BUCKET, 'died', up.uploadId, 'dead', [entry(1)]);
    // the gateway dies here; within the lease the parts stay frozen
    clock += LEASE - 1;
    expect(await code(gw.putPart(BUCKET, 'died', up.uploadId, part(2)))).toBe('NoSuchUpload');
    expect((await gw.getUpload(BUCKET, 'died', up.uploadId)).state).toBe('completing');
    clock += 1;
    // lapsed: shown open (ListMultipartUploads and the lifecycle job see it so too) …
    expect((await gw.getUpload(BUCKET, 'died', up.uploadId)).state).toBe('open');
    const listed = await gw.listUploads({ bucket: BUCKET, prefix: 'died', maxUploads: 10 });
    expect(listed.uploads.map((u) => [u.uploadId, u.state])).toEqual([[up.uploadId, 'open']]);
    // … and reopened for real by the part that comes in
    const replacement = blobId();
    await gw.putPart(BUCKET, 'died', up.uploadId, part(2, replacement));
    const stored = await gw.getUpload(BUCKET, 'died', up.uploadId);
    expect(stored.state).toBe('open');
    expect(stored.token).toBeUndefined();
    // the dead completion wakes up late: every step it would take is refused
    expect(await code(gw.holdCompletion(BUCKET, 'died', up.uploadId, 'dead'))).toBe('OperationAborted');
    expect(await code(gw.writeIndex(BUCKET, 'died', up.uploadId, 'dead', [entry(2)]))).toBe('OperationAborted');
    expect(await code(gw.markCommitting(BUCKET, 'died', up.uploadId, 'dead', pending))).toBe('OperationAborted');
    expect((await gw.getUpload(BUCKET, 'died', up.uploadId)).state).toBe('open');
    // a new completion sees the replacement part
    await gw.beginCompletion(BUCKET, 'died', up.uploadId, 'retry');
    expect((await gw.getParts(up.uploadId, [2])).get(2)?.blobId).toBe(replacement);
    await gw.writeIndex(BUCKET, 'died', up.uploadId, 'retry', [entry(1), entry(2)]);
    await gw.markCommitting(BUCKET, 'died', up.uploadId, 'retry', pending);
    expect((await gw.getUpload(BUCKET, 'died', up.uploadId)).state).toBe('committing');
  });

  it('a slow completion keeps its lease by renewing it every batch', async () => {
    const gw = at();
    const up = await gw.createUpload({ bucket: BUCKET, key: 'slow', owner: 'o', headers: {}, userMetadata: {} });
    for (const n of [1, 2, 3]) await gw.putPart(BUCKET, 'slow', up.uploadId, part(n));
    await gw.beginCompletion(BUCKET, 'slow', up.uploadId, 'slow');
    // validation batches and index batches, each a little less than a lease apart
    for (let i = 0; i < 3; i++) {
      clock += LEASE - 1;
      await gw.holdCompletion(BUCKET, 'slow', up.uploadId, 'slow');
      expect(await code(gw.putPart(BUCKET, 'slow', up.uploadId, part(4)))).toBe('NoSuchUpload');
    }
    for (const n of [1, 2, 3]) {
      clock += LEASE - 1;
      await gw.writeIndex(BUCKET, 'slow', up.uploadId, 'slow', [entry(n)]);
      expect(await code(gw.putPart(BUCKET, 'slow', up.uploadId, part(4)))).toBe('NoSuchUpload');
      expect((await gw.getUpload(BUCKET, 'slow', up.uploadId)).state).toBe('completing');
    }
    // a lapsed lease nobody reopened is still the completion's own
    clock += LEASE * 10;
    await gw.markCommitting(BUCKET, 'slow', up.uploadId, 'slow', { ...pending, partCount: 3, size: 30 });
    expect((await gw.getUpload(BUCKET, 'slow', up.uploadId)).state).toBe('committing');
  });

  it("'committing' has no lease: the version may be written, so parts stay frozen and a retry finishes it", async () => {
    const gw = at();
    const up = await gw.createUpload({ bucket: BUCKET, key: 'commit', owner: 'o', headers: {}, userMetadata: {} });
    await gw.putPart(BUCKET, 'commit', up.uploadId, part(1));
    await gw.beginCompletion(BUCKET, 'commit', up.uploadId, 'c1');
    await gw.writeIndex(BUCKET, 'commit', up.uploadId, 'c1', [entry(1)]);
    await gw.markCommitting(BUCKET, 'commit', up.uploadId, 'c1', { ...pending, partCount: 1, size: 10 });
    clock += LEASE * 100;
    expect(await code(gw.putPart(BUCKET, 'commit', up.uploadId, part(1)))).toBe('NoSuchUpload');
    const again = await gw.beginCompletion(BUCKET, 'commit', up.uploadId, 'c2');
    expect(again.state).toBe('committing');
    expect(again.pending?.partCount).toBe(1);
  });

  it('a completing record written before leases existed still decodes and counts as lapsed', async () => {
    const gw = at();
    const up = await gw.createUpload({ bucket: BUCKET, key: 'legacy', owner: 'o', headers: {}, userMetadata: {} });
    await gw.putPart(BUCKET, 'legacy', up.uploadId, part(1));
    // the record exactly as the code before leases wrote it: state and token, no leasedAt
    const { bucket: _b, key: _k, uploadId: _u, ...fields } = up;
    await t.kv.transact(async (tx) => {
      tx.set(pack(['u', BUCKET, 'legacy', up.uploadId]), encode({ ...fields, state: 'completing', token: 'old' }));
    });
    expect((await gw.getUpload(BUCKET, 'legacy', up.uploadId)).state).toBe('open');
    await gw.putPart(BUCKET, 'legacy', up.uploadId, part(2));
    expect(await code(gw.writeIndex(BUCKET, 'legacy', up.uploadId, 'old', [entry(1)]))).toBe('OperationAborted');
    expect((await gw.listParts(up.uploadId, 0, 10)).map((p) => p.partNumber)).toEqual([1, 2]);
  });
});
