/**
 * The receiving side of placement (replication/placement.ts): another region pushes an
 * object's bytes here before it answers a PUT to a bucket whose locations list this region.
 *
 *   POST /.erne/internal/replication/stage?bucket=B&key=K   bytes in → msgpack StagedBytes
 *   POST /.erne/internal/replication/place                  msgpack PlaceOp → 200 msgpack / 204
 *
 * Signed with the cluster secret. Refusals answer a msgpack { code, message } with an S3 code
 * (409 NotReady: the bucket has not reached this region yet; the sender retries).
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Transform } from 'node:stream';
import { pack, unpack } from 'msgpackr';
import type { BlobStore } from '../cache/types.js';
import { toReplicated } from '../metadata/changes.js';
import { MetadataError } from '../metadata/errors.js';
import type { KvStore } from '../metadata/kv.js';
import type { ObjectLayer } from '../metadata/object-layer.js';
import type { Hlc } from '../metadata/types.js';
import { NotReadyError } from '../replication/apply.js';
import { NonceWindow, verifyClusterRequest } from '../replication/cluster-auth.js';
import { applyHeldVersion } from '../replication/held-apply.js';
import { PLACE_PATH, STAGE_PATH, UNSIGNED_BODY, type PlaceOp, type StagedBytes } from '../replication/placement.js';
import type { Topology } from '../replication/topology.js';
import { MAX_SINGLE_PUT_BYTES } from './validate.js';

export { PLACE_PATH, STAGE_PATH };

export interface PlacementEndpointDeps {
  topology: Topology;
  kv: KvStore;
  layer: ObjectLayer;
  blobs: BlobStore;
  observe?: (hlc: Hlc) => void;
  log?: (line: string) => void;
}

const MAX_PLACE_BODY = 1024 * 1024;

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) return void res.writeHead(status).end();
  const out = pack(body);
  res.writeHead(status, { 'content-type': 'application/msgpack', 'content-length': out.length });
  res.end(out);
}

export function isPlacementPath(url: string): boolean {
  const path = url.split('?')[0];
  return path === STAGE_PATH || path === PLACE_PATH;
}

export function createPlacementHandler(deps: PlacementEndpointDeps) {
  const nonces = new NonceWindow();
  const known = new Set(deps.topology.regions.map((r) => r.name));
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const target = req.url ?? '/';
    if (req.method !== 'POST') return send(res, 405, { code: 'MethodNotAllowed', message: 'POST only' });
    const auth = verifyClusterRequest(deps.topology.secret, 'POST', target, req.headers, nonces);
    if (!auth.ok || !known.has(auth.region) || auth.region === deps.topology.self) {
      res.setHeader('connection', 'close');
      return send(res, 401, { code: 'AccessDenied', message: `cluster authentication failed: ${auth.ok ? `${auth.region} is not another region` : auth.reason}` });
    }
    if (target.split('?')[0] === STAGE_PATH) {
      if (auth.bodySha256 !== UNSIGNED_BODY) return send(res, 400, { code: 'InvalidArgument', message: 'a staged body is signed as unsigned' });
      return stage(deps, req, res);
    }
    const body = await readSmall(req);
    if (!body || createHash('sha256').update(body).digest('hex') !== auth.bodySha256) {
      return send(res, 401, { code: 'AccessDenied', message: 'the body does not match its signed hash' });
    }
    let op: PlaceOp;
    try {
      op = unpack(body) as PlaceOp;
    } catch {
      return send(res, 400, { code: 'InvalidArgument', message: 'malformed placement operation' });
    }
    try {
      await place(deps, op, res);
    } catch (err) {
      if (err instanceof NotReadyError) return send(res, 409, { code: 'NotReady', message: err.message });
      if (err instanceof MetadataError) return send(res, 409, { code: err.code, message: err.message });
      deps.log?.(`placement: ${op.op} from ${auth.region} failed: ${(err as Error).message}`);
      send(res, 500, { code: 'InternalError', message: 'placement failed' });
    }
  };
}

/** the bytes onto this node's volume as a blob (never inline: inline bytes would replicate everywhere) */
async function stage(deps: PlacementEndpointDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const hash = createHash('sha256');
  const tap = new Transform({
    transform(chunk: Buffer, _e, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  req.pipe(tap);
  req.once('aborted', () => tap.destroy(new Error('the sender went away')));
  try {
    const r = await deps.blobs.ingest(tap, { inlineThreshold: 0, maxSize: MAX_SINGLE_PUT_BYTES });
    const answer: StagedBytes = { size: r.size, sha256: hash.digest('hex'), ...(r.blobId ? { blob: { blobId: r.blobId, node: deps.blobs.nodeId } } : {}) };
    send(res, 200, answer);
  } catch (err) {
    // ingest removed its temp file
    if (!res.headersSent) send(res, 500, { code: 'InternalError', message: (err as Error).message });
  }
}

async function place(deps: PlacementEndpointDeps, op: PlaceOp, res: ServerResponse): Promise<void> {
  switch (op.op) {
    case 'commit': {
      const body = op.blob ? ({ kind: 'blob', ...op.blob } as const) : ({ kind: 'inline', data: new Uint8Array(0) } as const);
      const v = await deps.layer.putObject({ ...op.object, body }, op.cond);
      const bucket = await deps.layer.getBucket(v.bucket);
      return send(res, 200, { version: toReplicated(v, deps.topology.self), bucketCreatedAt: bucket.createdAt });
    }
    case 'hold':
      await applyHeldVersion(deps.kv, op.bucketCreatedAt, op.version, op.blob, deps.observe);
      return send(res, 204);
    case 'discard':
      if (op.blob.node === deps.blobs.nodeId && !(await deps.layer.isBlobReferenced(op.blob.blobId))) await deps.blobs.delete(op.blob.blobId);
      return send(res, 204);
    default:
      return send(res, 400, { code: 'InvalidArgument', message: 'unknown placement operation' });
  }
}

function readSmall(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_PLACE_BODY) chunks.push(c);
    });
    req.once('end', () => resolve(size <= MAX_PLACE_BODY ? Buffer.concat(chunks) : undefined));
    req.once('error', () => resolve(undefined));
  });
}
