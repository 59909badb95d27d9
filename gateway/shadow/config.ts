/** A shadow source as the admin API takes it, checked field by field before it is stored. */
import { AdminError } from '../admin/types.js';
import type { ShadowConfig, ShadowInput } from './types.js';

function invalid(message: string): AdminError {
  return new AdminError('InvalidArgument', `shadow: ${message}`, 400);
}

export function shadowConfigOf(input: ShadowInput): ShadowConfig {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw invalid('expected an object with endpoint, bucket, accessKeyId, secretAccessKey');
  for (const f of ['endpoint', 'bucket', 'accessKeyId', 'secretAccessKey'] as const) {
    if (typeof input[f] !== 'string' || input[f] === '') throw invalid(`${f} is required (a non-empty string)`);
  }
  if (input.region !== undefined && (typeof input.region !== 'string' || input.region === '')) throw invalid('region: expected a non-empty string');
  if (input.writeThrough !== undefined && typeof input.writeThrough !== 'boolean') throw invalid('writeThrough: expected a boolean');
  let url: URL;
  try {
    url = new URL(input.endpoint);
  } catch {
    throw invalid(`endpoint: expected an http(s) URL, got ${JSON.stringify(input.endpoint)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid(`endpoint: expected an http(s) URL, got ${JSON.stringify(input.endpoint)}`);
  return {
    endpoint: url.origin + url.pathname.replace(/\/+$/, ''),
    bucket: input.bucket,
    accessKeyId: input.accessKeyId,
    secretAccessKey: input.secretAccessKey,
    region: input.region ?? 'us-east-1',
    writeThrough: input.writeThrough === true,
  };
}
