/**
 * Where shadow buckets meet the S3 operations: each hook wraps an operation's handler and acts
 * only when the bucket has a shadow source.
 *
 * - GetObject / HeadObject of the current version that misses (NoSuchKey): the key is copied
 *   in from the source (gateway/shadow/fill.ts). A plain GET that starts the copy streams the
 *   bytes as they come; every other read (HEAD, ranges, conditionals, a read joining a copy
 *   in progress) waits for the copy and is then answered from here, by the same handler.
 * - With write-through, PutObject, CopyObject, CompleteMultipartUpload, DeleteObject and
 *   DeleteObjects go to the source once they succeeded here. A source that refuses or cannot
 *   be reached makes the request a 503 saying the write is stored here but not at the source:
 *   the client (whose SDK retries 503s) tries again, and the retry is harmless, whereas a
 *   failure only logged would leave the source behind while the app believes it current.
 */
import type { Handler, OpContext, OpResult } from '../context.js';
import { header } from '../context.js';
import { S3Error } from '../errors.js';
import { openBytes } from '../ops/object-bytes.js';
import { objectResponseHeaders } from '../ops/object-headers.js';
import type { BucketRecord } from '../../metadata/types.js';
import type { ShadowFills } from './fill.js';
import type { Migrations } from './migrate.js';
import { Readable } from 'node:stream';
import { objectHeadersOf } from './fill.js';
import { ShadowSource, SourceError } from './source.js';
import { SHADOW_KIND, type ShadowConfig } from './types.js';

/** what a gateway keeps for its shadow buckets (Services.shadow) */
export interface ShadowServices {
  fills: ShadowFills;
  migrations: Migrations;
  log?: (line: string) => void;
}

const WRITES = new Set(['PutObject', 'CopyObject', 'CompleteMultipartUpload']);
const READ_HEADERS = ['range', 'if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since'];

export async function shadowOf(ctx: OpContext): Promise<ShadowConfig | undefined> {
  return ctx.bucket ? ctx.svc.configs.get<ShadowConfig>(ctx.bucket, SHADOW_KIND) : undefined;
}

function isNoSuchKey(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'NoSuchKey';
}

/** a read any stored object answers the same: no range, no conditions, no part, no overrides */
function plainGet(ctx: OpContext, head: boolean): boolean {
  if (head || READ_HEADERS.some((h) => header(ctx.headers, h) !== undefined)) return false;
  for (const name of ctx.query.keys()) if (name === 'partNumber' || name.startsWith('response-')) return false;
  return header(ctx.headers, 'x-amz-checksum-mode') === undefined;
}

function sourceFailure(err: unknown, what: string): never {
  if (err instanceof SourceError) throw new S3Error('ServiceUnavailable', `${what}: ${err.message}. Retrying the request is safe.`);
  throw err;
}

function readThrough(shadow: ShadowServices, handler: Handler, head: boolean): Handler {
  return async (ctx) => {
    try {
      return await handler(ctx);
    } catch (err) {
      if (!isNoSuchKey(err) || ctx.query.has('versionId')) throw err;
      const config = await shadowOf(ctx);
      if (!config) throw err;
      const bucket = await ctx.svc.layer.getBucket(ctx.bucket);
      const fill = await shadow.fills.fill(bucket, config, ctx.key, plainGet(ctx, head)).catch((e: unknown) => sourceFailure(e, 'The object is not here and its shadow source failed'));
      if (fill.tap) {
        // the response is already under way: a failed copy is only logged (the next read retries it)
        fill.outcome.catch((e: unknown) => shadow.log?.(`shadow: copying ${ctx.bucket}/${ctx.key} failed: ${(e as Error).message}`));
        return { status: 200, headers: fill.tap.headers, body: fill.tap.body };
      }
      const outcome = await fill.outcome.catch((e: unknown) => sourceFailure(e, 'The object is not here and copying it from the shadow source failed'));
      if (outcome === 'missing') throw err;
      return handler(ctx);
    }
  };
}

/** the source's headers for a version stored here */
function putHeaders(h: Record<string, string | number | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) flat[k] = String(v);
  const out = objectHeadersOf(flat);
  for (const n of ['etag', 'last-modified', 'content-length']) delete out[n];
  return out;
}

async function pushCurrent(ctx: OpContext, config: ShadowConfig, bucket: BucketRecord): Promise<void> {
  const source = new ShadowSource(config);
  // the key's current version (a later write may have replaced the one just made: the source gets the newest)
  const v = await ctx.svc.layer.getObject(bucket.name, ctx.key).catch((err: unknown) => {
    if (isNoSuchKey(err)) return undefined;
    throw err;
  });
  if (!v) return source.delete(ctx.key);
  const body = await openBytes(ctx, v);
  const stream = Buffer.isBuffer(body) ? Readable.from([body]) : body;
  await source.put(ctx.key, stream, v.size, putHeaders(objectResponseHeaders(v)));
}

function writeThrough(name: string, handler: Handler): Handler {
  return async (ctx) => {
    const result = await handler(ctx);
    const config = await shadowOf(ctx);
    if (!config?.writeThrough) return result;
    const bucket = await ctx.svc.layer.getBucket(ctx.bucket);
    const what = `Stored in Erne, but the shadow source did not take the change`;
    try {
      if (WRITES.has(name)) await pushCurrent(ctx, config, bucket);
      else if (name === 'DeleteObject' && !ctx.query.has('versionId')) await new ShadowSource(config).delete(ctx.key);
      else if (name === 'DeleteObjects') for (const key of deletedKeys(result)) await new ShadowSource(config).delete(key);
    } catch (err) {
      sourceFailure(err, what);
    }
    return result;
  };
}

/** keys a (not quiet) DeleteObjects deleted, versions named by id left out */
function deletedKeys(result: OpResult): string[] {
  const deleted = (result.xml?.value['Deleted'] ?? []) as { Key: string; VersionId?: string }[];
  return deleted.filter((d) => d.VersionId === undefined).map((d) => d.Key);
}

/** the handler as a shadow bucket runs it (unchanged for operations shadows do not touch) */
export function shadowed(shadow: ShadowServices | undefined, name: string, handler: Handler): Handler {
  if (!shadow) return handler;
  if (name === 'GetObject') return readThrough(shadow, handler, false);
  if (name === 'HeadObject') return readThrough(shadow, handler, true);
  if (WRITES.has(name) || name === 'DeleteObject' || name === 'DeleteObjects') return writeThrough(name, handler);
  return handler;
}
