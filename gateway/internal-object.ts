/**
 * The bytes of a version this region holds, for another region that reads it
 * (replication/region-fetch.ts is the client):
 *
 *   GET /.erne/internal/replication/object?bucket=B&key=K&versionId=V   (Range: bytes=a-b → 206)
 *
 * Authenticated with the cluster secret (replication/cluster-auth.ts; a GET has no body, so
 * the signed body hash is that of nothing). The bytes come from wherever this region keeps
 * them (inline, a blob on this node or another node of the region, multipart parts). Every
 * answer names the whole object's size (x-erne-object-size) and ETag, and carries an exact
 * Content-Length: the fetching side can tell a complete body from a cut one. Answers:
 *   200/206 the bytes     404 this region does not hold them (unknown, deleted, or held elsewhere)
 *   401 refused signature 400 bad query   416 range outside the object   500 read failed
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ByteRange } from '../cache/types.js';
import { MetadataError } from '../metadata/errors.js';
import type { ObjectVersion } from '../metadata/types.js';
import { parseVersionId } from '../metadata/version-id.js';
import { EMPTY_SHA256, NonceWindow, verifyClusterRequest } from '../replication/cluster-auth.js';
import { OBJECT_PATH, OBJECT_SIZE_HEADER } from '../replication/region-fetch.js';
import type { Topology } from '../replication/topology.js';
import type { Services } from './context.js';
import { ready } from './internal.js';
import { openBytes } from './ops/object-bytes.js';

export { OBJECT_PATH };

export interface RegionObjectDeps {
  topology: Topology;
  svc: Pick<Services, 'layer' | 'blobs' | 'multipart' | 'remote'>;
  log?: (line: string) => void;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

function reply(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(message) + 1 });
  res.end(message + '\n');
}

/** `bytes=a-b` or `bytes=a-` within `size`; 'bad' for anything else */
function parseRange(h: string | undefined, size: number): ByteRange | undefined | 'bad' {
  if (h === undefined) return undefined;
  const m = /^bytes=(\d{1,15})-(\d{1,15})?$/.exec(h);
  if (!m) return 'bad';
  const start = Number(m[1]);
  const end = m[2] === undefined ? size - 1 : Math.min(Number(m[2]), size - 1);
  return start < size && end >= start ? { start, end } : 'bad';
}

/** the version, if this region holds its bytes; a string says why not */
async function heldVersion(svc: RegionObjectDeps['svc'], bucket: string, key: string, versionId: string): Promise<ObjectVersion | string> {
  let v: ObjectVersion;
  try {
    v = await svc.layer.getObject(bucket, key, versionId);
  } catch (err) {
    if (err instanceof MetadataError) return `no such version here (${err.code})`;
    throw err;
  }
  if (v.versionId !== versionId || v.deleteMarker || !v.body) return 'no such version here';
  if (v.body.kind === 'remote') return `this region does not hold its bytes (region ${v.body.region} does)`;
  return v;
}

export function createRegionObjectHandler(deps: RegionObjectDeps): Handler {
  // one window per gateway process; the time check bounds replays reaching another process
  const nonces = new NonceWindow();
  const known = new Set(deps.topology.regions.map((r) => r.name));
  return async (req, res) => {
    const target = req.url ?? '/';
    if (req.method !== 'GET') return reply(res, 405, 'GET only');
    const auth = verifyClusterRequest(deps.topology.secret, 'GET', target, req.headers, nonces);
    if (!auth.ok) return reply(res, 401, `cluster authentication failed: ${auth.reason}`);
    if (!known.has(auth.region) || auth.region === deps.topology.self) return reply(res, 401, `cluster authentication failed: ${auth.region} is not another region of this cluster`);
    if (auth.bodySha256 !== EMPTY_SHA256) return reply(res, 400, 'a GET has no body');
    const q = new URL(target, 'http://x').searchParams;
    const bucket = q.get('bucket');
    const key = q.get('key');
    const versionId = q.get('versionId');
    if (!bucket || key === null || key === '' || !versionId || !parseVersionId(versionId)) return reply(res, 400, 'bucket, key and a version id are required');
    const v = await heldVersion(deps.svc, bucket, key, versionId);
    if (typeof v === 'string') return reply(res, 404, v);
    const range = parseRange(req.headers.range, v.size);
    if (range === 'bad') return reply(res, 416, `only Range: bytes=a-b within the object's ${v.size} bytes`);
    const length = range ? range.end - range.start + 1 : v.size;
    const bytes = await openBytes({ svc: deps.svc }, v, range);
    const stream = Buffer.isBuffer(bytes) ? Readable.from([bytes]) : bytes;
    // a blob that is gone answers before the status is sent
    const err = await ready(stream);
    if (err) {
      stream.destroy();
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      if (!missing) deps.log?.(`internal: reading ${bucket}/${key} (${versionId}) for region ${auth.region} failed: ${err.message}`);
      return reply(res, missing ? 404 : 500, missing ? 'its bytes are missing here' : 'read failed');
    }
    res.writeHead(range ? 206 : 200, {
      'content-type': 'application/octet-stream',
      'content-length': length,
      etag: `"${v.etag}"`,
      [OBJECT_SIZE_HEADER]: v.size,
      ...(range ? { 'content-range': `bytes ${range.start}-${range.end}/${v.size}` } : {}),
    });
    // a read that fails or ends short midway cuts the connection: the other side sees a cut body
    await pipeline(stream, exactLength(length), res).catch(() => res.destroy());
  };
}

/** passes `length` bytes through, and fails if the source gives more or fewer */
function exactLength(length: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      seen += chunk.length;
      cb(seen > length ? new Error('more bytes than the object has') : null, chunk);
    },
    flush(cb: TransformCallback) {
      cb(seen === length ? null : new Error(`the object's bytes ended after ${seen} of ${length}`));
    },
  });
}
