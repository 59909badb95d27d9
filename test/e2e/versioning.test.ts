/**
 * Versioning through @aws-sdk/client-s3 (and raw requests for the headers an SDK hides)
 * against a real gateway: bucket versioning states, versions, delete markers, GET/HEAD/DELETE
 * by version id, ListObjectVersions with pagination, Suspended null versions, DeleteObjects
 * with version ids, and the aws CLI's s3api calls.
 */
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type ObjectVersion as SdkVersion,
  type DeleteMarkerEntry,
} from '@aws-sdk/client-s3';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { awsCli, bodyBytes, sdkError, uniqueBucket, useGateway } from '../helpers/gateway.js';
import { rawRequest } from '../helpers/raw.js';


const erne = useGateway();

async function newBucket(status?: 'Enabled' | 'Suspended'): Promise<string> {
  const b = uniqueBucket('ver');
  await erne.s3.send(new CreateBucketCommand({ Bucket: b }));
  if (status) await erne.s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: status } }));
  return b;
}
const put = (Bucket: string, Key: string, Body: string) => erne.s3.send(new PutObjectCommand({ Bucket, Key, Body }));
const getText = async (Bucket: string, Key: string, VersionId?: string) => (await bodyBytes((await erne.s3.send(new GetObjectCommand({ Bucket, Key, VersionId }))).Body)).toString();

/** key order, then newest first (the latest, then by time, then by id: ids sort newest first) */
function s3Order(a: SdkVersion | DeleteMarkerEntry, b: SdkVersion | DeleteMarkerEntry): number {
  if (a.Key !== b.Key) return a.Key! < b.Key! ? -1 : 1;
  if (a.IsLatest !== b.IsLatest) return a.IsLatest ? -1 : 1;
  const dt = b.LastModified!.getTime() - a.LastModified!.getTime();
  if (dt !== 0) return dt;
  return a.VersionId! < b.VersionId! ? -1 : 1;
}

/** every version and marker, page by page */
async function listAll(Bucket: string, MaxKeys: number, extra: { Prefix?: string; Delimiter?: string } = {}) {
  const versions: (SdkVersion | DeleteMarkerEntry)[] = [];
  const prefixes: string[] = [];
  let KeyMarker: string | undefined;
  let VersionIdMarker: string | undefined;
  let pages = 0;
  for (;;) {
    const r = await erne.s3.send(new ListObjectVersionsCommand({ Bucket, MaxKeys, KeyMarker, VersionIdMarker, ...extra }));
    pages++;
    // markers and versions come back in two lists; put them back in S3's order (key, newest first)
    versions.push(...[...(r.Versions ?? []), ...(r.DeleteMarkers ?? [])].sort(s3Order));
    prefixes.push(...(r.CommonPrefixes ?? []).map((p) => p.Prefix!));
    if (!r.IsTruncated) return { versions, prefixes, pages };
    KeyMarker = r.NextKeyMarker;
    VersionIdMarker = r.NextVersionIdMarker;
  }
}

describe('bucket versioning configuration', () => {
  it('unversioned has no Status; Enabled and Suspended round-trip; MFA delete is NotImplemented', async () => {
    const b = await newBucket();
    expect((await erne.s3.send(new GetBucketVersioningCommand({ Bucket: b }))).Status).toBeUndefined();
    await erne.s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    expect((await erne.s3.send(new GetBucketVersioningCommand({ Bucket: b }))).Status).toBe('Enabled');
    await erne.s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Suspended' } }));
    expect((await erne.s3.send(new GetBucketVersioningCommand({ Bucket: b }))).Status).toBe('Suspended');
    const err = await sdkError(erne.s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled', MFADelete: 'Enabled' } })));
    expect([err.name, err.status]).toEqual(['NotImplemented', 501]);
    const bad = await rawRequest(erne.gw, { method: 'PUT', path: `/${b}`, query: 'versioning', body: '<VersioningConfiguration><Status>On</Status></VersioningConfiguration>' });
    expect(bad.status).toBe(400);
    expect(bad.body.toString()).toContain('MalformedXML');
  });
});

describe('versions and delete markers', () => {
  it('HEAD of a key hidden by a delete marker says so; other 404s carry no x-amz-delete-marker', async () => {
    const b = await newBucket('Enabled');
    await put(b, 'k', 'one');
    const marker = (await erne.s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }))).VersionId!;
    const head = await rawRequest(erne.gw, { method: 'HEAD', path: `/${b}/k` });
    expect(head.status).toBe(404);
    expect(head.headers['x-amz-delete-marker']).toBe('true');
    expect(head.headers['x-amz-version-id']).toBe(marker);
    const sdk = await sdkError(erne.s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k' })));
    expect([sdk.name, sdk.status]).toEqual(['NotFound', 404]);
    // a key that never existed, and one whose versions were all removed: a plain 404
    for (const key of ['never', 'gone']) {
      if (key === 'gone') {
        const v = (await put(b, key, 'x')).VersionId!;
        await erne.s3.send(new DeleteObjectCommand({ Bucket: b, Key: key, VersionId: v }));
      }
      const miss = await rawRequest(erne.gw, { method: 'HEAD', path: `/${b}/${key}` });
      expect(miss.status).toBe(404);
      expect(miss.headers['x-amz-delete-marker']).toBeUndefined();
      expect(miss.headers['x-amz-version-id']).toBeUndefined();
    }
    // suspended: the marker is the null version
    await erne.s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Suspended' } }));
    await put(b, 'n', 'x');
    await erne.s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'n' }));
    const nullMarker = await rawRequest(erne.gw, { method: 'HEAD', path: `/${b}/n` });
    expect([nullMarker.status, nullMarker.headers['x-amz-delete-marker'], nullMarker.headers['x-amz-version-id']]).toEqual([404, 'true', 'null']);
  });

  it('keeps versions, reads them by id, hides the key behind a marker and brings it back', async () => {
    const b = await newBucket('Enabled');
    const v1 = (await put(b, 'k', 'one')).VersionId!;
    const v2 = (await put(b, 'k', 'two')).VersionId!;
    expect(v1).not.toBe(v2);
    expect(await getText(b, 'k')).toBe('two');
    expect(await getText(b, 'k', v1)).toBe('one');
    const head = await erne.s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k', VersionId: v1 }));
    expect([head.VersionId, head.ContentLength]).toEqual([v1, 3]);
    expect((await erne.s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' }))).VersionId).toBe(v2);

    const del = await erne.s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }));
    expect(del.DeleteMarker).toBe(true);
    const marker = del.VersionId!;
    expect(marker).not.toBe(v2);
    // current is a marker: 404 NoSuchKey with the marker headers
    const miss = await rawRequest(erne.gw, { method: 'GET', path: `/${b}/k` });
    expect(miss.status).toBe(404);
    expect(miss.body.toString()).toContain('NoSuchKey');
    expect(miss.headers['x-amz-delete-marker']).toBe('true');
    expect(miss.headers['x-amz-version-id']).toBe(marker);
    // the marker by id: 405
    const byId = await rawRequest(erne.gw, { method: 'GET', path: `/${b}/k`, query: `versionId=${marker}` });
    expect(byId.status).toBe(405);
    expect(byId.headers['x-amz-delete-marker']).toBe('true');
    const headMarker = await rawRequest(erne.gw, { method: 'HEAD', path: `/${b}/k`, query: `versionId=${marker}` });
    expect(headMarker.status).toBe(405);
    expect((await erne.s3.send(new ListObjectsV2Command({ Bucket: b }))).KeyCount).toBe(0);

    const listed = await erne.s3.send(new ListObjectVersionsCommand({ Bucket: b }));
    expect(listed.DeleteMarkers?.map((m) => [m.Key, m.VersionId, m.IsLatest])).toEqual([['k', marker, true]]);
    expect(listed.Versions?.map((v) => [v.Key, v.VersionId, v.IsLatest, v.Size, v.ETag])).toEqual([
      ['k', v2, false, 3, expect.stringMatching(/^"[0-9a-f]{32}"$/)],
      ['k', v1, false, 3, expect.stringMatching(/^"[0-9a-f]{32}"$/)],
    ]);

    // deleting the marker by id brings v2 back; deleting v2 makes v1 current
    const undel = await erne.s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: marker }));
    expect([undel.DeleteMarker, undel.VersionId]).toEqual([true, marker]);
    expect(await getText(b, 'k')).toBe('two');
    await erne.s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: v2 }));
    expect(await getText(b, 'k')).toBe('one');
    expect((await sdkError(erne.s3.send(new GetObjectCommand({ Bucket: b, Key: 'k', VersionId: v2 })))).name).toBe('NoSuchVersion');
    const invalid = await sdkError(erne.s3.send(new GetObjectCommand({ Bucket: b, Key: 'k', VersionId: 'not-a-version' })));
    expect([invalid.name, invalid.status]).toEqual(['InvalidArgument', 400]);
  });

  it('Suspended: puts write the null version, replacing the previous null one', async () => {
    const b = await newBucket();
    await put(b, 'k', 'pre'); // null version from the unversioned days
    await erne.s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = (await put(b, 'k', 'one')).VersionId!;
    await erne.s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Suspended' } }));
    expect((await put(b, 'k', 'null-1')).VersionId).toBe('null');
    expect((await put(b, 'k', 'null-2')).VersionId).toBe('null');
    const { versions } = await listAll(b, 1000);
    expect(versions.map((v) => [v.VersionId, v.IsLatest])).toEqual([
      ['null', true],
      [v1, false],
    ]);
    expect(await getText(b, 'k', 'null')).toBe('null-2');
    expect((await erne.s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' }))).VersionId).toBe('null');
    const del = await erne.s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }));
    expect([del.DeleteMarker, del.VersionId]).toEqual([true, 'null']);
    const after = await erne.s3.send(new ListObjectVersionsCommand({ Bucket: b }));
    expect(after.DeleteMarkers?.map((m) => [m.VersionId, m.IsLatest])).toEqual([['null', true]]);
    expect(after.Versions?.map((v) => v.VersionId)).toEqual([v1]);
  });

  it('a never-versioned bucket lists its objects as null versions and sends no version headers', async () => {
    const b = await newBucket();
    const p = await put(b, 'a', 'x');
    expect(p.VersionId).toBeUndefined();
    await put(b, 'b', 'y');
    await put(b, 'b', 'z');
    const r = await erne.s3.send(new ListObjectVersionsCommand({ Bucket: b }));
    expect(r.Versions?.map((v) => [v.Key, v.VersionId, v.IsLatest])).toEqual([
      ['a', 'null', true],
      ['b', 'null', true],
    ]);
    expect(r.DeleteMarkers ?? []).toEqual([]);
    expect(await getText(b, 'b', 'null')).toBe('z');
    const d = await erne.s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'a' }));
    expect([d.DeleteMarker, d.VersionId]).toEqual([undefined, undefined]);
  });

  it('ListObjectVersions pages through many versions of several keys with key and version-id markers', async () => {
    const b = await newBucket('Enabled');
    const made: [string, string][] = [];
    for (const k of ['a', 'dir/x', 'dir/y', 'z']) {
      for (let i = 0; i < 7; i++) made.push([k, (await put(b, k, `${k}${i}`)).VersionId!]);
    }
    made.push(['z', (await erne.s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'z' }))).VersionId!]);
    // expected: keys in order, newest first within a key
    const expected = ['a', 'dir/x', 'dir/y', 'z'].flatMap((k) => made.filter(([mk]) => mk === k).map(([, id]) => [k, id]).reverse());
    const whole = await listAll(b, 1000);
    expect(whole.versions.map((v) => [v.Key, v.VersionId])).toEqual(expected);
    for (const n of [1, 4, 7, 10]) {
      const paged = await listAll(b, n);
      expect(paged.versions.map((v) => [v.Key, v.VersionId])).toEqual(expected);
      expect(paged.pages).toBe(Math.ceil(expected.length / n) + (expected.length % n === 0 ? 0 : 0));
      expect(paged.versions.filter((v) => v.IsLatest).map((v) => v.Key)).toEqual(['a', 'dir/x', 'dir/y', 'z']);
    }
    const grouped = await listAll(b, 3, { Delimiter: '/' });
    expect(grouped.prefixes).toEqual(['dir/']);
    expect(grouped.versions.map((v) => v.Key)).toEqual([...Array(7).fill('a'), ...Array(8).fill('z')]);
    const dir = await listAll(b, 5, { Prefix: 'dir/' });
    expect(dir.versions.length).toBe(14);
    const err = await rawRequest(erne.gw, { method: 'GET', path: `/${b}`, query: `versions&version-id-marker=${made[0]![1]}` });
    expect(err.status).toBe(400);
  });

  it('DeleteObjects with version ids removes those versions; without, makes markers', async () => {
    const b = await newBucket('Enabled');
    const a1 = (await put(b, 'a', '1')).VersionId!;
    const a2 = (await put(b, 'a', '2')).VersionId!;
    await put(b, 'c', '1');
    const r = await erne.s3.send(
      new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'a', VersionId: a1 }, { Key: 'c' }, { Key: 'a', VersionId: 'bogus' }] } }),
    );
    const byKey = Object.fromEntries((r.Deleted ?? []).map((d) => [d.Key + (d.VersionId ?? ''), d]));
    expect(byKey['a' + a1]).toMatchObject({ Key: 'a', VersionId: a1 });
    expect(byKey['c']).toMatchObject({ Key: 'c', DeleteMarker: true });
    expect(byKey['c']!.DeleteMarkerVersionId).toMatch(/^[0-9a-f]+$/);
    expect(r.Errors?.map((e) => [e.Key, e.Code])).toEqual([['a', 'NoSuchVersion']]);
    const left = await erne.s3.send(new ListObjectVersionsCommand({ Bucket: b }));
    expect(left.Versions?.map((v) => [v.Key, v.VersionId])).toEqual([
      ['a', a2],
      ['c', expect.any(String)],
    ]);
    const rm = await erne.s3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'c', VersionId: byKey['c']!.DeleteMarkerVersionId }] } }));
    expect(rm.Deleted?.[0]).toMatchObject({ Key: 'c', DeleteMarker: true, DeleteMarkerVersionId: byKey['c']!.DeleteMarkerVersionId });
    expect(await getText(b, 'c')).toBe('1');
  });
});

describe('ListObjectVersions element order', () => {
  /** the listing's entries as the XML has them: element name, key and version id, in document order */
  async function rawEntries(b: string, query = '') {
    const r = await rawRequest(erne.gw, { method: 'GET', path: `/${b}`, query: `versions${query}` });
    const doc = new XMLParser({ preserveOrder: true, parseTagValue: false }).parse(r.text) as Record<string, unknown>[];
    const root = doc.find((n) => 'ListVersionsResult' in n)!['ListVersionsResult'] as Record<string, unknown>[];
    const text = (children: Record<string, unknown>[], name: string) =>
      String(((children.find((c) => name in c)?.[name] as Record<string, unknown>[] | undefined)?.[0] ?? {})['#text'] ?? '');
    const entries: [string, string, string][] = [];
    const prefixes: string[] = [];
    const next = { key: text(root, 'NextKeyMarker'), versionId: text(root, 'NextVersionIdMarker'), truncated: text(root, 'IsTruncated') === 'true' };
    for (const node of root) {
      const name = Object.keys(node).find((k) => k !== ':@')!;
      const children = node[name] as Record<string, unknown>[];
      if (name === 'Version' || name === 'DeleteMarker') entries.push([name, text(children, 'Key'), text(children, 'VersionId')]);
      if (name === 'CommonPrefixes') prefixes.push(text(children, 'Prefix'));
    }
    return { status: r.status, entries, prefixes, next };
  }

  it('interleaves Version and DeleteMarker by key, newest first, and the SDK still gets both lists', async () => {
    const b = await newBucket('Enabled');
    const a1 = (await put(b, 'a', 'a1')).VersionId!;
    const am1 = (await erne.s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'a' }))).VersionId!;
    const a2 = (await put(b, 'a', 'a2')).VersionId!;
    const am2 = (await erne.s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'a' }))).VersionId!;
    const b1 = (await put(b, 'b', 'b1')).VersionId!;
    const bm1 = (await erne.s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'b' }))).VersionId!;
    const c1 = (await put(b, 'c', 'c1')).VersionId!;
    const expected: [string, string, string][] = [
      ['DeleteMarker', 'a', am2],
      ['Version', 'a', a2],
      ['DeleteMarker', 'a', am1],
      ['Version', 'a', a1],
      ['DeleteMarker', 'b', bm1],
      ['Version', 'b', b1],
      ['Version', 'c', c1],
    ];
    const whole = await rawEntries(b);
    expect(whole.status).toBe(200);
    expect(whole.entries).toEqual(expected);
    // every page keeps the order, and the pages join up to the whole listing
    const paged: [string, string, string][] = [];
    let marker = '';
    for (let i = 0; i < 10; i++) {
      const page = await rawEntries(b, `&max-keys=3${marker}`);
      paged.push(...page.entries);
      if (!page.next.truncated) break;
      marker = `&key-marker=${encodeURIComponent(page.next.key)}&version-id-marker=${encodeURIComponent(page.next.versionId)}`;
    }
    expect(paged).toEqual(expected);

    const sdk = await erne.s3.send(new ListObjectVersionsCommand({ Bucket: b }));
    expect(sdk.Versions?.map((v) => [v.Key, v.VersionId, v.IsLatest, v.ETag])).toEqual([
      ['a', a2, false, expect.stringMatching(/^"[0-9a-f]{32}"$/)],
      ['a', a1, false, expect.stringMatching(/^"[0-9a-f]{32}"$/)],
      ['b', b1, false, expect.stringMatching(/^"[0-9a-f]{32}"$/)],
      ['c', c1, true, expect.stringMatching(/^"[0-9a-f]{32}"$/)],
    ]);
    expect(sdk.DeleteMarkers?.map((m) => [m.Key, m.VersionId, m.IsLatest])).toEqual([
      ['a', am2, true],
      ['a', am1, false],
      ['b', bm1, true],
    ]);
  });

  it('keeps the order with a delimiter, url encoding and common prefixes after the entries', async () => {
    const b = await newBucket('Enabled');
    const x1 = (await put(b, 'k x', '1')).VersionId!;
    const xm = (await erne.s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k x' }))).VersionId!;
    await put(b, 'dir/inner', 'i');
    const y1 = (await put(b, 'y&z', '1')).VersionId!;
    const ym = (await erne.s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'y&z' }))).VersionId!;
    const y2 = (await put(b, 'y&z', '2')).VersionId!;
    const r = await rawEntries(b, '&delimiter=/&encoding-type=url');
    expect(r.entries).toEqual([
      ['DeleteMarker', 'k%20x', xm],
      ['Version', 'k%20x', x1],
      ['Version', 'y%26z', y2],
      ['DeleteMarker', 'y%26z', ym],
      ['Version', 'y%26z', y1],
    ]);
    expect(r.prefixes).toEqual(['dir/']);
    const sdk = await erne.s3.send(new ListObjectVersionsCommand({ Bucket: b, Delimiter: '/' }));
    expect(sdk.Versions?.map((v) => [v.Key, v.VersionId])).toEqual([
      ['k x', x1],
      ['y&z', y2],
      ['y&z', y1],
    ]);
    expect(sdk.DeleteMarkers?.map((m) => [m.Key, m.VersionId])).toEqual([
      ['k x', xm],
      ['y&z', ym],
    ]);
    expect(sdk.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['dir/']);
  });
});

describe('aws CLI', () => {
  it('put-bucket-versioning, list-object-versions, copy-object', async () => {
    const b = await newBucket();
    let r = await awsCli(erne.gw, ['s3api', 'put-bucket-versioning', '--bucket', b, '--versioning-configuration', 'Status=Enabled']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    r = await awsCli(erne.gw, ['s3api', 'get-bucket-versioning', '--bucket', b]);
    expect(JSON.parse(r.stdout).Status).toBe('Enabled');
    const v1 = (await put(b, 'k', 'one')).VersionId!;
    await put(b, 'k', 'two');
    r = await awsCli(erne.gw, ['s3api', 'copy-object', '--bucket', b, '--key', 'restored', '--copy-source', `${b}/k?versionId=${v1}`]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).CopySourceVersionId).toBe(v1);
    expect(await getText(b, 'restored')).toBe('one');
    r = await awsCli(erne.gw, ['s3api', 'list-object-versions', '--bucket', b, '--max-items', '2', '--page-size', '1']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.Versions.map((v: { Key: string }) => v.Key)).toEqual(['k', 'k']);
    expect(out.NextToken).toBeTruthy();
  });
});
