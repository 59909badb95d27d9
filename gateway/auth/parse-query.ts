/** Parse the X-Amz-* parameters of a presigned (query-authenticated) URL. */
import { S3Error } from '../errors.js';
import { parseAmzDate } from './amz-date.js';
import { parseCredential, parseSignedHeaders, type ParsedAuth } from './credential.js';
import { ALGORITHM } from './string-to-sign.js';

/** One week, the longest a SigV4 presigned URL may live. */
export const MAX_EXPIRES_SECONDS = 604800;

export interface ParsedPresign extends ParsedAuth {
  amzDate: string;
  /** ms since epoch */
  time: number;
  expiresSeconds: number;
  /** X-Amz-Content-Sha256 if the URL carries one (rare) */
  contentSha256?: string;
}

function queryError(message: string): S3Error {
  return new S3Error('AuthorizationQueryParametersError', message);
}

/** true when the query asks for SigV4 query authentication */
export function isPresigned(params: ReadonlyMap<string, string>): boolean {
  return params.has('X-Amz-Algorithm') || params.has('X-Amz-Credential') || params.has('X-Amz-Signature');
}

export function parsePresignedQuery(params: ReadonlyMap<string, string>): ParsedPresign {
  const algorithm = params.get('X-Amz-Algorithm');
  const credential = params.get('X-Amz-Credential');
  const signature = params.get('X-Amz-Signature');
  const amzDate = params.get('X-Amz-Date');
  const signedHeaders = params.get('X-Amz-SignedHeaders');
  const expires = params.get('X-Amz-Expires');
  if ([algorithm, credential, signature, amzDate, signedHeaders, expires].some((v) => v === undefined)) {
    throw queryError(
      'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
    );
  }
  if (algorithm !== ALGORITHM) throw queryError('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
  const cred = parseCredential(credential!, (d) => queryError(`Error parsing the X-Amz-Credential parameter; ${d}`));
  const time = parseAmzDate(amzDate!);
  if (time === undefined) throw queryError('X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd\'T\'HHmmss\'Z\'"');
  if (!/^-?\d+$/.test(expires!)) throw queryError('X-Amz-Expires should be a number');
  const expiresSeconds = Number(expires);
  if (expiresSeconds < 0) throw queryError('X-Amz-Expires must be non-negative');
  if (expiresSeconds > MAX_EXPIRES_SECONDS) {
    throw queryError('X-Amz-Expires must be less than a week (in seconds) that is 604800');
  }
  const out: ParsedPresign = {
    credential: cred,
    signedHeaders: parseSignedHeaders(signedHeaders!),
    signature: signature!,
    amzDate: amzDate!,
    time,
    expiresSeconds,
  };
  const sha = params.get('X-Amz-Content-Sha256');
  if (sha !== undefined) out.contentSha256 = sha;
  return out;
}
