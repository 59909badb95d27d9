/**
 * The SigV4 signing key: HMAC chain over date, region, service, "aws4_request". It changes
 * once a day per key and region, so it is cached (bounded; oldest entries dropped first).
 */
import { createHmac } from 'node:crypto';

const MAX_ENTRIES = 1024;
const cache = new Map<string, Buffer>();

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

export function signingKey(secret: string, date: string, region: string, service = 's3'): Buffer {
  const id = `${date}\n${region}\n${service}\n${secret}`;
  const hit = cache.get(id);
  if (hit) return hit;
  const key = hmac(hmac(hmac(hmac('AWS4' + secret, date), region), service), 'aws4_request');
  if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value as string);
  cache.set(id, key);
  return key;
}
