/**
 * Browser POST forms signed with Signature Version 2 (AWS "Browser-based uploads using POST
 * (AWS signature version 2)"): fields AWSAccessKeyId, policy and signature, where signature is
 * the base64 HMAC-SHA1 of the base64 policy text. The policy's conditions are checked by the
 * caller, as for a SigV4 form.
 */
import { S3Error } from '../errors.js';
import type { KeyLookup } from './types.js';
import { sigV2Unsupported, checkV2Signature } from './v2-verify.js';

/** true when a form (field names lower-case) carries v2 credentials */
export function isV2Form(fields: ReadonlyMap<string, string>): boolean {
  return fields.has('awsaccesskeyid') || fields.has('signature');
}

function need(fields: ReadonlyMap<string, string>, name: string, shown: string): string {
  const v = fields.get(name);
  if (v === undefined) throw new S3Error('InvalidArgument', `Bucket POST must contain a field named '${shown}'.`, { ArgumentName: shown });
  return v;
}

/** who signed the form's policy; throws unless the signature is right (and v2 is enabled) */
export async function verifyV2Form(fields: ReadonlyMap<string, string>, keys: KeyLookup, enabled: boolean): Promise<{ accessKeyId: string; root: boolean }> {
  if (!enabled) throw sigV2Unsupported();
  if (fields.has('x-amz-signature') || fields.has('x-amz-credential')) {
    throw new S3Error('InvalidArgument', 'Only one auth mechanism allowed; the form carries both SigV2 and SigV4 credentials.', { ArgumentName: 'signature' });
  }
  const accessKeyId = need(fields, 'awsaccesskeyid', 'AWSAccessKeyId');
  const policy = need(fields, 'policy', 'policy');
  const signature = need(fields, 'signature', 'signature');
  const { root } = await checkV2Signature(accessKeyId, signature, policy, keys);
  return { accessKeyId, root };
}
