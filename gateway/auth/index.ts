/**
 * Request authentication: SigV4 (Authorization header, presigned query), SigV2 (the same two,
 * in gateway/auth/v2-*.ts), or anonymous.
 * Returns who signed and how the body is to be read; the gateway decides what is allowed.
 */
import { S3Error } from '../errors.js';
import { formatAmzDate, MAX_SKEW_MS, parseAmzDate, parseHttpDate } from './amz-date.js';
import type { ParsedAuth } from './credential.js';
import { parseAuthorizationHeader } from './parse-header.js';
import { isPresigned, parsePresignedQuery } from './parse-query.js';
import { contentSha256Mode, headerValue, parsePayloadMode, trailerChecksum, UNSIGNED_PAYLOAD } from './payload-mode.js';
import type { AuthContext, KeyLookup, PayloadMode, SignedRequest } from './types.js';
import { wrongRegion, type SigningRegions } from './regions.js';
import { parseQuery } from './uri-encode.js';
import { verifySignature } from './verify-signature.js';
import { isV2Authorization, isV2Presigned, verifyV2 } from './v2.js';

export type { AuthContext, KeyLookup, PayloadMode, SignedRequest } from './types.js';
export { contentSha256Mode, decodedContentLength, isStreaming, trailerChecksum } from './payload-mode.js';
export { MAX_SKEW_MS } from './amz-date.js';

export interface VerifyOptions {
  /** the server's clock, ms since epoch (tests) */
  now?: number;
  /** accept Signature Version 2 (header, presigned URL); default true (erne serve --no-sigv2) */
  sigv2?: boolean;
  /** the bucket the Host header named (virtual-host style): SigV2 signs it in front of the path */
  virtualHostBucket?: string;
  /** the regions a signature may be for; absent: any (unit tests of the signature alone) */
  regions?: SigningRegions;
}

export async function verifyRequest(req: SignedRequest, keys: KeyLookup, opts: VerifyOptions = {}): Promise<AuthContext> {
  const now = opts.now ?? Date.now();
  const authorization = headerValue(req.headers, 'authorization')?.trim();
  const params = new Map<string, string>();
  for (const [name, value] of parseQuery(req.rawQuery)) if (!params.has(name)) params.set(name, value);
  const presigned = isPresigned(params);
  const v2Presigned = !presigned && isV2Presigned(params);

  if (authorization && (presigned || v2Presigned)) {
    throw new S3Error(
      'InvalidArgument',
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
      { ArgumentName: 'Authorization', ArgumentValue: authorization },
    );
  }
  if (authorization ? isV2Authorization(authorization) : v2Presigned) {
    const v2 = { enabled: opts.sigv2 !== false, ...(opts.virtualHostBucket !== undefined ? { virtualHostBucket: opts.virtualHostBucket } : {}) };
    return withTrailer(req, await verifyV2(req, authorization, params, keys, now, v2));
  }
  if (authorization) return verifyHeaderAuth(req, authorization, keys, now, opts.regions);
  if (presigned) return verifyPresigned(req, params, keys, now, opts.regions);
  return anonymous(req);
}

function anonymous(req: SignedRequest): AuthContext {
  const payload = contentSha256Mode(req.headers) ?? { kind: 'none' };
  if (payload.kind === 'streaming-signed') {
    throw new S3Error('AccessDenied', 'A signed streaming payload needs a signed request.');
  }
  return withTrailer(req, { accessKeyId: null, root: false, payload, presigned: false });
}

async function verifyHeaderAuth(req: SignedRequest, authorization: string, keys: KeyLookup, now: number, regions?: SigningRegions): Promise<AuthContext> {
  const auth = parseAuthorizationHeader(authorization);
  if (regions && !regions.accepted.has(auth.credential.region)) throw wrongRegion(auth.credential.region, regions, false);
  const { amzDate, time } = headerTime(req);
  if (auth.credential.date !== amzDate.slice(0, 8)) {
    throw new S3Error(
      'AuthorizationHeaderMalformed',
      'The authorization header is malformed; Invalid credential date. Date is not the same as X-Amz-Date.',
    );
  }
  if (Math.abs(now - time) > MAX_SKEW_MS) {
    throw new S3Error('RequestTimeTooSkewed', undefined, {
      RequestTime: amzDate,
      ServerTime: new Date(now).toISOString(),
      MaxAllowedSkewMilliseconds: MAX_SKEW_MS,
    });
  }
  const sha = headerValue(req.headers, 'x-amz-content-sha256');
  if (sha === undefined) {
    throw new S3Error('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  }
  const payload = parsePayloadMode(sha.trim());
  return finish(req, auth, amzDate, sha, payload, keys, false);
}

/** x-amz-date, else Date; the string-to-sign always carries the ISO basic form. */
function headerTime(req: SignedRequest): { amzDate: string; time: number } {
  const xAmzDate = headerValue(req.headers, 'x-amz-date');
  if (xAmzDate !== undefined) {
    const time = parseAmzDate(xAmzDate.trim());
    if (time !== undefined) return { amzDate: xAmzDate.trim(), time };
  } else {
    const date = headerValue(req.headers, 'date');
    const time = date === undefined ? undefined : parseHttpDate(date);
    if (time !== undefined) return { amzDate: formatAmzDate(time), time };
  }
  throw new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
}

async function verifyPresigned(
  req: SignedRequest,
  params: ReadonlyMap<string, string>,
  keys: KeyLookup,
  now: number,
  regions?: SigningRegions,
): Promise<AuthContext> {
  const q = parsePresignedQuery(params);
  if (regions && !regions.accepted.has(q.credential.region)) throw wrongRegion(q.credential.region, regions, true);
  if (q.credential.date !== q.amzDate.slice(0, 8)) {
    throw new S3Error(
      'AuthorizationQueryParametersError',
      'Invalid credential date. Date is not the same as X-Amz-Date.',
    );
  }
  // X-Amz-Expires=0 gives a URL no time at all: expired at once, as on S3
  if (q.expiresSeconds === 0 || now > q.time + q.expiresSeconds * 1000) {
    throw new S3Error('AccessDenied', 'Request has expired', {
      'X-Amz-Expires': q.expiresSeconds,
      Expires: new Date(q.time + q.expiresSeconds * 1000).toISOString(),
      ServerTime: new Date(now).toISOString(),
    });
  }
  if (q.time - now > MAX_SKEW_MS) {
    throw new S3Error('AccessDenied', 'Request is not valid yet', {
      'X-Amz-Date': q.amzDate,
      ServerTime: new Date(now).toISOString(),
    });
  }
  // a presigned URL's payload is unsigned unless the signer included the header's value or
  // put a hash in the URL; a signed hash is the body's to match (gateway/body.ts checks it)
  const headerSha = headerValue(req.headers, 'x-amz-content-sha256');
  const payloadHash = q.signedHeaders.includes('x-amz-content-sha256')
    ? (headerSha ?? '')
    : (q.contentSha256 ?? UNSIGNED_PAYLOAD);
  const declared = headerSha ?? q.contentSha256;
  const payload: PayloadMode = declared !== undefined ? parsePayloadMode(declared.trim()) : { kind: 'unsigned' };
  return finish(req, q, q.amzDate, payloadHash, payload, keys, true);
}

async function finish(
  req: SignedRequest,
  auth: ParsedAuth,
  amzDate: string,
  payloadHash: string,
  payload: PayloadMode,
  keys: KeyLookup,
  presigned: boolean,
): Promise<AuthContext> {
  requireSignedHeaders(req, auth.signedHeaders);
  const found = await keys(auth.credential.accessKeyId);
  if (!found) throw new S3Error('InvalidAccessKeyId', undefined, { AWSAccessKeyId: auth.credential.accessKeyId });
  const signingKey = verifySignature(
    {
      method: req.method,
      rawPath: req.rawPath,
      rawQuery: req.rawQuery,
      headers: req.headers,
      signedHeaders: auth.signedHeaders,
      payloadHash,
      ...(presigned ? { excludeQuery: 'X-Amz-Signature' } : {}),
    },
    auth.credential,
    amzDate,
    found.secretAccessKey,
    auth.signature,
  );
  const ctx: AuthContext = { accessKeyId: auth.credential.accessKeyId, root: found.root, payload, presigned };
  ctx.region = auth.credential.region;
  if (payload.kind === 'streaming-signed') {
    ctx.signing = { seedSignature: auth.signature, signingKey, amzDate, scope: auth.credential.scope };
  }
  return withTrailer(req, ctx);
}

/**
 * Host and every x-amz-* header a signed request carries must be covered by its signature
 * (as on S3): otherwise a captured request could be re-pointed at another virtual-host
 * bucket, or anyone on the path could add a copy source, an ACL or a checksum to it.
 */
function requireSignedHeaders(req: SignedRequest, signed: readonly string[]): void {
  // SigV4 always signs host, present or not (HTTP/2's :authority stands for it; Erne speaks HTTP/1.1)
  let missing: string[] | undefined = signed.includes('host') ? undefined : ['host'];
  for (const raw of Object.keys(req.headers)) {
    const name = raw.toLowerCase();
    if (!name.startsWith('x-amz-') || signed.includes(name) || req.headers[raw] === undefined) continue;
    (missing ??= []).push(name);
  }
  if (missing) {
    throw new S3Error('AccessDenied', 'There were headers present in the request which were not signed', {
      HeadersNotSigned: missing.join(', '),
    });
  }
}

function withTrailer(req: SignedRequest, ctx: AuthContext): AuthContext {
  const trailing = ctx.payload.kind === 'streaming-unsigned-trailer' || (ctx.payload.kind === 'streaming-signed' && ctx.payload.trailer);
  if (trailing) {
    const alg = trailerChecksum(req.headers);
    if (alg) ctx.trailerChecksum = alg;
  }
  return ctx;
}
