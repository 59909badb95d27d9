import type { HandlerTable, OpContext, OpResult } from '../context.js';
import { requireBucketAccess } from '../access.js';
import { S3Error } from '../errors.js';
import { readSmallBody } from '../small-body.js';
import { configDocumentHandlers } from './bucket-config-doc.js';
import { isPublicPolicy } from '../policy/evaluate.js';
import { loadPolicy, loadPublicAccessBlock, PAB_KIND, POLICY_KIND } from '../policy/gate.js';
import { namedKeys, parsePolicy } from '../policy/parse.js';
import { parsePublicAccessBlock, publicAccessBlockXml, type PublicAccessBlock } from '../policy/public-access.js';
import { PolicyError } from '../policy/types.js';

/**
 * Put/Get/DeleteBucketPolicy, GetBucketPolicyStatus and Put/Get/DeletePublicAccessBlock.
 * The policy is kept as the text the client sent (GetBucketPolicy returns it) and parsed
 * where it is enforced (gateway/policy/gate.ts).
 */

/** a policy is at most 20 KB without whitespace; a body this large is refused unread */
const MAX_POLICY_BODY_BYTES = 64 * 1024;

async function bucketOf(ctx: OpContext) {
  const b = await ctx.svc.layer.getBucket(ctx.bucket);
  requireBucketAccess(ctx.auth, b);
  return b;
}

async function putBucketPolicy(ctx: OpContext): Promise<OpResult> {
  await bucketOf(ctx);
  const text = (await readSmallBody(ctx, MAX_POLICY_BODY_BYTES)).toString('utf8');
  let policy;
  try {
    policy = parsePolicy(text, ctx.bucket);
  } catch (err) {
    if (err instanceof PolicyError) throw new S3Error('MalformedPolicy', err.message);
    throw err;
  }
  for (const id of namedKeys(policy)) {
    if (!(await ctx.svc.layer.getAccessKey(id))) throw new S3Error('MalformedPolicy', `Invalid principal in policy: no access key ${id}`);
  }
  if ((await loadPublicAccessBlock(ctx.svc, ctx.bucket))?.BlockPublicPolicy === true && isPublicPolicy(policy)) {
    throw new S3Error('AccessDenied', 'Access Denied: the bucket blocks public policies (PublicAccessBlock BlockPublicPolicy).');
  }
  await ctx.svc.configs.put(ctx.bucket, POLICY_KIND, text);
  return { status: 204 };
}

async function getBucketPolicy(ctx: OpContext): Promise<OpResult> {
  await bucketOf(ctx);
  const text = await ctx.svc.configs.get<string>(ctx.bucket, POLICY_KIND);
  if (text === undefined) throw new S3Error('NoSuchBucketPolicy', undefined, { BucketName: ctx.bucket });
  return { headers: { 'content-type': 'application/json' }, body: text };
}

async function deleteBucketPolicy(ctx: OpContext): Promise<OpResult> {
  await bucketOf(ctx);
  await ctx.svc.configs.delete(ctx.bucket, POLICY_KIND);
  return { status: 204 };
}

async function getBucketPolicyStatus(ctx: OpContext): Promise<OpResult> {
  await bucketOf(ctx);
  const policy = await loadPolicy(ctx.svc, ctx.bucket);
  if (!policy) throw new S3Error('NoSuchBucketPolicy', undefined, { BucketName: ctx.bucket });
  return { xml: { root: 'PolicyStatus', value: { IsPublic: isPublicPolicy(policy) } } };
}

export const bucketPolicyHandlers: HandlerTable = {
  PutBucketPolicy: putBucketPolicy,
  GetBucketPolicy: getBucketPolicy,
  DeleteBucketPolicy: deleteBucketPolicy,
  GetBucketPolicyStatus: getBucketPolicyStatus,
  ...configDocumentHandlers<PublicAccessBlock>({
    kind: PAB_KIND,
    operations: ['PutPublicAccessBlock', 'GetPublicAccessBlock', 'DeletePublicAccessBlock'],
    parse: parsePublicAccessBlock,
    render: (p) => ({ root: 'PublicAccessBlockConfiguration', value: publicAccessBlockXml(p) }),
    missing: 'NoSuchPublicAccessBlockConfiguration',
  }),
};
