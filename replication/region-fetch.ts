/**
 * Fetching a version's bytes from the region that holds them, over that region's internal
 * endpoint (gateway/internal-object.ts):
 *
 *   GET /.erne/internal/replication/object?bucket=B&key=K&versionId=V   (Range: bytes=a-b)
 *
 * signed with the cluster secret. Each of the region's internal URLs is tried in turn. The
 * answer names the object's size and ETag; any other than this region's metadata expects is
 * refused, and the body is checked to be exactly as long as announced: a body cut short is an
 * error at its end, never a complete-looking short object.
 */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { keepAliveAgents } from '../gateway/keep-alive-agents.js';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import type { ByteRange } from '../cache/types.js';
import { EMPTY_SHA256, signClusterRequest } from './cluster-auth.js';
import { regionInfo, type Topology } from './topology.js';

export const OBJECT_PATH = '/.erne/internal/replication/object';
/** the whole object's size, on every answer (a range's Content-Length is the range's) */
export const OBJECT_SIZE_HEADER = 'x-erne-object-size';

export interface RegionObjectRef {
  bucket: string;
  key: string;
  /** the internal version id (never 'null') */
  versionId: string;
}

export type RegionFetchFailure =
  /** no gateway of the region answered (refused, timed out, 5xx, refused our signature) */
  | 'unreachable'
  /** the region does not hold this version's bytes */
  | 'missing'
  /** the region answered with another size or ETag than this version has */
  | 'mismatch'
  /** the body ended before all its bytes came */
  | 'cut-short';

export class RegionFetchError extends Error {
  constructor(
    readonly reason: RegionFetchFailure,
    readonly region: string,
    message: string,
  ) {
    super(message);
    this.name = 'RegionFetchError';
  }
}

export interface RegionFetchOptions {
  range?: ByteRange;
  /** what this region's metadata says of the version: an answer that differs is refused */
  expect?: { size: number; etag: string };
  /** a socket idle this long (connecting or mid-body) is given up; default 30 s */
  timeoutMs?: number;
  /**
   * a region that has not answered (status and headers) by then is given up, however its
   * socket behaves; default 5 s. A partition that drops traffic leaves a request waiting for
   * nothing: the GET behind it answers 503 after this, not after the idle timeout.
   */
  answerTimeoutMs?: number;
}

/** the request target (path and query) for a version, exactly as signed */
export function objectTarget(ref: RegionObjectRef): string {
  return `${OBJECT_PATH}?${new URLSearchParams({ bucket: ref.bucket, key: ref.key, versionId: ref.versionId }).toString()}`;
}

/** how long a region has to start answering a read (RegionFetchOptions.answerTimeoutMs) */
export const ANSWER_TIMEOUT_MS = 5_000;

const agents = keepAliveAgents();

/**
 * The bytes (or a range) of a version held by `region`. Resolves once a gateway there has
 * answered with them; rejects with RegionFetchError: 'missing' when the region said it does
 * not hold them, 'unreachable' when none of its gateways answered. The stream errors with
 * 'cut-short' if the body ends early.
 */
export async function fetchRegionObject(t: Topology, region: string, ref: RegionObjectRef, opts: RegionFetchOptions = {}): Promise<Readable> {
  const urls = regionInfo(t, region)?.internal ?? [];
  if (urls.length === 0) throw new RegionFetchError('unreachable', region, `region ${region} is not in this cluster's topology`);
  const failures: RegionFetchError[] = [];
  for (const base of urls) {
    try {
      return await getFrom(t, region, base, ref, opts);
    } catch (err) {
      if (!(err instanceof RegionFetchError)) throw err;
      failures.push(err);
    }
  }
  // one gateway that knows the answer outweighs others that could not be reached
  throw failures.find((f) => f.reason === 'missing') ?? failures.find((f) => f.reason === 'mismatch') ?? failures[failures.length - 1]!;
}

function getFrom(t: Topology, region: string, base: string, ref: RegionObjectRef, opts: RegionFetchOptions): Promise<Readable> {
  const url = new URL(base);
  const target = objectTarget(ref);
  const headers: Record<string, string> = signClusterRequest(t.secret, { method: 'GET', target, bodySha256: EMPTY_SHA256, region: t.self });
  if (opts.range) headers['range'] = `bytes=${opts.range.start}-${opts.range.end}`;
  const what = `${ref.bucket}/${ref.key} (version ${ref.versionId})`;
  const unreachable = (why: string) => new RegionFetchError('unreachable', region, `region ${region} cannot be reached at ${base}: ${why}`);
  const secure = url.protocol === 'https:';
  return new Promise((resolve, reject) => {
    let answer: IncomingMessage | undefined;
    const req = (secure ? https : http).request(
      { protocol: url.protocol, hostname: url.hostname, port: url.port, path: target, method: 'GET', headers, agent: agents.agentFor(secure) },
      (res) => {
        answer = res;
        const status = res.statusCode ?? 0;
        if (status !== 200 && status !== 206) {
          res.resume();
          if (status === 404) reject(new RegionFetchError('missing', region, `region ${region} does not hold the bytes of ${what}`));
          else reject(unreachable(`it answered ${status}`));
          return;
        }
        const length = checkAnswer(res, status, opts);
        if (typeof length === 'string') {
          res.destroy();
          reject(new RegionFetchError('mismatch', region, `region ${region} answered for ${what} with ${length}`));
          return;
        }
        resolve(exactly(res, length, () => new RegionFetchError('cut-short', region, `region ${region} cut the bytes of ${what} short`)));
      },
    );
    const answerMs = opts.answerTimeoutMs ?? ANSWER_TIMEOUT_MS;
    const noAnswer = setTimeout(() => req.destroy(unreachable(`no answer within ${answerMs / 1000} s`)), answerMs);
    req.once('response', () => clearTimeout(noAnswer));
    req.once('close', () => clearTimeout(noAnswer));
    const idleMs = opts.timeoutMs ?? 30_000;
    req.on('timeout', () => {
      // a body paused by its slow reader is not a region that stalled
      if (answer?.isPaused() && !answer.complete) return void req.setTimeout(idleMs);
      req.destroy(unreachable('timed out'));
    });
    req.setTimeout(idleMs);
    req.once('error', (err) => reject(err instanceof RegionFetchError ? err : unreachable(err.message)));
    req.end();
  });
}

/** the body's length when the answer is the one asked for, or what is wrong with it */
function checkAnswer(res: IncomingMessage, status: number, opts: RegionFetchOptions): number | string {
  const length = Number(res.headers['content-length']);
  const size = Number(res.headers[OBJECT_SIZE_HEADER]);
  if (!Number.isSafeInteger(length) || !Number.isSafeInteger(size)) return 'no length or size';
  if (opts.expect) {
    if (size !== opts.expect.size) return `size ${size}, not ${opts.expect.size}`;
    if (res.headers.etag !== `"${opts.expect.etag}"`) return `ETag ${res.headers.etag}, not "${opts.expect.etag}"`;
  }
  const want = opts.range ? Math.min(opts.range.end, size - 1) - opts.range.start + 1 : size;
  if ((status === 206) !== !!opts.range || length !== want) return `${length} bytes (status ${status}) where ${want} were asked for`;
  return length;
}

/** the response body, erroring with `cutShort()` unless exactly `length` bytes come */
function exactly(res: IncomingMessage, length: number, cutShort: () => Error): Readable {
  let seen = 0;
  const out = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      seen += chunk.length;
      cb(seen > length ? cutShort() : null, chunk);
    },
    flush(cb: TransformCallback) {
      cb(seen === length ? null : cutShort());
    },
  });
  res.on('error', () => undefined); // reported through `close` below
  res.once('close', () => {
    if (!res.complete) out.destroy(cutShort());
  });
  // a reader that goes away releases the connection
  out.once('close', () => {
    if (!res.complete) res.destroy();
  });
  res.pipe(out);
  return out;
}
