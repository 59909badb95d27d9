/**
 * The S3 requests the load generator sends, over one undici Pool per process (keep-alive,
 * one connection per concurrent slot), signed by ./signer.ts. Bodies are generated from one
 * shared random buffer and never held whole: a 64 MiB PUT is that buffer repeated. Replies
 * are drained and counted, error replies reduced to their S3 error code.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { Pool } from 'undici';
import { Signer, canonicalQuery, uriEncode } from './signer.js';

export interface ClientOptions {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  region: string;
  connections: number;
}

/** a failed request: `code` is the S3 error code, the HTTP status, or the socket error */
export class BenchError extends Error {
  override readonly name = 'BenchError';
  constructor(
    readonly code: string,
    readonly status: number,
    message?: string,
  ) {
    super(message ?? code);
  }
}

const CHUNK = 1 << 20;
/** shared payload source: random so nothing on the way can compress it */
const PAYLOAD = randomBytes(CHUNK);

async function* repeated(size: number): AsyncGenerator<Buffer> {
  for (let left = size; left > 0; left -= CHUNK) yield left >= CHUNK ? PAYLOAD : PAYLOAD.subarray(0, left);
}

function bodyOf(size: number): Buffer | Readable {
  return size <= CHUNK ? PAYLOAD.subarray(0, size) : Readable.from(repeated(size), { objectMode: false });
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** bytes of the body received (drained) */
  bytes: number;
  /** the body, only when asked for */
  text?: string;
}

export class BenchClient {
  private readonly pool: Pool;
  private readonly signer: Signer;
  private readonly host: string;

  constructor(opts: ClientOptions) {
    const url = new URL(opts.endpoint);
    this.host = url.host;
    this.pool = new Pool(url.origin, { connections: opts.connections, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: 0, bodyTimeout: 0 });
    this.signer = new Signer({ accessKeyId: opts.accessKey, secretAccessKey: opts.secretKey, region: opts.region });
  }

  /** one signed request; throws BenchError for a status ≥ 300 (after reading its code) */
  async request(method: string, bucket: string, key: string | undefined, query: Record<string, string> = {}, body?: { size: number }, wantText = false): Promise<Reply> {
    const path = '/' + uriEncode(bucket) + (key !== undefined ? '/' + uriEncode(key, true) : '');
    const qs = canonicalQuery(query);
    const headers: Record<string, string> = this.signer.sign(method, this.host, path, qs);
    if (body) headers['content-length'] = String(body.size);
    let res;
    try {
      res = await this.pool.request({ method: method as 'GET', path: qs ? `${path}?${qs}` : path, headers, body: body ? bodyOf(body.size) : undefined });
    } catch (err) {
      const e = err as { code?: string; message?: string };
      throw new BenchError(e.code ?? 'NetworkError', 0, e.message);
    }
    if (res.statusCode >= 300) {
      const text = method === 'HEAD' ? '' : await res.body.text().catch(() => '');
      const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? `HTTP${res.statusCode}`;
      const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1];
      throw new BenchError(code, res.statusCode, `${method} ${path}: ${res.statusCode} ${code}${message ? `: ${message}` : ''}`);
    }
    if (wantText) {
      const text = await res.body.text();
      return { status: res.statusCode, headers: res.headers, bytes: Buffer.byteLength(text), text };
    }
    let bytes = 0;
    for await (const chunk of res.body) bytes += (chunk as Buffer).length;
    return { status: res.statusCode, headers: res.headers, bytes };
  }

  async createBucket(bucket: string): Promise<void> {
    try {
      await this.request('PUT', bucket, undefined);
    } catch (err) {
      if (!(err instanceof BenchError && (err.code === 'BucketAlreadyOwnedByYou' || err.code === 'BucketAlreadyExists'))) throw err;
    }
  }

  put(bucket: string, key: string, size: number): Promise<Reply> {
    return this.request('PUT', bucket, key, {}, { size });
  }

  get(bucket: string, key: string): Promise<Reply> {
    return this.request('GET', bucket, key);
  }

  head(bucket: string, key: string): Promise<Reply> {
    return this.request('HEAD', bucket, key);
  }

  del(bucket: string, key: string): Promise<Reply> {
    return this.request('DELETE', bucket, key);
  }

  /** one ListObjectsV2 page; returns the number of keys in it */
  async listPage(bucket: string, opts: { prefix?: string; startAfter?: string; maxKeys?: number; token?: string }): Promise<{ keys: number; bytes: number; next?: string }> {
    const q: Record<string, string> = { 'list-type': '2', 'max-keys': String(opts.maxKeys ?? 1000) };
    if (opts.prefix) q['prefix'] = opts.prefix;
    if (opts.startAfter) q['start-after'] = opts.startAfter;
    if (opts.token) q['continuation-token'] = opts.token;
    const r = await this.request('GET', bucket, undefined, q, undefined, true);
    const text = r.text!;
    const count = /<KeyCount>(\d+)<\/KeyCount>/.exec(text);
    const keys = count ? Number(count[1]) : (text.match(/<Key>/g) ?? []).length;
    const next = /<NextContinuationToken>([^<]+)<\/NextContinuationToken>/.exec(text)?.[1];
    return { keys, bytes: r.bytes, next };
  }

  async multipartPut(bucket: string, key: string, size: number, partSize: number): Promise<void> {
    const created = await this.request('POST', bucket, key, { uploads: '' }, undefined, true);
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.text!)?.[1];
    if (!uploadId) throw new BenchError('NoUploadId', created.status, 'CreateMultipartUpload reply without UploadId');
    const parts: string[] = [];
    for (let n = 1, off = 0; off < size; n += 1, off += partSize) {
      const r = await this.request('PUT', bucket, key, { partNumber: String(n), uploadId }, { size: Math.min(partSize, size - off) });
      parts.push(`<Part><PartNumber>${n}</PartNumber><ETag>${String(r.headers['etag'])}</ETag></Part>`);
    }
    const xml = `<CompleteMultipartUpload>${parts.join('')}</CompleteMultipartUpload>`;
    await this.completeMultipart(bucket, key, uploadId, xml);
  }

  private async completeMultipart(bucket: string, key: string, uploadId: string, xml: string): Promise<void> {
    const path = '/' + uriEncode(bucket) + '/' + uriEncode(key, true);
    const qs = canonicalQuery({ uploadId });
    const headers = { ...this.signer.sign('POST', this.host, path, qs), 'content-type': 'application/xml' };
    const res = await this.pool.request({ method: 'POST', path: `${path}?${qs}`, headers, body: xml });
    const text = await res.body.text();
    // CompleteMultipartUpload may fail with 200 and an <Error> body
    const code = /<Error>[\s\S]*?<Code>([^<]+)<\/Code>/.exec(text)?.[1];
    if (res.statusCode >= 300 || code) throw new BenchError(code ?? `HTTP${res.statusCode}`, res.statusCode, text.slice(0, 300));
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
