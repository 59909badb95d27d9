/** The Credential value "AKID/yyyymmdd/region/s3/aws4_request", shared by header and query auth. */
import { S3Error } from '../errors.js';
import { credentialScope } from './string-to-sign.js';

export interface Credential {
  accessKeyId: string;
  /** yyyymmdd */
  date: string;
  region: string;
  /** date/region/s3/aws4_request */
  scope: string;
}

/** What header and query parsing both produce. */
export interface ParsedAuth {
  credential: Credential;
  signedHeaders: string[];
  signature: string;
}

/** `fail(detail)` builds the error in the style of the caller (header or query). */
export function parseCredential(value: string, fail: (detail: string) => S3Error): Credential {
  const parts = value.split('/');
  // the key id itself never contains '/', but read the scope from the end to be safe
  if (parts.length < 5) {
    throw fail('the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".');
  }
  const [date, region, service, terminal] = parts.slice(-4) as [string, string, string, string];
  const accessKeyId = parts.slice(0, -4).join('/');
  if (accessKeyId === '' || !/^\d{8}$/.test(date)) {
    throw fail('the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".');
  }
  if (service !== 's3') throw fail(`incorrect service "${service}". This endpoint belongs to "s3".`);
  if (terminal !== 'aws4_request') throw fail(`incorrect terminal "${terminal}". This endpoint uses "aws4_request".`);
  return { accessKeyId, date, region, scope: credentialScope(date, region) };
}

export function parseSignedHeaders(value: string): string[] {
  return value
    .split(';')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== '');
}
