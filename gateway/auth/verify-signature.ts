/** Recompute a request's SigV4 signature and compare it with the one provided, in constant time. */
import { timingSafeEqual } from 'node:crypto';
import { S3Error } from '../errors.js';
import { headerText } from '../header-text.js';
import { canonicalRequest, signsNonAscii, type CanonicalInput } from './canonical-request.js';
import type { Credential } from './credential.js';
import { signingKey } from './signing-key.js';
import { hmacHex, requestStringToSign } from './string-to-sign.js';

export function signaturesEqual(expectedHex: string, providedHex: string): boolean {
  const a = Buffer.from(expectedHex, 'latin1');
  const b = Buffer.from(providedHex, 'latin1');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Returns the signing key (streaming payloads chain from it); throws SignatureDoesNotMatch. */
export function verifySignature(
  input: CanonicalInput,
  credential: Credential,
  amzDate: string,
  secret: string,
  provided: string,
): Buffer {
  const key = signingKey(secret, credential.date, credential.region);
  const canonical = canonicalRequest(input);
  const stringToSign = requestStringToSign(amzDate, credential.scope, canonical);
  if (signaturesEqual(hmacHex(key, stringToSign), provided)) return key;
  // the one other reading of the same bytes (canonical-request.ts): what Node clients sign
  if (signsNonAscii(input) && signaturesEqual(hmacHex(key, requestStringToSign(amzDate, credential.scope, canonicalRequest(input, 'latin1-text'))), provided)) {
    return key;
  }
  // AWS returns these details too; they are what a client author needs to find the difference
  throw new S3Error('SignatureDoesNotMatch', undefined, {
    AWSAccessKeyId: credential.accessKeyId,
    StringToSign: stringToSign,
    SignatureProvided: provided,
    CanonicalRequest: headerText(canonical),
  });
}
