import type { IncomingMessage, ServerResponse } from 'node:http';
import { createLogger, logAccess, type Logger, type LogLevel } from './log.js';
import { Registry, type Counter, type Gauge, type Histogram } from './metrics.js';

/**
 * What operators see of the S3 traffic: app.ts opens a trace per request and fills in what
 * it learns (operation, bucket, key, caller, error); when the response closes the trace
 * becomes one access-log line and a handful of metric updates.
 */

/** request latency buckets, seconds: 1 ms … 60 s (big uploads take long) */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export interface GatewayMetrics {
  registry: Registry;
  requests: Counter;
  latency: Histogram;
  bytesIn: Counter;
  bytesOut: Counter;
  inflight: Gauge;
  metadataErrors: Counter;
  diskErrors: Counter;
}

export function createGatewayMetrics(): GatewayMetrics {
  const registry = new Registry();
  const started = Date.now() / 1000;
  const m: GatewayMetrics = {
    registry,
    requests: registry.counter('erne_requests_total', 'S3 requests by operation and HTTP status', ['operation', 'status']),
    latency: registry.histogram('erne_request_duration_seconds', 'S3 request latency, first byte read to response closed', ['operation'], LATENCY_BUCKETS),
    bytesIn: registry.counter('erne_received_bytes_total', 'request body bytes received on S3 requests', ['operation']),
    bytesOut: registry.counter('erne_sent_bytes_total', 'bytes sent in S3 responses (headers and body, before TLS)', ['operation']),
    inflight: registry.gauge('erne_requests_in_flight', 'S3 requests being served now'),
    metadataErrors: registry.counter('erne_metadata_errors_total', 'requests failed by the metadata store (LMDB/FDB), not by the client'),
    diskErrors: registry.counter('erne_disk_errors_total', "requests failed by the volume's file system (ENOSPC, EIO, …)"),
  };
  registry.gauge('process_resident_memory_bytes', 'resident set size', [], () => process.memoryUsage.rss());
  registry.counter('process_cpu_seconds_total', 'user and system CPU time', [], () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  });
  registry.gauge('process_start_time_seconds', 'when the process started, seconds since the epoch', [], () => started);
  registry.gauge('nodejs_heap_used_bytes', 'V8 heap in use', [], () => process.memoryUsage().heapUsed);
  return m;
}

/** Filled in by app.ts as the request is understood. */
export interface RequestTrace {
  requestId: string;
  op?: string;
  bucket?: string;
  key?: string;
  accessKey?: string | null;
  /** S3 error code of a failed request */
  code?: string;
  /** the error behind an InternalError, for the disk/metadata counters */
  cause?: unknown;
}

/** fs error codes that mean the volume, not the client or the network */
const DISK_CODES = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EROFS', 'EFBIG', 'EMFILE', 'ENFILE', 'EACCES', 'EPERM', 'ENOTDIR', 'EISDIR', 'ESTALE']);

/** Which store failed a request: a file-system error anywhere in the cause chain is the disk's. */
export function errorSource(err: unknown): 'disk' | 'metadata' | undefined {
  let e = err as { code?: unknown; syscall?: unknown; path?: unknown; cause?: unknown; stack?: unknown } | undefined;
  for (let depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    // the gateway's own full-volume error (gateway/errors.ts)
    if (e.code === 'InsufficientStorage') return 'disk';
    if (typeof e.code === 'string' && (DISK_CODES.has(e.code) || (typeof e.syscall === 'string' && typeof e.path === 'string'))) return 'disk';
    e = e.cause as typeof e;
  }
  // an unexpected failure raised inside the metadata layer or its database binding
  const stack = (err as { stack?: unknown } | undefined)?.stack;
  if (typeof stack === 'string' && /[\\/](metadata|lmdb|foundationdb)[\\/]/.test(stack)) return 'metadata';
  return undefined;
}

/**
 * Body bytes received: the declared length of a body read whole; for a chunked transfer
 * what the parser handed over (countBody); an upload cut short counts 0.
 */
function bodyBytesIn(req: IncomingMessage): number {
  const declared = req.headers['content-length'];
  if (declared !== undefined && req.complete) return Number(declared) || 0;
  return (req as CountedRequest)[COUNTED] ?? 0;
}

const COUNTED = Symbol('erne.bytesIn');
type CountedRequest = IncomingMessage & { [COUNTED]?: number };

/**
 * Counts body bytes of a request without a usable Content-Length, by wrapping its push():
 * a 'data' listener would switch the stream to flowing mode and defeat back-pressure.
 */
function countBody(req: IncomingMessage): void {
  // only chunked transfers: a body-less request or one with a Content-Length costs nothing here
  if (req.headers['transfer-encoding'] === undefined) return;
  const r = req as CountedRequest;
  r[COUNTED] = 0;
  const push = r.push.bind(r);
  r.push = (chunk: unknown, encoding?: BufferEncoding) => {
    if (chunk) r[COUNTED]! += (chunk as Buffer).length;
    return push(chunk, encoding);
  };
}

export interface Observer {
  logger: Logger;
  metrics: GatewayMetrics;
  /** starts timing and counting one S3 request; the access line is written when `res` closes */
  begin(req: IncomingMessage, res: ServerResponse, requestId: string): RequestTrace;
}

export function createObserver(opts: { logger?: Logger; logLevel?: LogLevel } = {}): Observer {
  // no logger and no level given (embedded use, tests): silent
  const logger = opts.logger ?? createLogger(opts.logLevel ?? 'silent');
  const metrics = createGatewayMetrics();
  return {
    logger,
    metrics,
    begin(req, res, requestId) {
      const t0 = performance.now();
      const socket = req.socket;
      const written0 = socket.bytesWritten;
      const trace: RequestTrace = { requestId };
      countBody(req);
      metrics.inflight.inc();
      res.once('close', () => {
        metrics.inflight.dec();
        const ms = performance.now() - t0;
        const op = trace.op ?? '-';
        // a response cut short (client gone) has no meaningful status of its own
        const status = res.writableFinished || res.headersSent ? res.statusCode : 499;
        const bytesIn = bodyBytesIn(req);
        const bytesOut = socket.bytesWritten - written0;
        metrics.requests.inc([op, String(status)]);
        metrics.latency.observe(ms / 1000, [op]);
        metrics.bytesIn.inc([op], Math.max(0, bytesIn));
        metrics.bytesOut.inc([op], Math.max(0, bytesOut));
        if (trace.cause !== undefined) {
          const source = errorSource(trace.cause);
          if (source === 'disk') metrics.diskErrors.inc();
          else if (source === 'metadata') metrics.metadataErrors.inc();
        }
        logAccess(logger, {
          requestId,
          op,
          bucket: trace.bucket,
          key: trace.key,
          status,
          code: trace.code,
          bytesIn,
          bytesOut,
          ms,
          remote: socket.remoteAddress,
          accessKey: trace.accessKey,
        });
      });
      return trace;
    },
  };
}
