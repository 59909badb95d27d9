/** A browser POST form (SigV4-signed policy) as hand-made raw requests send it. */
import { createHmac } from 'node:crypto';
import { REGION, type Creds } from './gateway.js';
import type { RawRequest } from './raw.js';

/** a browser POST form uploading `key`, its policy signed by `creds` */
export function postForm(bucket: string, key: string, creds: Creds, acl?: string): RawRequest {
  const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const credential = `${creds.accessKeyId}/${amzDate.slice(0, 8)}/${REGION}/s3/aws4_request`;
  const fields: Record<string, string> = { key, ...(acl ? { acl } : {}), 'x-amz-algorithm': 'AWS4-HMAC-SHA256', 'x-amz-credential': credential, 'x-amz-date': amzDate };
  const conditions = [{ bucket }, ...Object.entries(fields).map(([k, v]) => ({ [k]: v }))];
  const policy = Buffer.from(JSON.stringify({ expiration: new Date(Date.now() + 300_000).toISOString(), conditions })).toString('base64');
  const hmac = (k: Buffer | string, d: string) => createHmac('sha256', k).update(d).digest();
  const signingKey = hmac(hmac(hmac(hmac('AWS4' + creds.secretAccessKey, amzDate.slice(0, 8)), REGION), 's3'), 'aws4_request');
  Object.assign(fields, { policy, 'x-amz-signature': createHmac('sha256', signingKey).update(policy).digest('hex') });
  const boundary = 'ernepolicyform';
  const body = Object.entries(fields).map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`).join('')
    + `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="f.txt"\r\nContent-Type: text/plain\r\n\r\nform bytes\r\n--${boundary}--\r\n`;
  return { method: 'POST', path: `/${bucket}`, body, headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` } };
}

