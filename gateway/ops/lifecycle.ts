import type { LifecycleRule } from '../../metadata/lifecycle-rules.js';
import { LIFECYCLE_CONFIG_KIND as LIFECYCLE_KIND } from '../../metadata/lifecycle-runner.js';
import type { HandlerTable, OpContext, OpResult } from '../context.js';
import { requireBucketAccess } from '../access.js';
import { S3Error } from '../errors.js';
import { lifecycleConfigurationXml, parseLifecycleConfiguration } from '../lifecycle-xml.js';
import { readSmallBody } from '../small-body.js';
import { parseXml } from '../xml.js';

/** Put/Get/DeleteBucketLifecycle(Configuration); the rules are applied by metadata/lifecycle-runner.ts. */


async function putLifecycle(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.svc.layer.getBucket(ctx.bucket);
  requireBucketAccess(ctx.auth, b);
  const rules = parseLifecycleConfiguration(parseXml((await readSmallBody(ctx)).toString('utf8')));
  await ctx.svc.configs.put(ctx.bucket, LIFECYCLE_KIND, rules);
  return {};
}

async function getLifecycle(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.svc.layer.getBucket(ctx.bucket);
  requireBucketAccess(ctx.auth, b);
  const rules = await ctx.svc.configs.get<LifecycleRule[]>(ctx.bucket, LIFECYCLE_KIND);
  if (!rules) throw new S3Error('NoSuchLifecycleConfiguration', undefined, { BucketName: ctx.bucket });
  return { xml: { root: 'LifecycleConfiguration', value: lifecycleConfigurationXml(rules) } };
}

async function deleteLifecycle(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.svc.layer.getBucket(ctx.bucket);
  requireBucketAccess(ctx.auth, b);
  await ctx.svc.configs.delete(ctx.bucket, LIFECYCLE_KIND);
  return { status: 204 };
}

export const lifecycleHandlers: HandlerTable = {
  PutBucketLifecycleConfiguration: putLifecycle,
  GetBucketLifecycleConfiguration: getLifecycle,
  DeleteBucketLifecycle: deleteLifecycle,
};
