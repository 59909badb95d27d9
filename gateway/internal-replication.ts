/**
 * The replication endpoint other regions' workers call (replication/http-peer.ts):
 *
 *   POST /.erne/internal/replication/apply     body: msgpack { changes: Change[] }
 *   POST /.erne/internal/replication/uploads   msgpack UploadsQuery → msgpack UploadsAnswer
 *                                              (this region's multipart uploads of a bucket:
 *                                              replication/cluster-uploads.ts)
 *
 * Authenticated with the cluster secret (replication/cluster-auth.ts); the body is read with
 * a size cap while it is hashed, and must hash to what was signed. Answers:
 *   204 applied (or already applied: applying is idempotent)
 *   409 "not ready: …"   a change must wait (its bucket has not arrived): the sender retries
 *   401 "…: missing|tampered|stale|replayed|body does not match"   refused, nothing applied
 *   400 malformed body, 413 body too large, 404/405 wrong path or method
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KvStore } from '../metadata/kv.js';
import type { ListUploadsInput, ListUploadsPage } from '../metadata/multipart-list.js';
import type { Hlc } from '../metadata/types.js';
import { pack, unpack } from 'msgpackr';
import { applyChanges, NotReadyError } from '../replication/apply.js';
import { BUCKET_PATH, type BucketOp, type BucketOpAnswer } from '../replication/bucket-namespace.js';
import { NonceWindow, verifyClusterRequest } from '../replication/cluster-auth.js';
import type { Topology } from '../replication/topology.js';
import { answerUploadsQuery, parseUploadsQuery, UPLOADS_PATH } from '../replication/cluster-uploads.js';
import { REPAIR_PATH } from '../replication/repair/ops.js';
import { APPLY_PATH, decodeApplyBody, MalformedApplyBody, MAX_APPLY_BODY_BYTES } from '../replication/wire.js';

export const REPLICATION_PREFIX = '/.erne/internal/replication/';

export interface ReplicationEndpointDeps {
  kv: KvStore;
  topology: Topology;
  /** the region's clock, told of every remote time applied */
  observe?: (hlc: Hlc) => void;
  log?: (line: string) => void;
  /** the bucket namespace (replication/bucket-namespace.ts): create/delete/close/reopen */
  buckets?: { handle(op: BucketOp): Promise<BucketOpAnswer> };
  /** `n` changes from region `from` were applied (the applied metric) */
  onApplied?: (from: string, n: number) => void;
  /** the repair endpoint (gateway/internal-repair.ts) */
  repair?: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  /** this region's multipart uploads, for another region's ListMultipartUploads */
  uploads?: (input: ListUploadsInput) => Promise<ListUploadsPage>;
}

function reply(res: ServerResponse, status: number, message?: string): void {
  if (message === undefined) return void res.writeHead(status).end();
  res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(message) + 1 });
  res.end(message + '\n');
}

type BodyResult = { ok: true; body: Buffer; sha256: string } | { ok: false; tooLarge: true } | { ok: false; tooLarge: false };

/** reads the whole body (it is small) while hashing it; stops at `max` bytes */
function readBody(req: IncomingMessage, max: number): Promise<BodyResult> {
  return new Promise((resolve) => {
    const hash = createHash('sha256');
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (r: BodyResult) => {
      if (done) return;
      done = true;
      resolve(r);
    };
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > max) return finish({ ok: false, tooLarge: true });
      hash.update(chunk);
      chunks.push(chunk);
    });
    req.once('end', () => finish({ ok: true, body: Buffer.concat(chunks, size), sha256: hash.digest('hex') }));
    req.once('error', () => finish({ ok: false, tooLarge: false }));
    req.once('aborted', () => finish({ ok: false, tooLarge: false }));
  });
}

export function createReplicationHandler(deps: ReplicationEndpointDeps) {
  // one window per gateway process: a replay reaching another process is refused by the
  // time check, and applying twice changes nothing anyway
  const nonces = new NonceWindow();
  const known = new Set(deps.topology.regions.map((r) => r.name));
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const target = req.url ?? '/';
    const path = target.split('?')[0]!;
    if (path === REPAIR_PATH && deps.repair) return deps.repair(req, res);
    if (path !== APPLY_PATH && !(path === BUCKET_PATH && deps.buckets) && !(path === UPLOADS_PATH && deps.uploads)) return reply(res, 404, 'no such replication resource');
    if (req.method !== 'POST') return reply(res, 405, 'POST only');
    const auth = verifyClusterRequest(deps.topology.secret, 'POST', target, req.headers, nonces);
    if (!auth.ok) return reply(res, 401, `cluster authentication failed: ${auth.reason}`);
    if (!known.has(auth.region) || auth.region === deps.topology.self) return reply(res, 401, `cluster authentication failed: ${auth.region} is not another region of this cluster`);
    const declared = Number(req.headers['content-length']);
    if (declared > MAX_APPLY_BODY_BYTES) {
      res.setHeader('connection', 'close');
      return reply(res, 413, `an apply body is at most ${MAX_APPLY_BODY_BYTES} bytes`);
    }
    const read = await readBody(req, MAX_APPLY_BODY_BYTES);
    if (!read.ok) {
      if (!read.tooLarge) return void res.destroy();
      res.setHeader('connection', 'close');
      return reply(res, 413, `an apply body is at most ${MAX_APPLY_BODY_BYTES} bytes`);
    }
    if (read.sha256 !== auth.bodySha256) return reply(res, 401, 'cluster authentication failed: the body does not match its signed hash');
    if (path === BUCKET_PATH) return answerBucketOp(res, deps.buckets!, read.body, deps.log);
    if (path === UPLOADS_PATH) return answerUploads(res, deps.uploads!, read.body, auth.region, deps.log);
    let changes;
    try {
      changes = decodeApplyBody(read.body);
    } catch (err) {
      if (err instanceof MalformedApplyBody) return reply(res, 400, `malformed apply body: ${err.message}`);
      throw err;
    }
    try {
      await applyChanges(deps.kv, changes, { observe: deps.observe });
    } catch (err) {
      if (err instanceof NotReadyError) return reply(res, 409, `not ready: ${err.message}`);
      deps.log?.(`replication: applying ${changes.length} change(s) from ${auth.region} failed: ${(err as Error).message}`);
      return reply(res, 500, 'applying failed');
    }
    deps.onApplied?.(auth.region, changes.length);
    reply(res, 204);
  };
}

const BUCKET_OPS = new Set(['create', 'delete', 'close', 'reopen']);

/** POST /.erne/internal/replication/bucket: msgpack BucketOp in, msgpack answer out */
async function answerBucketOp(res: ServerResponse, buckets: NonNullable<ReplicationEndpointDeps['buckets']>, body: Buffer, log?: (line: string) => void): Promise<void> {
  let op: BucketOp;
  try {
    op = unpack(body) as BucketOp;
    if (typeof op !== 'object' || op === null || !BUCKET_OPS.has(op.op)) throw new Error('not a bucket operation');
  } catch (err) {
    return reply(res, 400, `malformed bucket operation: ${(err as Error).message}`);
  }
  let answer: BucketOpAnswer;
  try {
    answer = await buckets.handle(op);
  } catch (err) {
    log?.(`replication: bucket ${op.op} failed: ${(err as Error).message}`);
    return reply(res, 500, 'the bucket operation failed');
  }
  const out = pack(answer.body ?? {});
  res.writeHead(answer.status, { 'content-type': 'application/msgpack', 'content-length': out.length });
  res.end(out);
}

/** POST /.erne/internal/replication/uploads: msgpack UploadsQuery in, msgpack UploadsAnswer out */
async function answerUploads(res: ServerResponse, list: NonNullable<ReplicationEndpointDeps['uploads']>, body: Buffer, from: string, log?: (line: string) => void): Promise<void> {
  let query;
  try {
    query = parseUploadsQuery(unpack(body));
  } catch (err) {
    return reply(res, 400, `malformed uploads query: ${(err as Error).message}`);
  }
  let out: Buffer;
  try {
    out = pack(await answerUploadsQuery(list, query));
  } catch (err) {
    log?.(`replication: listing uploads of ${query.bucket} for ${from} failed: ${(err as Error).message}`);
    return reply(res, 500, 'listing uploads failed');
  }
  res.writeHead(200, { 'content-type': 'application/msgpack', 'content-length': out.length });
  res.end(out);
}
