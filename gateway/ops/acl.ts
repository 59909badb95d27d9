import { expandAcl, type StoredAcl } from '../../metadata/acl.js';
import { uploadAclKind } from '../../metadata/bucket-config.js';
import type { Handler, HandlerTable, OpContext, OpResult } from '../context.js';
import { bucketAcl, requireBucketAccess } from '../access.js';
import { aclFromHeaders, aclFromPolicy, keyResolver, type AclTarget } from '../acl/parse.js';
import { ownerNames } from '../acl/owners.js';
import { aclPolicyXml } from '../acl/render.js';
import { S3Error } from '../errors.js';
import { readOptionalXmlBody } from '../small-body.js';
import { s3VersionId } from '../../metadata/version-order.js';
import { versionIdParam } from './version-param.js';
import { refusePublicAcl } from '../policy/gate.js';

/**
 * ACLs on buckets and on object versions: Put/GetBucketAcl, Put/GetObjectAcl, and the ACL
 * headers of the requests that create buckets and objects. Parsing lives in gateway/acl/,
 * what a grant allows in gateway/access.ts.
 */

/** the ACL a Put*Acl request asks for; a public one is refused on a bucket that blocks them */
async function requestedAcl(ctx: OpContext, target: AclTarget): Promise<StoredAcl> {
  const acl = await askedAcl(ctx, target);
  // PublicAccessBlock BlockPublicAcls (a public header was refused before the body was read)
  if (isPublicAcl(acl)) await refusePublicAcl(ctx.svc, ctx.bucket);
  return acl;
}

const PUBLIC_CANNED: ReadonlySet<string> = new Set(['public-read', 'public-read-write', 'authenticated-read']);

/** grants something to AllUsers or AuthenticatedUsers (what S3 counts as public) */
function isPublicAcl(acl: StoredAcl): boolean {
  if (typeof acl === 'string') return PUBLIC_CANNED.has(acl);
  return acl.grants.some((g) => g.grantee.kind === 'AllUsers' || g.grantee.kind === 'AuthenticatedUsers');
}

/** the ACL a Put*Acl request asks for: the headers or the body, not both */
async function askedAcl(ctx: OpContext, target: AclTarget): Promise<StoredAcl> {
  const resolve = keyResolver(ctx.svc);
  const fromHeaders = await aclFromHeaders(ctx.headers, target, resolve);
  const body = await readOptionalXmlBody(ctx);
  if (fromHeaders !== undefined) {
    if (body) throw new S3Error('InvalidRequest', 'Specify either ACL headers or an AccessControlPolicy body, not both.');
    return fromHeaders;
  }
  if (!body) throw new S3Error('MissingSecurityHeader', 'Your request was missing a required header', { MissingHeaderName: 'x-amz-acl' });
  return aclFromPolicy(body, resolve);
}

async function putBucketAcl(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.svc.layer.getBucket(ctx.bucket);
  requireBucketAccess(ctx.auth, b);
  await ctx.svc.configs.put(ctx.bucket, 'acl', await requestedAcl(ctx, 'bucket'));
  return {};
}

async function getBucketAcl(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.svc.layer.getBucket(ctx.bucket);
  requireBucketAccess(ctx.auth, b);
  const grants = expandAcl(await bucketAcl(ctx.svc, b), b.owner, b.owner);
  return { xml: { root: 'AccessControlPolicy', value: await aclPolicyXml(b.owner, grants, ownerNames(ctx.svc)) } };
}

async function objectVersion(ctx: OpContext) {
  const b = await ctx.svc.layer.getBucket(ctx.bucket);
  requireBucketAccess(ctx.auth, b);
  // 'null' names the null version (the layer resolves it), never the current one
  const v = await ctx.svc.layer.getObject(ctx.bucket, ctx.key, versionIdParam(ctx.query));
  const headers = b.versioning === 'Unversioned' ? {} : { 'x-amz-version-id': s3VersionId(v) };
  return { b, v, headers };
}

/**
 * Stores a version's ACL. The write checks, in its own transaction, that the version still
 * exists; deleting a version for good removes its ACL record in the same transaction
 * (metadata/version-store.ts), so no record outlives its version.
 */
async function setVersionAcl(ctx: OpContext, versionId: string, acl: StoredAcl): Promise<void> {
  await ctx.svc.configs.putObjectAcl(ctx.bucket, ctx.key, versionId, acl);
}

async function putObjectAcl(ctx: OpContext): Promise<OpResult> {
  const { v, headers } = await objectVersion(ctx);
  await setVersionAcl(ctx, v.versionId, await requestedAcl(ctx, 'object'));
  return { headers };
}

async function getObjectAcl(ctx: OpContext): Promise<OpResult> {
  const { b, v, headers } = await objectVersion(ctx);
  const acl = (await ctx.svc.configs.getObjectAcl(ctx.bucket, ctx.key, v.versionId)) ?? 'private';
  const grants = expandAcl(acl, v.owner, b.owner);
  return { headers, xml: { root: 'AccessControlPolicy', value: await aclPolicyXml(v.owner, grants, ownerNames(ctx.svc)) } };
}

export const aclHandlers: HandlerTable = {
  PutBucketAcl: putBucketAcl,
  GetBucketAcl: getBucketAcl,
  PutObjectAcl: putObjectAcl,
  GetObjectAcl: getObjectAcl,
};

/** the version a successful object write created: from its response, else the current one */
async function writtenVersionId(ctx: OpContext, result: OpResult): Promise<string | undefined> {
  const fromHeader = result.headers?.['x-amz-version-id'];
  if (typeof fromHeader === 'string' && fromHeader !== 'null') return fromHeader;
  const v = await ctx.svc.layer.getObject(ctx.bucket, ctx.key).catch(() => undefined);
  return v?.versionId;
}

/** an ACL worth a record: anything but private, which is what no record means */
const worthStoring = (acl: StoredAcl | undefined): acl is StoredAcl => acl !== undefined && acl !== 'private';

/**
 * x-amz-acl and x-amz-grant-* on CreateBucket, PutObject, CopyObject and multipart uploads:
 * read before the handler (unsupported ACLs and unknown grantees are refused before any byte
 * is read), applied to what the handler made. An upload's ACL waits under the bucket's
 * configuration until completion. A bucket's canned ACL is its record's; grants are stored
 * as its ACL document.
 */
export function withCannedAcl(opName: string, handler: Handler | undefined): Handler | undefined {
  if (!handler) return handler;
  switch (opName) {
    case 'CreateBucket':
      return async (ctx) => {
        const acl = await aclFromHeaders(ctx.headers, 'bucket', keyResolver(ctx.svc));
        const result = await handler(ctx);
        if (acl !== undefined && typeof acl !== 'string') await ctx.svc.configs.put(ctx.bucket, 'acl', acl);
        return result;
      };
    case 'PutObject':
    case 'CopyObject':
      return async (ctx) => {
        const acl = await aclFromHeaders(ctx.headers, 'object', keyResolver(ctx.svc));
        const result = await handler(ctx);
        if (worthStoring(acl)) {
          const vid = await writtenVersionId(ctx, result);
          if (vid) await setVersionAcl(ctx, vid, acl);
        }
        return result;
      };
    case 'CreateMultipartUpload':
      return async (ctx) => {
        const acl = await aclFromHeaders(ctx.headers, 'object', keyResolver(ctx.svc));
        const result = await handler(ctx);
        const uploadId = result.xml?.value['UploadId'];
        if (worthStoring(acl) && typeof uploadId === 'string') await ctx.svc.configs.put(ctx.bucket, uploadAclKind(uploadId), acl);
        return result;
      };
    case 'CompleteMultipartUpload':
      return async (ctx) => {
        const uploadId = ctx.query.get('uploadId') ?? '';
        const acl = await ctx.svc.configs.get<StoredAcl>(ctx.bucket, uploadAclKind(uploadId));
        const result = await handler(ctx);
        if (acl && (result.status ?? 200) === 200) {
          const vid = await writtenVersionId(ctx, result);
          if (vid) await setVersionAcl(ctx, vid, acl);
          await ctx.svc.configs.delete(ctx.bucket, uploadAclKind(uploadId));
        }
        return result;
      };
    default:
      return handler;
  }
}
