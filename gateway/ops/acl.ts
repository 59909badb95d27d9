import type { CannedAcl } from '../../metadata/bucket-config.js';
import type { Handler, HandlerTable, OpContext, OpResult } from '../context.js';
import { header } from '../context.js';
import { bucketAcl, requireBucketAccess } from '../access.js';
import { S3Error } from '../errors.js';
import { readOptionalXmlBody } from '../small-body.js';

/**
 * Canned ACLs `private` and `public-read`, on buckets and on object versions:
 * Put/GetBucketAcl, Put/GetObjectAcl, and x-amz-acl on the requests that create objects.
 * Grants of any other shape are NotImplemented, never silently ignored.
 */

const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
const XSI = 'http://www.w3.org/2001/XMLSchema-instance';
const GRANT_HEADERS = ['x-amz-grant-read', 'x-amz-grant-write', 'x-amz-grant-read-acp', 'x-amz-grant-write-acp', 'x-amz-grant-full-control'];

/** x-amz-acl (and the x-amz-grant-* headers Erne does not offer) → a canned ACL or undefined */
export function cannedAclHeader(ctx: Pick<OpContext, 'headers'>): CannedAcl | undefined {
  for (const g of GRANT_HEADERS) if (header(ctx.headers, g) !== undefined) throw new S3Error('NotImplemented', `The ${g} header is not supported; use a canned ACL (private or public-read).`);
  const acl = header(ctx.headers, 'x-amz-acl');
  if (acl === undefined) return undefined;
  if (acl !== 'private' && acl !== 'public-read') throw new S3Error('NotImplemented', `The canned ACL ${acl} is not supported.`);
  return acl;
}

export function aclPolicyXml(owner: string, acl: CannedAcl): Record<string, unknown> {
  const grants: Record<string, unknown>[] = [
    { Grantee: { '@_xmlns:xsi': XSI, '@_xsi:type': 'CanonicalUser', ID: owner, DisplayName: owner }, Permission: 'FULL_CONTROL' },
  ];
  if (acl === 'public-read') grants.push({ Grantee: { '@_xmlns:xsi': XSI, '@_xsi:type': 'Group', URI: ALL_USERS }, Permission: 'READ' });
  return { Owner: { ID: owner, DisplayName: owner }, AccessControlList: { Grant: grants } };
}

const asList = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** An AccessControlPolicy body that is exactly one of the two canned shapes → that ACL. */
export function parseAclPolicy(doc: Record<string, unknown>): CannedAcl {
  const policy = doc['AccessControlPolicy'] as Record<string, unknown> | undefined;
  const list = policy && typeof policy === 'object' ? (policy['AccessControlList'] as Record<string, unknown> | undefined) : undefined;
  if (!list || typeof list !== 'object') throw new S3Error('MalformedACLError');
  let owner = 0;
  let allUsersRead = 0;
  let other = 0;
  for (const g of asList(list['Grant'])) {
    const grant = (g ?? {}) as Record<string, unknown>;
    const grantee = (grant['Grantee'] ?? {}) as Record<string, unknown>;
    const perm = grant['Permission'];
    if (typeof grantee['ID'] === 'string' && perm === 'FULL_CONTROL') owner++;
    else if (grantee['URI'] === ALL_USERS && perm === 'READ') allUsersRead++;
    else other++;
  }
  if (owner === 1 && other === 0 && allUsersRead <= 1) return allUsersRead ? 'public-read' : 'private';
  throw new S3Error('NotImplemented', 'Only the grants of the canned ACLs private and public-read are supported.');
}

/** the ACL a Put*Acl request asks for: the header or the body, not both */
async function requestedAcl(ctx: OpContext): Promise<CannedAcl> {
  const fromHeader = cannedAclHeader(ctx);
  const body = await readOptionalXmlBody(ctx);
  if (fromHeader !== undefined) {
    if (body) throw new S3Error('InvalidRequest', 'Specify either the x-amz-acl header or an AccessControlPolicy body, not both.');
    return fromHeader;
  }
  if (!body) throw new S3Error('MissingSecurityHeader', 'Your request was missing a required header', { MissingHeaderName: 'x-amz-acl' });
  return parseAclPolicy(body);
}

async function putBucketAcl(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.svc.layer.getBucket(ctx.bucket);
  requireBucketAccess(ctx.auth, b);
  await ctx.svc.configs.put(ctx.bucket, 'acl', await requestedAcl(ctx));
  return {};
}

async function getBucketAcl(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.svc.layer.getBucket(ctx.bucket);
  requireBucketAccess(ctx.auth, b);
  return { xml: { root: 'AccessControlPolicy', value: aclPolicyXml(b.owner, await bucketAcl(ctx.svc, b)) } };
}

async function objectVersion(ctx: OpContext) {
  const b = await ctx.svc.layer.getBucket(ctx.bucket);
  requireBucketAccess(ctx.auth, b);
  const versionId = ctx.query.get('versionId') ?? undefined;
  const v = await ctx.svc.layer.getObject(ctx.bucket, ctx.key, versionId === 'null' ? undefined : versionId);
  const headers = b.versioning === 'Unversioned' ? {} : { 'x-amz-version-id': v.versionId };
  return { v, headers };
}

/**
 * Stores a version's ACL. The write checks, in its own transaction, that the version still
 * exists; deleting a version for good removes its ACL record in the same transaction
 * (metadata/version-store.ts), so no record outlives its version.
 */
async function setVersionAcl(ctx: OpContext, versionId: string, acl: CannedAcl): Promise<void> {
  await ctx.svc.configs.putObjectAcl(ctx.bucket, ctx.key, versionId, acl);
}

async function putObjectAcl(ctx: OpContext): Promise<OpResult> {
  const { v, headers } = await objectVersion(ctx);
  await setVersionAcl(ctx, v.versionId, await requestedAcl(ctx));
  return { headers };
}

async function getObjectAcl(ctx: OpContext): Promise<OpResult> {
  const { v, headers } = await objectVersion(ctx);
  const acl = (await ctx.svc.configs.getObjectAcl(ctx.bucket, ctx.key, v.versionId)) ?? 'private';
  return { headers, xml: { root: 'AccessControlPolicy', value: aclPolicyXml(v.owner, acl) } };
}

export const aclHandlers: HandlerTable = {
  PutBucketAcl: putBucketAcl,
  GetBucketAcl: getBucketAcl,
  PutObjectAcl: putObjectAcl,
  GetObjectAcl: getObjectAcl,
};

const uploadAclKind = (uploadId: string) => `upload-acl/${uploadId}`;

/** the version a successful object write created: from its response, else the current one */
async function writtenVersionId(ctx: OpContext, result: OpResult): Promise<string | undefined> {
  const fromHeader = result.headers?.['x-amz-version-id'];
  if (typeof fromHeader === 'string' && fromHeader !== 'null') return fromHeader;
  const v = await ctx.svc.layer.getObject(ctx.bucket, ctx.key).catch(() => undefined);
  return v?.versionId;
}

/**
 * x-amz-acl on PutObject, CopyObject and multipart uploads: checked before the handler
 * (unsupported ACLs are NotImplemented before any byte is read), applied to the version
 * the handler wrote. An upload's ACL waits under the bucket's configuration until completion.
 */
export function withCannedAcl(opName: string, handler: Handler | undefined): Handler | undefined {
  if (!handler) return handler;
  switch (opName) {
    case 'PutObject':
    case 'CopyObject':
      return async (ctx) => {
        const acl = cannedAclHeader(ctx);
        const result = await handler(ctx);
        if (acl === 'public-read') {
          const vid = await writtenVersionId(ctx, result);
          if (vid) await setVersionAcl(ctx, vid, acl);
        }
        return result;
      };
    case 'CreateMultipartUpload':
      return async (ctx) => {
        const acl = cannedAclHeader(ctx);
        const result = await handler(ctx);
        const uploadId = result.xml?.value['UploadId'];
        if (acl === 'public-read' && typeof uploadId === 'string') await ctx.svc.configs.put(ctx.bucket, uploadAclKind(uploadId), acl);
        return result;
      };
    case 'CompleteMultipartUpload':
      return async (ctx) => {
        const uploadId = ctx.query.get('uploadId') ?? '';
        const acl = await ctx.svc.configs.get<CannedAcl>(ctx.bucket, uploadAclKind(uploadId));
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
