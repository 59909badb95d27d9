/**
 * Listing through @aws-sdk/client-s3 and raw requests against a real gateway:
 * ListObjectsV2 and ListObjects (v1) with prefix, delimiter, max-keys counting
 * CommonPrefixes, start-after / marker, continuation tokens, encoding-type=url, fetch-owner.
 */
import {
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type ListObjectsV2CommandInput,
} from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { sdkError, uniqueBucket, useGateway } from '../helpers/gateway.js';
import { parseXml, rawRequest } from '../helpers/raw.js';

const bucket = uniqueBucket('list');

const MANY = Array.from({ length: 120 }, (_, i) => `many/${String(i).padStart(4, '0')}`);
const KEYS = ['a/1', 'a/2', 'a/b/1', 'a/b/2', 'b/1', 'c', 'd', 'e space/1', 'e space/x y', 'z/ünï', 'z/日本', 'zz', ...MANY];
/** S3 orders keys by their UTF-8 bytes */
const byUtf8 = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
const SORTED = [...KEYS].sort(byUtf8);

const erne = useGateway({ bucket });

beforeAll(async () => {
  for (let i = 0; i < KEYS.length; i += 16) {
    await Promise.all(KEYS.slice(i, i + 16).map((k) => erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: k }))));
  }
});

/** Pages through ListObjectsV2; returns every page. */
async function allPagesV2(input: Omit<ListObjectsV2CommandInput, 'Bucket'>) {
  const pages = [];
  let token: string | undefined;
  for (let n = 0; n < 500; n++) {
    const p = await erne.s3.send(new ListObjectsV2Command({ Bucket: bucket, ...input, ContinuationToken: token }));
    pages.push(p);
    if (!p.IsTruncated) return pages;
    expect(p.NextContinuationToken).toBeTruthy();
    token = p.NextContinuationToken;
  }
  throw new Error('listing did not end');
}

describe('ListObjectsV2', () => {
  it('lists every key in UTF-8 order with sizes and ETags', async () => {
    const r = await erne.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(r.Contents?.map((c) => c.Key)).toEqual(SORTED);
    expect(r.KeyCount).toBe(KEYS.length);
    expect(r.IsTruncated).toBe(false);
    const c = r.Contents?.find((x) => x.Key === 'a/b/1');
    expect(c?.Size).toBe(5);
    expect(c?.ETag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(c?.LastModified).toBeInstanceOf(Date);
    expect(c?.Owner).toBeUndefined(); // only with fetch-owner
  });

  it('delimiter groups keys into CommonPrefixes', async () => {
    const r = await erne.s3.send(new ListObjectsV2Command({ Bucket: bucket, Delimiter: '/' }));
    expect(r.Contents?.map((c) => c.Key)).toEqual(['c', 'd', 'zz']);
    expect(r.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['a/', 'b/', 'e space/', 'many/', 'z/']);
    expect(r.KeyCount).toBe(8);
  });

  it('prefix + delimiter', async () => {
    const r = await erne.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'a/', Delimiter: '/' }));
    expect(r.Contents?.map((c) => c.Key)).toEqual(['a/1', 'a/2']);
    expect(r.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['a/b/']);
    expect(r.Prefix).toBe('a/');
    const none = await erne.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'nothing-here/' }));
    expect(none.KeyCount).toBe(0);
    expect(none.Contents ?? []).toEqual([]);
  });

  it('max-keys counts CommonPrefixes; pages join up to the full listing', async () => {
    const pages = await allPagesV2({ Delimiter: '/', MaxKeys: 2 });
    for (const p of pages) {
      const n = (p.Contents?.length ?? 0) + (p.CommonPrefixes?.length ?? 0);
      expect(n).toBeLessThanOrEqual(2);
      expect(p.KeyCount).toBe(n);
      expect(p.MaxKeys).toBe(2);
    }
    expect(pages.length).toBe(4); // 8 entries, 2 per page
    expect(pages.flatMap((p) => p.CommonPrefixes?.map((c) => c.Prefix) ?? [])).toEqual(['a/', 'b/', 'e space/', 'many/', 'z/']);
    expect(pages.flatMap((p) => p.Contents?.map((c) => c.Key) ?? [])).toEqual(['c', 'd', 'zz']);
  });

  it('continuation tokens walk a large prefix without repeats or gaps', async () => {
    const pages = await allPagesV2({ Prefix: 'many/', MaxKeys: 7 });
    expect(pages.length).toBe(Math.ceil(MANY.length / 7));
    expect(pages.flatMap((p) => p.Contents?.map((c) => c.Key) ?? [])).toEqual(MANY);
  });

  it('an empty continuation-token is no token: the first page, the empty token echoed back', async () => {
    const r = await rawRequest(erne.gw, { method: 'GET', path: `/${bucket}`, query: 'list-type=2&continuation-token=&max-keys=2' });
    expect(r.status).toBe(200);
    expect(r.text).toMatch(/<ContinuationToken\s*(\/>|><\/ContinuationToken>)/);
    const doc = parseXml(r.text) as { Contents?: { Key: string }[]; IsTruncated?: string };
    expect((doc.Contents ?? []).map((c) => String(c.Key))).toEqual(SORTED.slice(0, 2));
    expect(doc.IsTruncated).toBe('true');
  });

  it('start-after', async () => {
    const r = await erne.s3.send(new ListObjectsV2Command({ Bucket: bucket, StartAfter: 'many/0117' }));
    expect(r.Contents?.map((c) => c.Key)).toEqual(SORTED.filter((k) => byUtf8(k, 'many/0117') > 0));
    expect(r.StartAfter).toBe('many/0117');
  });

  it('fetch-owner adds Owner to each entry', async () => {
    const r = await erne.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'a/', FetchOwner: true }));
    expect(r.Contents?.length).toBe(4);
    for (const c of r.Contents ?? []) expect(c.Owner?.ID).toBeTruthy();
  });

  it('max-keys 0 returns nothing', async () => {
    const r = await erne.s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 0 }));
    expect(r.Contents ?? []).toEqual([]);
    expect(r.KeyCount).toBe(0);
  });

  it('encoding-type=url encodes keys with spaces and unicode (raw XML), decodes back', async () => {
    const r = await rawRequest(erne.gw, { method: 'GET', path: `/${bucket}`, query: 'list-type=2&encoding-type=url&prefix=' + encodeURIComponent('e space/') });
    expect(r.status).toBe(200);
    const doc = parseXml(r.text) as { EncodingType?: string; Prefix?: string; Contents?: { Key: string }[] | { Key: string } };
    expect(doc.EncodingType).toBe('url');
    const contents = Array.isArray(doc.Contents) ? doc.Contents : doc.Contents ? [doc.Contents] : [];
    const raw = contents.map((c) => String(c.Key));
    for (const k of raw) expect(k).not.toMatch(/[ \u0080-\uffff]/);
    const dec = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    expect(raw.map(dec)).toEqual(['e space/1', 'e space/x y']);
    expect(dec(String(doc.Prefix))).toBe('e space/');

    const u = await rawRequest(erne.gw, { method: 'GET', path: `/${bucket}`, query: 'list-type=2&encoding-type=url&prefix=z%2F' });
    const ud = parseXml(u.text) as { Contents?: { Key: string }[] };
    const uk = (ud.Contents ?? []).map((c) => String(c.Key));
    for (const k of uk) expect(k).not.toMatch(/[\u0080-\uffff]/);
    expect(uk.map(dec)).toEqual(['z/ünï', 'z/日本']);
  });

  it('the SDK with EncodingType url still round-trips every key', async () => {
    const r = await erne.s3.send(new ListObjectsV2Command({ Bucket: bucket, EncodingType: 'url', Prefix: 'z/' }));
    expect(r.EncodingType).toBe('url');
    expect(r.Contents?.map((c) => decodeURIComponent((c.Key ?? '').replace(/\+/g, ' ')))).toEqual(['z/ünï', 'z/日本']);
  });

  it('listing a missing bucket → NoSuchBucket 404', async () => {
    const e = await sdkError(erne.s3.send(new ListObjectsV2Command({ Bucket: uniqueBucket('gone') })));
    expect(e.name).toBe('NoSuchBucket');
    expect(e.status).toBe(404);
  });
});

describe('ListObjects (v1)', () => {
  it('marker and NextMarker (with a delimiter) page through', async () => {
    const seenKeys: string[] = [];
    const seenPrefixes: string[] = [];
    let marker: string | undefined;
    for (let n = 0; n < 20; n++) {
      const r = await erne.s3.send(new ListObjectsCommand({ Bucket: bucket, Delimiter: '/', MaxKeys: 3, Marker: marker }));
      expect((r.Contents?.length ?? 0) + (r.CommonPrefixes?.length ?? 0)).toBeLessThanOrEqual(3);
      seenKeys.push(...(r.Contents?.map((c) => c.Key as string) ?? []));
      seenPrefixes.push(...(r.CommonPrefixes?.map((c) => c.Prefix as string) ?? []));
      if (!r.IsTruncated) break;
      expect(r.NextMarker).toBeTruthy();
      marker = r.NextMarker;
    }
    expect(seenKeys).toEqual(['c', 'd', 'zz']);
    expect(seenPrefixes).toEqual(['a/', 'b/', 'e space/', 'many/', 'z/']);
  });

  it('without a delimiter the last key serves as the next marker', async () => {
    const all: string[] = [];
    let marker: string | undefined;
    for (let n = 0; n < 100; n++) {
      const r = await erne.s3.send(new ListObjectsCommand({ Bucket: bucket, MaxKeys: 50, Marker: marker }));
      const keys = r.Contents?.map((c) => c.Key as string) ?? [];
      all.push(...keys);
      if (!r.IsTruncated) break;
      marker = r.NextMarker ?? keys[keys.length - 1];
    }
    expect(all).toEqual(SORTED);
  });

  it('v1 entries carry an Owner', async () => {
    const r = await erne.s3.send(new ListObjectsCommand({ Bucket: bucket, Prefix: 'b/' }));
    expect(r.Contents?.map((c) => c.Key)).toEqual(['b/1']);
    expect(r.Contents?.[0]?.Owner?.ID).toBeTruthy();
    expect(r.Marker ?? '').toBe('');
  });
});
