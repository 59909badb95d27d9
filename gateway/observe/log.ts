import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './levels.js';

/**
 * Structured JSON logs (one object a line, pino). The gateway writes one access line per S3
 * request at level info and its background messages (janitor, lifecycle, internal errors)
 * at warn/error. Nothing secret is ever logged: no secret keys, signatures or request
 * headers, only the access key id.
 */
export type { Logger };

export { LOG_LEVELS, isLogLevel, type LogLevel } from './levels.js';

/** A logger writing JSON lines to `destination` (default stdout, written synchronously so no line is lost at exit). */
export function createLogger(level: LogLevel = 'info', destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      // ISO time reads better in a terminal and sorts the same
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

/** A key longer than this is cut in the log line (S3 keys may be 1024 bytes). */
const KEY_LOG_MAX = 256;

/** What one S3 request did, as the access line records it. */
export interface AccessRecord {
  requestId: string;
  /** S3 operation name (GetObject, …); '-' when the request failed before it was known */
  op: string;
  bucket?: string;
  key?: string;
  status: number;
  /** the S3 error code of a failed request */
  code?: string;
  bytesIn: number;
  bytesOut: number;
  ms: number;
  remote?: string;
  accessKey?: string | null;
}

export function logAccess(logger: Logger, r: AccessRecord): void {
  // the level check first: a disabled level costs one comparison and no object
  if (!logger.isLevelEnabled('info')) return;
  logger.info(
    {
      reqId: r.requestId,
      op: r.op,
      bucket: r.bucket || undefined,
      key: r.key ? (r.key.length > KEY_LOG_MAX ? r.key.slice(0, KEY_LOG_MAX) + '…' : r.key) : undefined,
      status: r.status,
      code: r.code,
      bytesIn: r.bytesIn,
      bytesOut: r.bytesOut,
      ms: Math.round(r.ms * 1000) / 1000,
      remote: r.remote,
      accessKey: r.accessKey ?? undefined,
    },
    'request',
  );
}
