/**
 * Pieces for tests of regions talking to each other: a topology, a replicated version change
 * as another region would send it, and raw signed POSTs to the apply endpoint.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { Change } from '../../metadata/changes.js';
import { makeVersionId } from '../../metadata/version-id.js';
import { signClusterRequest } from '../../replication/cluster-auth.js';
import { parseTopology, type Topology } from '../../replication/topology.js';
import { APPLY_PATH } from '../../replication/wire.js';
import { ROOT } from './gateway.js';

export const CLUSTER_SECRET = 'test-cluster-secret-0123456789';

/** `regions`: name → internal URLs, in order; `self` one of them */
export function testTopology(self: string, regions: Record<string, string[]>): Topology {
  return parseTopology({ secret: CLUSTER_SECRET, regions: Object.entries(regions).map(([name, internal]) => ({ name, internal })) }, self);
}

let seq = 0;

/** a new inline version of bucket/key written in `region`, as its outbox carries it */
export function versionChange(bucket: string, bucketCreatedAt: number, key: string, text: string, region: string): Change {
  const data = Buffer.from(text);
  const hlc = { wall: Date.now(), logical: ++seq };
  return {
    kind: 'version',
    bucketCreatedAt,
    version: {
      bucket,
      key,
      versionId: makeVersionId(hlc, region, null),
      hlc,
      region,
      deleteMarker: false,
      size: data.length,
      etag: createHash('md5').update(data).digest('hex'),
      lastModified: hlc.wall,
      owner: ROOT.accessKeyId,
      headers: { contentType: 'text/plain' },
      userMetadata: { from: region },
      checksums: {},
      isNull: true,
      body: { kind: 'inline', data },
    },
  };
}

export interface SignedPost {
  headers: Record<string, string>;
  body: Buffer;
}

/** headers for POSTing `body` to the apply endpoint as `region` (at time `now`) */
export function signApply(body: Buffer, opts: { region: string; now?: number; secret?: string; target?: string }): SignedPost {
  const bodySha256 = createHash('sha256').update(body).digest('hex');
  const headers = signClusterRequest(opts.secret ?? CLUSTER_SECRET, { method: 'POST', target: opts.target ?? APPLY_PATH, bodySha256, region: opts.region }, opts.now);
  return { headers, body };
}

export interface PostResult {
  status: number;
  text: string;
}

/** POSTs to the gateway at `base` (path default: the apply endpoint) */
export function post(base: string, req: { headers: Record<string, string>; body: Buffer; path?: string; method?: string }): Promise<PostResult> {
  return new Promise((resolve, reject) => {
    const r = http.request(
      new URL(req.path ?? APPLY_PATH, base),
      { method: req.method ?? 'POST', agent: false, headers: { ...req.headers, 'content-length': String(req.body.length) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.once('end', () => resolve({ status: res.statusCode ?? 0, text: text.trim() }));
      },
    );
    r.once('error', reject);
    r.end(req.body);
  });
}
