import type { AccessKeyRecord } from '../../metadata/types.js';
import type { AccessRequest } from '../access.js';
import type { AuthContext } from '../auth/types.js';
import type { Services } from '../context.js';
import { S3Error } from '../errors.js';
import { operationAction } from './actions.js';
import { requestContext } from './context.js';
import { evaluate, isPublicPolicy, resourceArn } from './evaluate.js';
import { parsePolicy } from './parse.js';
import { requestsPublicAcl, type PublicAccessBlock } from './public-access.js';
import type { Policy, Verdict } from './types.js';

/**
 * Where bucket policies and the public access block meet a request: reading them from the
 * bucket-config store, and the verdict `authorize` (gateway/access.ts) combines with ACLs
 * and roles. Everything decided here is decided by the pure modules beside it.
 */

export const POLICY_KIND = 'policy';
export const PAB_KIND = 'publicAccessBlock';

/** the last policy parsed per bucket, with its text: a policy is parsed once, not on every request */
const parsed = new Map<string, { text: string; policy: Policy }>();
const PARSED_MAX = 256;

export async function loadPolicy(svc: Services, bucket: string): Promise<Policy | undefined> {
  const text = await svc.configs.get<string>(bucket, POLICY_KIND);
  if (text === undefined) return undefined;
  const hit = parsed.get(bucket);
  if (hit?.text === text) return hit.policy;
  const policy = parsePolicy(text, bucket);
  parsed.delete(bucket);
  if (parsed.size >= PARSED_MAX) parsed.delete(parsed.keys().next().value!);
  parsed.set(bucket, { text, policy });
  return policy;
}

export async function loadPublicAccessBlock(svc: Services, bucket: string): Promise<PublicAccessBlock | undefined> {
  return svc.configs.get<PublicAccessBlock>(bucket, PAB_KIND);
}

/** IgnorePublicAcls: the bucket's and its objects' public grants count for nothing */
export async function publicAclsIgnored(svc: Services, bucket: string): Promise<boolean> {
  return (await loadPublicAccessBlock(svc, bucket))?.IgnorePublicAcls === true;
}

/** BlockPublicAcls: a request that would set a public ACL is refused (403 AccessDenied) */
export async function refusePublicAcl(svc: Services, bucket: string): Promise<void> {
  if ((await loadPublicAccessBlock(svc, bucket))?.BlockPublicAcls === true) throw new S3Error('AccessDenied', 'Access Denied: the bucket blocks public ACLs (PublicAccessBlock BlockPublicAcls).');
}

/** the account root of S3 can always read, replace and delete a bucket's policy; Erne's root keys too */
const ROOT_ALWAYS = new Set(['GetBucketPolicy', 'PutBucketPolicy', 'DeleteBucketPolicy']);
/** operations that write an object and may set its ACL while doing so */
const WRITES_WITH_ACL = new Set(['PutObject', 'CopyObject', 'CreateMultipartUpload', 'PostObject']);
/** operations that may set an ACL with x-amz-acl / x-amz-grant-* (a form's `acl` field counts) */
const ACL_SETTERS = new Set(['PutObject', 'CopyObject', 'CreateMultipartUpload', 'PutObjectAcl', 'PutBucketAcl', 'PostObject']);

export interface CopySourceRef {
  bucket: string;
  key: string;
  versionId?: string;
}

/** what the bucket policies allow of this request (an explicit Deny has thrown instead) */
export interface PolicyGrant {
  /** the request's own bucket and key */
  request: boolean;
  /** the copy source of CopyObject / UploadPartCopy */
  source: boolean;
}

interface Asked {
  op: string;
  bucket: string;
  key?: string;
  versioned: boolean;
}

function contextOf(auth: AuthContext, r: AccessRequest) {
  return requestContext({
    op: r.op, query: r.query, headers: r.headers, sourceIp: r.sourceIp, secure: r.secure === true,
    signed: auth.accessKeyId !== null, presigned: auth.presigned, now: Date.now(),
  });
}

async function verdictFor(svc: Services, auth: AuthContext, key: AccessKeyRecord | undefined, r: AccessRequest, asked: Asked): Promise<Verdict> {
  const needed = operationAction(asked.op, asked.versioned);
  // DeleteObjects names its keys in the body: judged key by key (deniedKeys)
  if (!needed || (needed.kind === 'object' && !asked.key)) return 'None';
  const policy = await loadPolicy(svc, asked.bucket);
  if (!policy) return 'None';
  const base = { accessKeyId: auth.accessKeyId, resource: resourceArn(asked.bucket, needed.kind === 'object' ? asked.key : undefined), context: contextOf(auth, r) };
  let verdict = evaluate(policy, { ...base, action: needed.action });
  // setting a public or granted ACL while writing needs s3:PutObjectAcl as well
  if (verdict !== 'Deny' && WRITES_WITH_ACL.has(asked.op) && aclHeaderSet(r)) {
    const acl = evaluate(policy, { ...base, action: 's3:PutObjectAcl' });
    verdict = acl === 'Deny' ? 'Deny' : verdict === 'Allow' && acl === 'Allow' ? 'Allow' : 'None';
  }
  if (verdict === 'Allow' && !(await allowCounts(svc, auth, key, asked.bucket, policy))) return 'None';
  return verdict;
}

function aclHeaderSet(r: AccessRequest): boolean {
  const acl = r.headers['x-amz-acl'];
  return (acl !== undefined && acl !== 'private') || Object.keys(r.headers).some((h) => h.startsWith('x-amz-grant-'));
}

/** RestrictPublicBuckets: a public policy allows nothing to anonymous callers and keys outside the bucket */
async function allowCounts(svc: Services, auth: AuthContext, key: AccessKeyRecord | undefined, bucket: string, policy: Policy): Promise<boolean> {
  if (auth.root || !isPublicPolicy(policy)) return true;
  if ((await loadPublicAccessBlock(svc, bucket))?.RestrictPublicBuckets !== true) return true;
  if (auth.accessKeyId === null) return false;
  if (key?.grants?.[bucket] !== undefined && Object.hasOwn(key.grants, bucket)) return true;
  return (await svc.layer.getBucket(bucket)).owner === auth.accessKeyId;
}

/**
 * The bucket policy's word on a request, before ACLs and roles: throws AccessDenied on an
 * explicit Deny (of the request, or of reading its copy source) and when a public ACL is
 * asked for on a bucket that blocks them; otherwise says what the policies allow.
 */
export async function checkBucketPolicies(
  svc: Services,
  auth: AuthContext,
  key: AccessKeyRecord | undefined,
  r: AccessRequest,
  source?: CopySourceRef,
): Promise<PolicyGrant> {
  if (!r.bucket) return { request: false, source: false };
  if (ACL_SETTERS.has(r.op) && requestsPublicAcl(r.headers)) await refusePublicAcl(svc, r.bucket);
  if (auth.root && ROOT_ALWAYS.has(r.op)) return { request: false, source: false };
  const versioned = r.query.get('versionId') !== null;
  const request = await verdictFor(svc, auth, key, r, { op: r.op, bucket: r.bucket, key: r.key, versioned });
  const src = source ? await verdictFor(svc, auth, key, r, { op: 'GetObject', bucket: source.bucket, key: source.key, versioned: source.versionId !== undefined }) : 'None';
  if (request === 'Deny' || src === 'Deny') throw new S3Error('AccessDenied');
  return { request: request === 'Allow', source: src === 'Allow' };
}

/**
 * DeleteObjects: which of its keys the bucket policy explicitly denies deleting (each is
 * judged as a DeleteObject of that key; S3 reports them as AccessDenied in the result).
 */
export async function deniedDeletes(svc: Services, auth: AuthContext, r: AccessRequest & { bucket: string }, items: readonly { key: string; versionId?: string }[]): Promise<boolean[]> {
  const policy = await loadPolicy(svc, r.bucket);
  if (!policy) return items.map(() => false);
  const context = contextOf(auth, r);
  return items.map((it) => {
    const action = operationAction('DeleteObject', it.versionId !== undefined)!.action;
    return evaluate(policy, { accessKeyId: auth.accessKeyId, action, resource: resourceArn(r.bucket, it.key), context }) === 'Deny';
  });
}
