import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { asksConsistent, bucketRoute, type RouteView } from '../../gateway/forward/bucket-route.js';
import { CLIENT_SIGNED_BODY, forwardHeaders, forwardVerifier } from '../../gateway/forward/forward-auth.js';
import { CONSISTENT_KIND, LOCATIONS_KIND, type BucketLocations } from '../../metadata/bucket-locations.js';
import { MetadataError } from '../../metadata/errors.js';
import type { BucketRecord } from '../../metadata/types.js';

/** a region `fra` of iad/fra/sin; buckets: name → (created in, locations, consistent by default) */
function view(buckets: Record<string, { region: string; locations?: BucketLocations; consistent?: boolean }>): RouteView {
  return {
    region: 'fra',
    regions: ['fra', 'iad', 'sin'],
    control: 'iad',
    configs: {
      async get<T>(bucket: string, kind: string): Promise<T | undefined> {
        const b = buckets[bucket];
        if (kind === LOCATIONS_KIND) return b?.locations as T | undefined;
        if (kind === CONSISTENT_KIND) return b?.consistent as T | undefined;
        return undefined;
      },
    },
    layer: {
      async getBucket(name: string) {
        const b = buckets[name];
        if (!b) throw new MetadataError('NoSuchBucket');
        return { name, region: b.region } as BucketRecord;
      },
    },
    homeOf: (b) => (['fra', 'iad', 'sin'].includes(b.region) ? b.region : 'iad'),
  };
}

const v = view({
  homed: { region: 'fra', locations: { type: 'home', region: 'sin' } },
  homedHere: { region: 'iad', locations: { type: 'home', region: 'fra' } },
  homedGone: { region: 'iad', locations: { type: 'home', region: 'lhr' } },
  iadMade: { region: 'iad' },
  fraMade: { region: 'fra' },
  oldMade: { region: 'us-east-1' },
  strongIad: { region: 'iad', consistent: true },
  listed: { region: 'sin', locations: { type: 'regions', regions: ['fra', 'iad'] } },
});

const T = { 'x-tigris-consistent': 'true' };

const cases: { what: string; bucket: string; op: string; headers?: Record<string, string>; uploadId?: string; want?: { region: string; why: string } }[] = [
  { what: 'any operation on a bucket homed elsewhere', bucket: 'homed', op: 'ListObjectsV2', want: { region: 'sin', why: 'home' } },
  { what: 'a bucket config operation on a bucket homed elsewhere', bucket: 'homed', op: 'PutBucketCors', want: { region: 'sin', why: 'home' } },
  { what: 'a bucket homed here', bucket: 'homedHere', op: 'PutObject', headers: T },
  { what: 'a home the cluster has not', bucket: 'homedGone', op: 'GetObject' },
  { what: 'CreateBucket of a homed name', bucket: 'homed', op: 'CreateBucket' },
  { what: 'a consistent GET of a key iad leads', bucket: 'iadMade', op: 'GetObject', headers: T, want: { region: 'iad', why: 'consistent' } },
  { what: 'the twin header', bucket: 'iadMade', op: 'HeadObject', headers: { 'x-erne-consistent': 'TRUE' }, want: { region: 'iad', why: 'consistent' } },
  { what: 'a consistent upload creation (the upload then lives in the leader)', bucket: 'iadMade', op: 'CreateMultipartUpload', headers: T, want: { region: 'iad', why: 'consistent' } },
  { what: 'a consistent copy and delete', bucket: 'iadMade', op: 'CopyObject', headers: T, want: { region: 'iad', why: 'consistent' } },
  { what: 'a GET without the header', bucket: 'iadMade', op: 'GetObject' },
  { what: 'the header on an operation it does not cover', bucket: 'iadMade', op: 'ListObjectsV2', headers: T },
  { what: 'a consistent PUT of a key this region leads', bucket: 'fraMade', op: 'PutObject', headers: T },
  { what: 'a bucket made before the cluster: the control region leads', bucket: 'oldMade', op: 'DeleteObject', headers: T, want: { region: 'iad', why: 'consistent' } },
  { what: 'a consistent bucket, no header', bucket: 'strongIad', op: 'PutObject', want: { region: 'iad', why: 'consistent' } },
  { what: 'a consistent bucket, the header saying false', bucket: 'strongIad', op: 'PutObject', headers: { 'x-tigris-consistent': 'false' } },
  { what: 'a regions-list bucket: its creator leads', bucket: 'listed', op: 'GetObject', headers: T, want: { region: 'sin', why: 'consistent' } },
  { what: 'a consistent request for a bucket not known here: the control region', bucket: 'nope', op: 'GetObject', headers: T, want: { region: 'iad', why: 'unknown' } },
  { what: 'a bucket not known here, no header', bucket: 'nope', op: 'GetObject' },
  { what: 'a consistent completion of an upload (served where the upload lives)', bucket: 'iadMade', op: 'CompleteMultipartUpload', headers: T, uploadId: 'x', want: undefined },
  { what: 'a part of an upload in a bucket homed elsewhere (served where the upload lives)', bucket: 'homed', op: 'UploadPart', uploadId: 'x' },
];

describe('bucketRoute', () => {
  for (const c of cases) {
    it(c.what, async () => {
      expect(await bucketRoute(v, { bucket: c.bucket, op: c.op, headers: c.headers ?? {}, uploadId: c.uploadId ?? null })).toEqual(c.want);
    });
  }

  it('reads the header as true, false or nothing', () => {
    expect(asksConsistent({ 'x-tigris-consistent': ' True ' })).toBe(true);
    expect(asksConsistent({ 'x-erne-consistent': 'false' })).toBe(false);
    expect(asksConsistent({ 'x-tigris-consistent': 'yes' })).toBeUndefined();
    expect(asksConsistent({})).toBeUndefined();
  });
});

describe('forward authentication', () => {
  const secret = 'a-cluster-secret-of-some-length';
  /** a request as the receiving gateway sees it */
  const incoming = (method: string, url: string, pairs: string[]) => {
    const req = new http.IncomingMessage(null as never);
    req.method = method;
    req.url = url;
    for (let i = 0; i < pairs.length; i += 2) req.headers[pairs[i]!.toLowerCase()] = pairs[i + 1]!;
    return req;
  };

  it('trusts a forward signed with the cluster secret once, with its request id', () => {
    const verify = forwardVerifier(secret);
    const pairs = forwardHeaders(secret, 'iad', 'PUT', '/b/k?x=1', '0123ABCD00000007');
    expect(verify(incoming('PUT', '/b/k?x=1', pairs))).toEqual({ from: 'iad', requestId: '0123ABCD00000007' });
    // the same headers again: a replay
    expect(verify(incoming('PUT', '/b/k?x=1', pairs))).toBeUndefined();
  });

  it('does not trust another target, another secret, another body claim or no signature', () => {
    const verify = forwardVerifier(secret);
    expect(verify(incoming('PUT', '/b/other', forwardHeaders(secret, 'iad', 'PUT', '/b/k', '0123ABCD00000007')))).toBeUndefined();
    expect(verify(incoming('GET', '/b/k', forwardHeaders(secret, 'iad', 'PUT', '/b/k', '0123ABCD00000007')))).toBeUndefined();
    expect(verify(incoming('PUT', '/b/k', forwardHeaders('another-secret-of-16+', 'iad', 'PUT', '/b/k', '0123ABCD00000007')))).toBeUndefined();
    const pairs = forwardHeaders(secret, 'iad', 'PUT', '/b/k', '0123ABCD00000007');
    const claim = pairs.indexOf(CLIENT_SIGNED_BODY);
    expect(verify(incoming('PUT', '/b/k', pairs.map((p, i) => (i === claim ? 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' : p))))).toBeUndefined();
    expect(verify(incoming('PUT', '/b/k', ['x-erne-forwarded-from', 'iad', 'x-erne-request-id', '0123ABCD00000007']))).toBeUndefined();
  });

  it('drops a request id that is not one of ours', () => {
    const verify = forwardVerifier(secret);
    expect(verify(incoming('GET', '/b', forwardHeaders(secret, 'sin', 'GET', '/b', 'not an id\n')))).toEqual({ from: 'sin' });
  });
});
