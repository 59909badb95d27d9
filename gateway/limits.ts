/**
 * What the gateway refuses to let one client do to everybody else: huge or endless request
 * headers, bodies that trickle in to hold a connection forever (slowloris), more requests at
 * once than memory allows. Everything here works on the raw Node server, before the S3 handler.
 */
import type { IncomingMessage, Server, ServerOptions, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { S3Error, type S3ErrorCode } from './errors.js';
import { renderXml } from './xml.js';
import { headerText } from './header-text.js';

export interface LimitOptions {
  /** requests served at once; more get 503 SlowDown. Default 1024 */
  maxConcurrentRequests?: number;
  /** bytes of the request line and headers together; more get 400 RequestHeaderSectionTooLarge. Default 16 KiB */
  maxHeaderBytes?: number;
  /** the whole header section must arrive within this; default 60 s */
  headersTimeoutMs?: number;
  /** a request body must bring at least bodyMinBytes per bodyWindowMs, or the connection is cut. Default 1 KiB per 30 s */
  bodyMinBytes?: number;
  bodyWindowMs?: number;
  /** open connections one client address may hold; more are closed at once. Default 256 (gateway/connection-cap.ts) */
  maxConnectionsPerClient?: number;
}

export const LIMIT_DEFAULTS = {
  maxConcurrentRequests: 1024,
  maxHeaderBytes: 16 * 1024,
  headersTimeoutMs: 60_000,
  bodyMinBytes: 1024,
  bodyWindowMs: 30_000,
  maxConnectionsPerClient: 256,
} as const;

type Resolved = { [K in keyof typeof LIMIT_DEFAULTS]: number };

export function resolveLimits(o: LimitOptions = {}): Resolved {
  return {
    maxConcurrentRequests: o.maxConcurrentRequests ?? LIMIT_DEFAULTS.maxConcurrentRequests,
    maxHeaderBytes: o.maxHeaderBytes ?? LIMIT_DEFAULTS.maxHeaderBytes,
    headersTimeoutMs: o.headersTimeoutMs ?? LIMIT_DEFAULTS.headersTimeoutMs,
    bodyMinBytes: o.bodyMinBytes ?? LIMIT_DEFAULTS.bodyMinBytes,
    bodyWindowMs: o.bodyWindowMs ?? LIMIT_DEFAULTS.bodyWindowMs,
    maxConnectionsPerClient: o.maxConnectionsPerClient ?? LIMIT_DEFAULTS.maxConnectionsPerClient,
  };
}

/** node:http options that enforce the header limits */
export function serverOptions(l: Resolved): ServerOptions {
  return {
    maxHeaderSize: l.maxHeaderBytes,
    headersTimeout: l.headersTimeoutMs,
    // node checks the header deadline only this often (default 30 s); stay within a fraction of it
    // HTTP/1.1 needs a Host; node's own refusal is a bare 400, RequestLimiter.admit answers in S3 XML
    requireHostHeader: false,
    connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(l.headersTimeoutMs / 4))),
  };
}

let rawSeq = 0;

/** An S3 error as raw HTTP bytes, for a socket node's parser has given up on (no ServerResponse). */
function rawError(code: S3ErrorCode, message?: string): string {
  const err = new S3Error(code, message);
  const id = 'LIMIT' + (rawSeq++).toString(16).toUpperCase().padStart(11, '0');
  const body = renderXml('Error', { Code: err.code, Message: err.message, RequestId: id }, false);
  return (
    `HTTP/1.1 ${err.status} ${err.status === 400 ? 'Bad Request' : 'Error'}\r\n` +
    `content-type: application/xml\r\nx-amz-request-id: ${id}\r\nx-amz-id-2: ${id}\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`
  );
}

/**
 * Requests node's HTTP parser refuses never reach the S3 handler; answer them as S3 does (an XML
 * error) instead of node's bare 400/408/431, then close.
 */
export function onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  // a response cut on purpose (its body failed midway) destroyed the socket: nothing to answer
  if (socket.destroyed) return;
  // the client is gone (reset, or closed mid-response): nothing to answer, nobody to wait for.
  // Checked first: a streaming GET's response already carries many 'close' listeners (limiter,
  // observer, the body pipeline), and waiting on it here made one more per reset.
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE') {
    socket.destroy();
    return;
  }
  const inflight = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
  if (inflight && inflight.req?.complete && !inflight.writableFinished) {
    // the garbage follows a whole request (a body sent without a length, pipelined junk):
    // that request still gets its answer, then the connection closes
    socket.pause();
    inflight.shouldKeepAlive = false;
    inflight.once('close', () => socket.destroy());
    return;
  }
  if (!socket.writable || inflight) {
    // the request's own body framing is broken mid-way (or the socket is gone): nothing sane to add
    socket.destroy();
    return;
  }
  let text: string;
  if (err.code === 'HPE_HEADER_OVERFLOW') text = rawError('RequestHeaderSectionTooLarge');
  else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') text = rawError('RequestTimeout');
  else text = rawError('InvalidRequest', 'The request is not valid HTTP/1.1.');
  socket.end(text);
  // a client that does not read its answer still loses the connection
  setTimeout(() => socket.destroy(), 1000).unref();
}

/** answers before the S3 handler sees the request; its body (if any) is not read, so the connection closes */
function refuse(req: IncomingMessage, res: ServerResponse, err: S3Error, extra: Record<string, string> = {}): void {
  const id = 'LIMIT' + (rawSeq++).toString(16).toUpperCase().padStart(11, '0');
  const body = renderXml('Error', { Code: err.code, Message: err.message, Resource: (req.url ?? '/').split('?')[0], RequestId: id }, false);
  res.writeHead(err.status, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(body),
    'x-amz-request-id': id,
    'x-amz-id-2': id,
    ...extra,
    connection: 'close',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/**
 * Counts requests in flight and watches request bodies. `admit` answers a request over the
 * limit with 503 SlowDown itself and returns false.
 */
export class RequestLimiter {
  inflight = 0;
  constructor(private readonly l: Resolved) {}

  admit(req: IncomingMessage, res: ServerResponse): boolean {
    if (this.inflight >= this.l.maxConcurrentRequests) {
      refuse(req, res, new S3Error('SlowDown'), { 'retry-after': '1' });
      return false;
    }
    // S3 paths are origin-form ('/bucket/key'); '*' or absolute URLs never name a resource here
    if (!(req.url ?? '').startsWith('/')) {
      refuse(req, res, new S3Error('InvalidURI'));
      return false;
    }
    if (req.headers.host === undefined && req.httpVersion === '1.1') {
      refuse(req, res, new S3Error('InvalidRequest', 'An HTTP/1.1 request must have a Host header.'));
      return false;
    }
    this.inflight++;
    let done = false;
    const release = () => {
      if (done) return;
      done = true;
      this.inflight--;
    };
    res.once('finish', release);
    res.once('close', release);
    this.watchBody(req);
    return true;
  }

  /**
   * Ends a body that trickles: fewer than bodyMinBytes in a window while we were waiting on
   * the client (nothing of it buffered unread on our side, so a slow disk or a busy handler
   * never counts against an honest client).
   */
  private watchBody(req: IncomingMessage): void {
    if (req.complete) return;
    const socket = req.socket;
    let last = socket.bytesRead;
    const timer = setInterval(() => {
      if (req.complete || socket.destroyed) {
        clearInterval(timer);
        return;
      }
      const now = socket.bytesRead;
      const waitingOnClient = req.readableLength === 0 && !socket.isPaused();
      if (waitingOnClient && now - last < this.l.bodyMinBytes) {
        clearInterval(timer);
        socket.destroy();
        return;
      }
      last = now;
    }, this.l.bodyWindowMs);
    timer.unref();
    req.once('end', () => clearInterval(timer));
    req.once('close', () => clearInterval(timer));
  }
}

/** Wires the limits into a node:http server created with serverOptions(). */
export function installLimits(server: Server): void {
  server.on('clientError', onClientError);
  // an Expect other than 100-continue: node would answer a bare 417; S3 just serves the request
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => server.emit('request', req, res));
}

/** S3 bucket names are at most 63 bytes (255 in old us-east-1 buckets); keys at most 1024 */
const MAX_BUCKET_NAME_BYTES = 255;
const MAX_KEY_BYTES = 1024;

/**
 * query parameters that become metadata keys (listing bounds, ids) and how a too-long one is
 * refused; null prototype, as it is looked up by the request's own names (`?constructor=`)
 */
const NAME_PARAMS: Record<string, () => S3Error> = Object.assign(Object.create(null) as Record<string, () => S3Error>, {
  prefix: () => new S3Error('InvalidArgument', 'The prefix is longer than any key can be.', { ArgumentName: 'prefix' }),
  marker: () => new S3Error('InvalidArgument', 'The marker is longer than any key can be.', { ArgumentName: 'marker' }),
  'start-after': () => new S3Error('InvalidArgument', 'start-after is longer than any key can be.', { ArgumentName: 'start-after' }),
  'key-marker': () => new S3Error('InvalidArgument', 'The key-marker is longer than any key can be.', { ArgumentName: 'key-marker' }),
  'continuation-token': () => new S3Error('InvalidArgument', 'The continuation token provided is incorrect', { ArgumentName: 'continuation-token' }),
  'version-id-marker': () => new S3Error('InvalidArgument', 'Invalid version id specified', { ArgumentName: 'version-id-marker' }),
  versionId: () => new S3Error('InvalidArgument', 'Invalid version id specified', { ArgumentName: 'versionId' }),
  'upload-id-marker': () => new S3Error('InvalidArgument', 'Invalid upload id marker', { ArgumentName: 'upload-id-marker' }),
  uploadId: () => new S3Error('NoSuchUpload'),
});

/**
 * Names no bucket, key or id can have are refused before they reach the metadata store,
 * whose keys are bounded (a 6 KB "bucket name" or marker would otherwise fail there as an
 * internal error).
 */
export function checkNameLengths(bucket: string | undefined, key: string | undefined, query?: URLSearchParams, copySource?: string | string[]): void {
  if (bucket !== undefined && Buffer.byteLength(bucket) > MAX_BUCKET_NAME_BYTES) throw new S3Error('InvalidBucketName', undefined, { BucketName: bucket.slice(0, 64) + '…' });
  if (key !== undefined && Buffer.byteLength(key) > MAX_KEY_BYTES) throw new S3Error('KeyTooLongError', undefined, { Size: Buffer.byteLength(key), MaxSizeAllowed: MAX_KEY_BYTES });
  if (query) {
    for (const [name, value] of query) {
      // a continuation token carries a key and a little more
      const max = name === 'continuation-token' ? 2 * MAX_KEY_BYTES + 256 : MAX_KEY_BYTES;
      const refuse = NAME_PARAMS[name];
      if (refuse && Buffer.byteLength(value) > max) throw refuse();
    }
  }
  if (typeof copySource === 'string') {
    let src = headerText(copySource);
    try {
      src = decodeURIComponent(src);
    } catch {
      // copy-object.ts says what is wrong with it
    }
    const [path = '', version] = src.replace(/^\//, '').split('?versionId=');
    const slash = path.indexOf('/');
    const srcBucket = slash < 0 ? path : path.slice(0, slash);
    if (Buffer.byteLength(srcBucket) > MAX_BUCKET_NAME_BYTES) throw new S3Error('InvalidArgument', 'Invalid copy source bucket name', { ArgumentName: 'x-amz-copy-source' });
    const srcKey = slash < 0 ? '' : path.slice(slash + 1);
    if (Buffer.byteLength(srcKey) > MAX_KEY_BYTES) throw new S3Error('KeyTooLongError', undefined, { Size: Buffer.byteLength(srcKey), MaxSizeAllowed: MAX_KEY_BYTES });
    if (version !== undefined && Buffer.byteLength(version) > MAX_KEY_BYTES) throw new S3Error('InvalidArgument', 'Invalid version id specified', { ArgumentName: 'x-amz-copy-source' });
  }
}
