/**
 * The admin API's client (gateway/admin/types.ts has the documents): each call a SigV4-signed
 * JSON request to /.erne/admin/ on a gateway of the cluster, signed for region `auto` like
 * the apps' own requests, so any region's gateway accepts it.
 */
import aws4 from 'aws4';
import { ADMIN_PREFIX, AdminError, type Admin, type BucketInfo, type BucketStatus, type ClusterInfo, type DeletedBucket, type KeyInfo, type NewKeyResult } from '../../gateway/admin/types.js';
import type { MigrationState } from '../../gateway/shadow/types.js';

export interface RootCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export function remoteAdmin(endpoint: string, creds: RootCredentials): Admin {
  const base = new URL(endpoint);
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const url = new URL(ADMIN_PREFIX + path, base);
    const text = body === undefined ? '' : JSON.stringify(body);
    const signed = aws4.sign(
      {
        host: url.host,
        path: url.pathname + url.search,
        method,
        service: 's3',
        region: 'auto',
        body: text,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
      },
      creds,
    );
    let res: Response;
    try {
      res = await fetch(url, { method, headers: signed.headers as Record<string, string>, ...(body === undefined ? {} : { body: text }) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new AdminError('Unreachable', `cannot reach ${base.origin}: ${cause?.code ?? cause?.message ?? (err as Error).message}`, 0);
    }
    const answer = (await res.json().catch(() => undefined)) as { error?: { code: string; message: string } } | undefined;
    if (!res.ok || answer === undefined) {
      const e = answer?.error;
      if (e) throw new AdminError(e.code, e.message, res.status);
      throw new AdminError('BadAnswer', `${base.origin} answered ${res.status} without an admin document: is it an Erne gateway?`, res.status);
    }
    return answer as T;
  };
  const name = (s: string) => encodeURIComponent(s);
  return {
    cluster: () => call<ClusterInfo>('GET', 'cluster'),
    listKeys: () => call<KeyInfo[]>('GET', 'keys'),
    createKey: (input) => call<NewKeyResult>('POST', 'keys', input),
    deleteKey: async (id) => {
      try {
        await call('DELETE', `keys/${name(id)}`);
        return true;
      } catch (err) {
        if (err instanceof AdminError && err.code === 'NoSuchKey') return false;
        throw err;
      }
    },
    listBuckets: () => call<BucketInfo[]>('GET', 'buckets'),
    bucket: (b) => call<BucketStatus>('GET', `buckets/${name(b)}`),
    createBucket: (input) => call<BucketInfo>('POST', 'buckets', input),
    updateBucket: (b, change) => call<BucketInfo>('PATCH', `buckets/${name(b)}`, change),
    deleteBucket: (b, opts) => call<DeletedBucket>('DELETE', `buckets/${name(b)}${opts.force ? '?force=true' : ''}`),
    migrate: (b) => call<MigrationState>('POST', `buckets/${name(b)}/migrate`),
    migration: (b) => call<MigrationState>('GET', `buckets/${name(b)}/migrate`),
    close: async () => undefined,
  };
}
