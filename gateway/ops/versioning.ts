import type { HandlerTable, OpContext, OpResult } from '../context.js';
import { header } from '../context.js';
import { requireBucketAccess } from '../access.js';
import { S3Error } from '../errors.js';
import { readXmlBody } from '../small-body.js';
import type { XmlDoc } from '../xml-reader.js';
import { listObjectVersions } from './list.js';

/** Put/GetBucketVersioning; ListObjectVersions lives with the other listings in list.ts. */

/** the <VersioningConfiguration> document: Status Enabled|Suspended, MfaDelete Disabled only */
export function parseVersioningXml(body: XmlDoc): 'Enabled' | 'Suspended' | undefined {
  const doc = body['VersioningConfiguration'];
  if (doc === undefined) throw new S3Error('MalformedXML');
  const d = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>) : {};
  const mfa = d['MfaDelete'];
  if (mfa !== undefined && mfa !== 'Disabled') {
    if (mfa === 'Enabled') throw new S3Error('NotImplemented', 'MFA Delete is not supported.');
    throw new S3Error('MalformedXML');
  }
  const status = d['Status'];
  if (status === undefined) return undefined;
  if (status !== 'Enabled' && status !== 'Suspended') throw new S3Error('MalformedXML');
  return status;
}

async function putBucketVersioning(ctx: OpContext): Promise<OpResult> {
  const bucket = await ctx.svc.layer.getBucket(ctx.bucket);
  requireBucketAccess(ctx.auth, bucket);
  if (header(ctx.headers, 'x-amz-mfa') !== undefined) throw new S3Error('NotImplemented', 'MFA Delete is not supported.');
  const status = parseVersioningXml(await readXmlBody(ctx));
  // no Status: nothing changes (an unversioned bucket stays so)
  if (status) await ctx.svc.layer.setBucketVersioning(ctx.bucket, status);
  return {};
}

async function getBucketVersioning(ctx: OpContext): Promise<OpResult> {
  const bucket = await ctx.svc.layer.getBucket(ctx.bucket);
  requireBucketAccess(ctx.auth, bucket);
  const value = bucket.versioning === 'Unversioned' ? {} : { Status: bucket.versioning };
  return { xml: { root: 'VersioningConfiguration', value } };
}

export const versioningHandlers: HandlerTable = {
  PutBucketVersioning: putBucketVersioning,
  GetBucketVersioning: getBucketVersioning,
  ListObjectVersions: listObjectVersions,
};
