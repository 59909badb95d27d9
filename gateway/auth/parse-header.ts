/**
 * Parse "AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…". Clients vary the
 * spacing (no space after commas, several spaces), so components are split on ',' and trimmed.
 */
import { S3Error } from '../errors.js';
import { parseCredential, parseSignedHeaders, type ParsedAuth } from './credential.js';
import { ALGORITHM } from './string-to-sign.js';

function malformed(detail: string): S3Error {
  return new S3Error('AuthorizationHeaderMalformed', `The authorization header is malformed; ${detail}`);
}

export function parseAuthorizationHeader(value: string): ParsedAuth {
  const v = value.trim();
  const m = /^(\S+?)(?:\s+|(?=Credential=))([\s\S]*)$/.exec(v);
  const algorithm = m?.[1] ?? v;
  if (algorithm !== ALGORITHM) {
    throw new S3Error('InvalidArgument', 'Unsupported Authorization Type', {
      ArgumentName: 'Authorization',
      ArgumentValue: value,
    });
  }
  const fields = new Map<string, string>();
  for (const part of (m?.[2] ?? '').split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) {
      if (part.trim() === '') continue;
      throw malformed(`the authorization component "${part.trim()}" is malformed.`);
    }
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (credential === undefined || signedHeaders === undefined || signature === undefined) {
    throw malformed('the authorization header requires three components: Credential, SignedHeaders, and Signature.');
  }
  return {
    credential: parseCredential(credential, malformed),
    signedHeaders: parseSignedHeaders(signedHeaders),
    signature,
  };
}
