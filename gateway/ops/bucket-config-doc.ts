import type { HandlerTable, OpContext, OpResult } from '../context.js';
import { requireBucketAccess } from '../access.js';
import { S3Error, type S3ErrorCode } from '../errors.js';
import { readXmlBody } from '../small-body.js';

/**
 * A bucket configuration kept as one document in the bucket-config store (CORS, lifecycle,
 * tags): its Put, Get and Delete operations are the same three steps whatever the document.
 */
export interface ConfigDocument<T> {
  /** the store's kind for this document */
  kind: string;
  /** S3 names of the Put, Get and Delete operations */
  operations: [put: string, get: string, del: string];
  /** the request's parsed XML → the value to keep; undefined means "remove it" */
  parse(doc: Record<string, unknown>): T | undefined;
  /** the value → the XML answer of Get */
  render(value: T): { root: string; value: Record<string, unknown> };
  /** Get's error when the bucket has none */
  missing: S3ErrorCode;
  /** Put's status (S3 answers 200 for most, 204 for some) */
  putStatus?: number;
}

async function ownedBucket(ctx: OpContext): Promise<void> {
  requireBucketAccess(ctx.auth, await ctx.svc.layer.getBucket(ctx.bucket));
}

export function configDocumentHandlers<T>(d: ConfigDocument<T>): HandlerTable {
  const [putName, getName, deleteName] = d.operations;
  return {
    async [putName](ctx: OpContext): Promise<OpResult> {
      await ownedBucket(ctx);
      const value = d.parse(await readXmlBody(ctx));
      if (value === undefined) await ctx.svc.configs.delete(ctx.bucket, d.kind);
      else await ctx.svc.configs.put(ctx.bucket, d.kind, value);
      return d.putStatus ? { status: d.putStatus } : {};
    },
    async [getName](ctx: OpContext): Promise<OpResult> {
      await ownedBucket(ctx);
      const value = await ctx.svc.configs.get<T>(ctx.bucket, d.kind);
      if (!value) throw new S3Error(d.missing, undefined, { BucketName: ctx.bucket });
      return { xml: d.render(value) };
    },
    async [deleteName](ctx: OpContext): Promise<OpResult> {
      await ownedBucket(ctx);
      await ctx.svc.configs.delete(ctx.bucket, d.kind);
      return { status: 204 };
    },
  };
}
