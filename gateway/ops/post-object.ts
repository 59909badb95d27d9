import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import type { HandlerTable, OpContext, OpResult } from '../context.js';
import { header } from '../context.js';
import { hasGrant, mayAccessBucket } from '../access.js';
import { isV2Form, verifyV2Form } from '../auth/v2-post.js';
import { S3Error } from '../errors.js';
import { formBoundary, readPostForm } from '../post-form.js';
import { checkPolicy, parsePolicy, policySignature, signaturesEqual } from '../post-policy.js';
import { checkKey, MAX_SINGLE_PUT_BYTES, MAX_USER_METADATA_BYTES, headerSafe } from '../validate.js';
import type { BodyLocation, ObjectHeaders } from '../../metadata/types.js';
import { cannedAcl } from '../acl/parse.js';
import { connectionOf } from '../policy/context.js';
import { checkBucketPolicies } from '../policy/gate.js';

/**
 * PostObject: a browser form upload to the bucket (multipart/form-data). The form's fields
 * come first and are checked against the signed policy (SigV4, or SigV2 in gateway/auth/v2-post.ts)
 * before the file, which is the last field, streams to the volume with its size checked on the way.
 */

const MAX_FORM_FIELD_BYTES = 64 * 1024;
const CREDENTIAL = /^([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request$/;

function need(fields: Map<string, string>, name: string): string {
  const v = fields.get(name);
  if (v === undefined) throw new S3Error('InvalidArgument', `Bucket POST must contain a field named '${name}'.`, { ArgumentName: name });
  return v;
}

/** who signed the policy, after checking the signature (throws otherwise) */
async function verifyForm(ctx: OpContext, fields: Map<string, string>): Promise<{ accessKeyId: string; root: boolean }> {
  if (!fields.has('policy') && !fields.has('x-amz-signature')) {
    throw new S3Error('AccessDenied', 'Anonymous POST uploads are not allowed; the form needs a signed policy.');
  }
  if (isV2Form(fields)) return verifyV2Form(fields, (id) => ctx.svc.layer.getAccessKey(id), ctx.svc.sigv2 !== false);
  const policy = need(fields, 'policy');
  if (need(fields, 'x-amz-algorithm') !== 'AWS4-HMAC-SHA256') throw new S3Error('InvalidArgument', 'Only AWS4-HMAC-SHA256 is supported.', { ArgumentName: 'x-amz-algorithm' });
  const cred = CREDENTIAL.exec(need(fields, 'x-amz-credential'));
  if (!cred) throw new S3Error('InvalidArgument', 'The x-amz-credential field is malformed.', { ArgumentName: 'x-amz-credential' });
  const [, accessKeyId, date, region] = cred as unknown as [string, string, string, string];
  if (!need(fields, 'x-amz-date').startsWith(date)) throw new S3Error('InvalidArgument', 'The date of x-amz-credential is not the date of x-amz-date.', { ArgumentName: 'x-amz-date' });
  const key = await ctx.svc.layer.getAccessKey(accessKeyId);
  if (!key) throw new S3Error('InvalidAccessKeyId', undefined, { AWSAccessKeyId: accessKeyId });
  const signature = need(fields, 'x-amz-signature').toLowerCase();
  if (!signaturesEqual(signature, policySignature(policy, key.secretAccessKey, date, region))) throw new S3Error('SignatureDoesNotMatch');
  return { accessKeyId, root: key.root };
}

/** counts and hashes the file as it streams, enforcing the policy's maximum */
function measure(max: number): { stream: Transform; result: () => { size: number; md5Hex: string } } {
  const md5 = createHash('md5');
  let size = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback) {
      size += chunk.length;
      if (size > max) return cb(new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', { MaxSizeAllowed: max }));
      md5.update(chunk);
      cb(null, chunk);
    },
  });
  return { stream, result: () => ({ size, md5Hex: md5.digest('hex') }) };
}

/**
 * The object's headers and metadata, from form fields only: checkPolicy has refused any field
 * the policy does not cover. The file part's own Content-Type is the uploader's to choose, so
 * it never sets the object's (an upload form would serve text/html: stored XSS).
 */
function formHeaders(fields: Map<string, string>): { headers: ObjectHeaders; meta: Record<string, string> } {
  const headers: ObjectHeaders = { contentType: headerSafe('content-type', fields.get('content-type') ?? 'binary/octet-stream') };
  const map: [string, keyof ObjectHeaders][] = [['cache-control', 'cacheControl'], ['content-disposition', 'contentDisposition'], ['content-encoding', 'contentEncoding'], ['expires', 'expires'], ['content-language', 'contentLanguage']];
  for (const [field, name] of map) {
    const v = fields.get(field);
    if (v !== undefined) headers[name] = headerSafe(field, v);
  }
  const meta: Record<string, string> = {};
  let bytes = 0;
  for (const [name, v] of fields) {
    if (!name.startsWith('x-amz-meta-')) continue;
    // stored values come back as response headers (a form field may hold CR/LF)
    meta[name.slice('x-amz-meta-'.length)] = headerSafe(name, v);
    bytes += name.length - 'x-amz-meta-'.length + Buffer.byteLength(v);
  }
  if (bytes > MAX_USER_METADATA_BYTES) throw new S3Error('MetadataTooLarge');
  return { headers, meta };
}

function successResponse(ctx: OpContext, fields: Map<string, string>, key: string, etag: string, extra: Record<string, string>): OpResult {
  const location = `/${ctx.bucket}/${encodeURIComponent(key).replace(/%2F/g, '/')}`;
  const headers = { etag: `"${etag}"`, location, ...extra };
  const redirect = fields.get('success_action_redirect') ?? fields.get('redirect');
  if (redirect) {
    try {
      const url = new URL(redirect);
      url.searchParams.set('bucket', ctx.bucket);
      url.searchParams.set('key', key);
      url.searchParams.set('etag', `"${etag}"`);
      return { status: 303, headers: { ...headers, location: url.toString() } };
    } catch {
      // S3 ignores a redirect that is not a URL and answers with the status instead
    }
  }
  const status = fields.get('success_action_status');
  if (status === '201') {
    return { status: 201, headers, xml: { root: 'PostResponse', value: { Location: location, Bucket: ctx.bucket, Key: key, ETag: `"${etag}"` } } };
  }
  return { status: status === '200' ? 200 : 204, headers };
}

async function postObject(ctx: OpContext): Promise<OpResult> {
  const boundary = formBoundary(header(ctx.headers, 'content-type'));
  if (!boundary) throw new S3Error('PreconditionFailed', 'Bucket POST must be of the enclosure-type multipart/form-data', { Condition: 'Bucket POST must be of the enclosure-type-multipart/form-data' });
  const bucket = await ctx.svc.layer.getBucket(ctx.bucket);
  const form = await readPostForm(ctx.req, boundary, { maxFieldBytes: MAX_FORM_FIELD_BYTES });
  const { fields, file } = form;
  try {
    const signer = await verifyForm(ctx, fields);
    const rawKey = need(fields, 'key');
    const key = rawKey.replaceAll('${filename}', file.filename.split(/[\\/]/).pop() ?? '');
    if (key === '') throw new S3Error('InvalidArgument', 'User key must have a length greater than 0.', { ArgumentName: 'key' });
    checkKey(key);
    // the form's signer is the caller: the bucket policy and public access block judge it as they would a PUT
    const signerAuth = { accessKeyId: signer.accessKeyId, root: signer.root, payload: { kind: 'none' as const }, presigned: false };
    // a scoped key goes nowhere but its own buckets, whatever a policy allows (access.ts)
    const signerKey = signer.root ? undefined : await ctx.svc.layer.getAccessKey(signer.accessKeyId);
    if (signerKey?.scoped && !hasGrant(signerKey, ctx.bucket)) throw new S3Error('AccessDenied');
    const policy = await checkBucketPolicies(ctx.svc, signerAuth, undefined, {
      op: 'PostObject', bucket: ctx.bucket, key, query: ctx.query, headers: { 'x-amz-acl': fields.get('acl') },
      ...connectionOf(ctx.req.socket),
    });
    if (!policy.request && !mayAccessBucket(signerAuth, bucket)) throw new S3Error('AccessDenied');
    const checked = new Map(fields);
    checked.set('bucket', ctx.bucket);
    checked.set('key', key);
    const range = checkPolicy(parsePolicy(fields.get('policy')!), checked, Date.now());
    const acl = cannedAcl({ 'x-amz-acl': fields.get('acl') }, 'object');
    const { headers, meta } = formHeaders(fields);

    const counter = measure(Math.min(range.max, MAX_SINGLE_PUT_BYTES));
    file.stream.on('error', (err) => counter.stream.destroy(err));
    const stored = await ctx.svc.blobs.ingest(file.stream.pipe(counter.stream), { maxSize: MAX_SINGLE_PUT_BYTES });
    await form.done;
    const { size, md5Hex } = counter.result();
    const body: BodyLocation = stored.inline ? { kind: 'inline', data: stored.inline } : { kind: 'blob', blobId: stored.blobId!, node: ctx.svc.blobs.nodeId };
    let version;
    try {
      if (size < range.min) throw new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size', { ProposedSize: size, MinSizeAllowed: range.min });
      version = await ctx.svc.layer.putObject({ bucket: ctx.bucket, key, size, etag: md5Hex, owner: signer.accessKeyId, headers, userMetadata: meta, checksums: {}, body });
    } catch (err) {
      if (stored.blobId) await ctx.svc.blobs.delete(stored.blobId).catch(() => undefined);
      throw err;
    }
    if (acl !== undefined && acl !== 'private') await ctx.svc.configs.putObjectAcl(ctx.bucket, key, version.versionId, acl);
    const extra: Record<string, string> = bucket.versioning === 'Unversioned' ? {} : { 'x-amz-version-id': version.versionId };
    return successResponse(ctx, fields, key, version.etag, extra);
  } catch (err) {
    // the file was not (fully) consumed: stop reading; the gateway closes the connection
    if (!file.stream.destroyed) file.stream.destroy();
    throw err;
  }
}

export const postObjectHandlers: HandlerTable = { PostObject: postObject };
