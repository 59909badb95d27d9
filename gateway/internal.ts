/**
 * The internal endpoint every gateway serves beside S3, on the same port:
 *
 *   GET /.erne/internal/blobs/<blobId>      (Range: bytes=a-b honoured)
 *   /.erne/internal/replication/…          (between regions: gateway/internal-replication.ts)
 *
 * S3 bucket names cannot start with '.', so these paths never collide with S3 requests. The
 * HTTP server routes them here before the S3 handler (gateway/server.ts). Requests must carry the
 * region's HMAC (gateway/internal-auth.ts). The client side, fetchRemoteBlob, is what
 * cache/remote-cache.ts uses to pull bytes a gateway lacks from the node that has them.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { OBJECT_PATH as REGION_OBJECT_PATH } from '../replication/region-fetch.js';
import type { Readable } from 'node:stream';
import { isBlobId } from '../cache/file-blob-store.js';
import { keepAliveAgents } from './keep-alive-agents.js';
import type { BlobStore, ByteRange } from '../cache/types.js';
import { INTERNAL_PREFIX, signInternal, verifyInternal } from './internal-auth.js';
import { REPLICATION_PREFIX } from './internal-replication.js';
import { isPlacementPath } from './internal-placement.js';

export { INTERNAL_PREFIX };

export function isInternalRequest(req: IncomingMessage): boolean {
  return (req.url ?? '').startsWith(INTERNAL_PREFIX);
}

function reply(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(message) + 1 });
  res.end(message + '\n');
}

function parseRange(h: string | undefined): ByteRange | undefined | 'bad' {
  if (h === undefined) return undefined;
  const m = /^bytes=(\d+)-(\d+)$/.exec(h);
  if (!m) return 'bad';
  const start = Number(m[1]);
  const end = Number(m[2]);
  return end >= start ? { start, end } : 'bad';
}

/** waits until the stream can give data (or ends), so a missing file becomes a 404 */
export function ready(s: Readable): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const done = (err?: Error) => {
      s.off('readable', ok);
      s.off('error', done);
      resolve(err);
    };
    const ok = () => done();
    s.once('readable', ok);
    s.once('error', done);
  });
}

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export function createInternalHandler(deps: { blobs: BlobStore; secret: Buffer; log?: (line: string) => void; replication?: Handler; regionObject?: Handler; placement?: Handler }) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // another region pushing a write's bytes here (gateway/internal-placement.ts); signed with the cluster secret
    if (deps.placement && isPlacementPath(req.url ?? '')) return deps.placement(req, res);
    // another region reading bytes held here (gateway/internal-object.ts); signed with the cluster secret
    if (deps.regionObject && (req.url ?? '').split('?')[0] === REGION_OBJECT_PATH) return deps.regionObject(req, res);
    const url = req.url ?? '/';
    const path = url.split('?')[0]!;
    const method = req.method ?? 'GET';
    // other regions sign with the cluster secret, not this region's
    if (path.startsWith(REPLICATION_PREFIX)) return deps.replication ? deps.replication(req, res) : reply(res, 404, 'this gateway is not part of a cluster');
    if (!verifyInternal(deps.secret, method, path, req.headers)) return reply(res, 403, 'bad or missing internal signature');
    const m = /^\/\.erne\/internal\/blobs\/([^/]+)$/.exec(path);
    if (!m || !isBlobId(m[1]!)) return reply(res, 404, 'no such internal resource');
    if (method !== 'GET') return reply(res, 405, 'GET only');
    const range = parseRange(req.headers.range);
    if (range === 'bad') return reply(res, 416, 'only Range: bytes=a-b is supported');
    const stream = deps.blobs.read(m[1]!, range);
    const err = await ready(stream);
    if (err) {
      stream.destroy();
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      if (!missing) deps.log?.(`internal: reading blob ${m[1]} failed: ${err.message}`);
      return reply(res, missing ? 404 : 500, missing ? 'no such blob' : 'read failed');
    }
    // no content-length: the length comes from the chunked framing, and a failure midway
    // cuts the connection, which the fetching side sees as an incomplete body
    res.writeHead(range ? 206 : 200, { 'content-type': 'application/octet-stream' });
    stream.pipe(res);
    stream.once('error', () => res.destroy());
    res.once('close', () => stream.destroy());
  };
}

export class RemoteFetchError extends Error {
  constructor(
    message: string,
    /** the owning node answered 404: the blob is gone there */
    readonly missing = false,
  ) {
    super(message);
    this.name = 'RemoteFetchError';
  }
}

const agents = keepAliveAgents();

/**
 * GET a blob (or a range) from another node's internal endpoint. Resolves once the status is
 * known with the response body as a stream; errors with RemoteFetchError otherwise.
 */
export function fetchRemoteBlob(baseUrl: string, secret: Buffer, blobId: string, range?: ByteRange): Promise<Readable> {
  const path = `${INTERNAL_PREFIX}blobs/${blobId}`;
  const url = new URL(path, baseUrl);
  const headers: Record<string, string> = signInternal(secret, 'GET', path);
  if (range) headers.range = `bytes=${range.start}-${range.end}`;
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: agents.agentFor(false), headers }, (res) => {
      const status = res.statusCode ?? 0;
      if (status === 200 || status === 206) {
        // a body cut short by the peer must not pass for the whole blob
        res.once('aborted', () => res.destroy(new RemoteFetchError(`node at ${baseUrl} cut blob ${blobId} short`)));
        resolve(res);
        return;
      }
      res.resume();
      reject(new RemoteFetchError(`node at ${baseUrl} answered ${status} for blob ${blobId}`, status === 404));
    });
    req.setTimeout(30_000, () => req.destroy(new RemoteFetchError(`node at ${baseUrl} timed out`)));
    req.once('error', (err) => reject(err instanceof RemoteFetchError ? err : new RemoteFetchError(`node at ${baseUrl} unreachable: ${err.message}`)));
  });
}
