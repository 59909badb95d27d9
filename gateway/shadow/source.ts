/**
 * A small S3 client for a shadow bucket's source: path-style requests signed with SigV4
 * (aws4), bodies streamed both ways (uploads sent UNSIGNED-PAYLOAD with their length).
 */
import type { Readable } from 'node:stream';
import { XMLParser } from 'fast-xml-parser';
import type { Agent } from 'undici';
import type { ShadowConfig } from './types.js';

export interface SourceAnswer {
  status: number;
  headers: Record<string, string>;
  body: Readable;
}

export interface SourceListInput {
  prefix?: string;
  delimiter?: string;
  startAfter?: string;
  continuationToken?: string;
  maxKeys: number;
}

export interface SourceEntry {
  key: string;
  size: number;
  etag: string;
  lastModified: number;
}

export interface SourceListPage {
  contents: SourceEntry[];
  commonPrefixes: string[];
  isTruncated: boolean;
  nextContinuationToken?: string;
}

/** a source that could not be reached or answered with an error (status 0: unreachable) */
export class SourceError extends Error {
  override readonly name = 'SourceError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** S3's URI encoding of one path segment */
function encodeSegment(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

// undici is loaded at the first call to a source: most gateways have no shadow bucket, and its
// ~100 modules are a large part of the start under emulation (a microVM under TCG)
// (aws4 the same)
interface Client {
  agent: Agent;
  request: typeof import('undici').request;
  sign: typeof import('aws4').sign;
}
let client: Promise<Client> | undefined;
function sourceClient(): Promise<Client> {
  client ??= Promise.all([import('undici'), import('aws4')]).then(([{ Agent, request }, aws4]) => ({
    agent: new Agent({ keepAliveTimeout: 30_000, connect: { timeout: 10_000 } }),
    request,
    sign: aws4.default.sign.bind(aws4.default),
  }));
  return client;
}
const xml = new XMLParser({ isArray: (name) => name === 'Contents' || name === 'CommonPrefixes', parseTagValue: false });

function flatHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
  return out;
}

export class ShadowSource {
  private readonly base: URL;
  constructor(readonly config: ShadowConfig) {
    this.base = new URL(config.endpoint);
  }

  /** who is asked, for messages */
  get name(): string {
    return `${this.base.origin}/${this.config.bucket}`;
  }

  private async send(method: string, key: string | undefined, query: string, headers: Record<string, string>, body?: Readable): Promise<SourceAnswer> {
    const prefix = this.base.pathname.replace(/\/+$/, '');
    const path = `${prefix}/${encodeSegment(this.config.bucket)}${key === undefined ? '' : '/' + key.split('/').map(encodeSegment).join('/')}${query ? '?' + query : ''}`;
    const { agent, request, sign } = await sourceClient();
    const signed = sign(
      {
        host: this.base.host,
        path,
        method,
        service: 's3',
        region: this.config.region,
        headers: { ...headers, 'X-Amz-Content-Sha256': body ? 'UNSIGNED-PAYLOAD' : 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' },
      },
      { accessKeyId: this.config.accessKeyId, secretAccessKey: this.config.secretAccessKey },
    );
    try {
      const res = await request(new URL(path, this.base.origin), {
        method: method as 'GET',
        headers: signed.headers as Record<string, string>,
        dispatcher: agent,
        ...(body ? { body } : {}),
      });
      return { status: res.statusCode, headers: flatHeaders(res.headers), body: res.body };
    } catch (err) {
      const cause = (err as { code?: string }).code ?? (err as Error).message;
      throw new SourceError(`shadow source ${this.name} cannot be reached: ${cause}`, 0);
    }
  }

  /** an answer other than `ok` as an error naming the source's code */
  private async refuse(what: string, a: SourceAnswer): Promise<never> {
    const text = await a.body.setEncoding('utf8').toArray().then((parts) => parts.join('').slice(0, 4000)).catch(() => '');
    const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
    throw new SourceError(`shadow source ${this.name} answered ${what} with ${a.status}${code ? ` ${code}` : ''}`, a.status);
  }

  /** the object whole; undefined when the source has no such key */
  async get(key: string): Promise<SourceAnswer | undefined> {
    const a = await this.send('GET', key, '', {});
    if (a.status === 404) {
      a.body.resume();
      return undefined;
    }
    if (a.status !== 200) return this.refuse(`GET ${key}`, a);
    return a;
  }

  async put(key: string, body: Readable, size: number, headers: Record<string, string>): Promise<void> {
    const a = await this.send('PUT', key, '', { ...headers, 'content-length': String(size) }, body);
    if (a.status !== 200) return this.refuse(`PUT ${key}`, a);
    a.body.resume();
  }

  async delete(key: string): Promise<void> {
    const a = await this.send('DELETE', key, '', {});
    // deleting what the source never had is no failure
    if (a.status !== 204 && a.status !== 200 && a.status !== 404) return this.refuse(`DELETE ${key}`, a);
    a.body.resume();
  }

  async list(input: SourceListInput): Promise<SourceListPage> {
    const q = new URLSearchParams({ 'list-type': '2', 'max-keys': String(input.maxKeys) });
    if (input.prefix) q.set('prefix', input.prefix);
    if (input.delimiter) q.set('delimiter', input.delimiter);
    if (input.startAfter) q.set('start-after', input.startAfter);
    if (input.continuationToken) q.set('continuation-token', input.continuationToken);
    const query = q.toString().replace(/\+/g, '%20');
    const a = await this.send('GET', undefined, query, {});
    if (a.status !== 200) return this.refuse('ListObjectsV2', a);
    const text = (await a.body.setEncoding('utf8').toArray()).join('');
    const doc = (xml.parse(text) as { ListBucketResult?: Record<string, unknown> }).ListBucketResult;
    if (!doc) throw new SourceError(`shadow source ${this.name} answered ListObjectsV2 with no ListBucketResult`, a.status);
    const contents = ((doc['Contents'] as Record<string, string>[] | undefined) ?? []).map((c) => ({
      key: String(c['Key']),
      size: Number(c['Size']),
      etag: String(c['ETag'] ?? '').replace(/"/g, ''),
      lastModified: Date.parse(String(c['LastModified'])),
    }));
    const commonPrefixes = ((doc['CommonPrefixes'] as Record<string, string>[] | undefined) ?? []).map((p) => String(p['Prefix']));
    const next = doc['NextContinuationToken'];
    return { contents, commonPrefixes, isTruncated: String(doc['IsTruncated']) === 'true', ...(typeof next === 'string' && next ? { nextContinuationToken: next } : {}) };
  }
}
