/**
 * The read-through of a shadow bucket: a key missing here is fetched from the source once and
 * stored here, even when several requests (and the migration) miss it at the same time. The
 * request that started the fetch may take the bytes as they arrive (streamed to it while they
 * are written to the volume); the others wait for the copy and are then served from here.
 * A copy commits only if nothing was written to the key meanwhile (If-None-Match: *): a write
 * here always wins over the source.
 */
import { createHash } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import type { BlobStore } from '../../cache/types.js';
import { MetadataError } from '../../metadata/errors.js';
import type { ObjectLayer } from '../../metadata/object-layer.js';
import type { BodyLocation, BucketRecord } from '../../metadata/types.js';
import { objectHeaders } from '../validate.js';
import { ShadowSource, SourceError, type SourceAnswer } from './source.js';
import type { ShadowConfig } from './types.js';

/** stored: the key is here now (copied, or written here meanwhile); missing: the source lacks it too */
export type FillOutcome = 'stored' | 'missing';

export interface FillServices {
  layer: ObjectLayer;
  blobs: BlobStore;
}

export interface Fill {
  outcome: Promise<FillOutcome>;
  /** for the request that started it and asked: the source's headers and the bytes as they come */
  tap?: { headers: Record<string, string>; body: Readable };
}

/** headers of a source answer that describe the object (what a GET here answers with) */
const OBJECT_HEADERS = ['content-type', 'content-length', 'etag', 'last-modified', 'content-encoding', 'content-disposition', 'content-language', 'cache-control', 'expires'];

function userMetadataOf(h: Record<string, string>): Record<string, string> {
  const meta: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (k.startsWith('x-amz-meta-')) meta[k.slice('x-amz-meta-'.length)] = v;
  return meta;
}

export function objectHeadersOf(h: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of OBJECT_HEADERS) if (h[n] !== undefined) out[n] = h[n];
  for (const [k, v] of Object.entries(h)) if (k.startsWith('x-amz-meta-')) out[k] = v;
  return out;
}

export class ShadowFills {
  private readonly inflight = new Map<string, Promise<FillOutcome>>();

  constructor(private readonly svc: FillServices) {}

  /**
   * Joins the copy of bucket/key in progress, or starts one. `wantBytes`: the caller that
   * starts it gets the bytes as they arrive (a caller joining one does not).
   */
  async fill(bucket: BucketRecord, config: ShadowConfig, key: string, wantBytes: boolean): Promise<Fill> {
    const id = `${bucket.name}\0${bucket.createdAt}\0${key}`;
    const running = this.inflight.get(id);
    if (running) return { outcome: running };
    let answered!: (a: { tap?: Fill['tap'] }) => void;
    let failedEarly!: (err: unknown) => void;
    const started = new Promise<{ tap?: Fill['tap'] }>((resolve, reject) => {
      answered = resolve;
      failedEarly = reject;
    });
    const outcome = this.copy(bucket, config, key, wantBytes, answered).finally(() => this.inflight.delete(id));
    this.inflight.set(id, outcome);
    // the source's answer (or its failure) decides what the starting request sees
    outcome.then(
      () => answered({}),
      (err: unknown) => failedEarly(err),
    );
    const first = await started;
    return { outcome, ...(first.tap ? { tap: first.tap } : {}) };
  }

  private async copy(bucket: BucketRecord, config: ShadowConfig, key: string, wantBytes: boolean, answered: (a: { tap?: Fill['tap'] }) => void): Promise<FillOutcome> {
    const source = new ShadowSource(config);
    const a = await source.get(key);
    if (!a) return 'missing';
    const { size, etag, md5, seen, toStore, toClient } = this.split(a, wantBytes);
    if (toClient) answered({ tap: { headers: objectHeadersOf(a.headers), body: toClient } });
    const stored = await this.svc.blobs.ingest(toStore).catch((err: unknown) => {
      // the volume failed: the client (if any) still gets the bytes, no longer held back by it
      a.body.unpipe(toStore);
      if (toClient) a.body.resume();
      throw err;
    });
    const drop = () => (stored.blobId ? this.svc.blobs.delete(stored.blobId).catch(() => undefined) : undefined);
    // the size is checked; the ETag is not compared with the MD5: sources that encrypt with
    // KMS (or other than S3's own way) give ETags that are no MD5 of the bytes
    if (size !== undefined && seen() !== size) {
      await drop();
      throw new SourceError(`shadow source ${source.name} sent ${seen()} bytes of ${key}, announcing ${size}`, 502);
    }
    const location: BodyLocation = stored.inline ? { kind: 'inline', data: stored.inline } : { kind: 'blob', blobId: stored.blobId!, node: this.svc.blobs.nodeId };
    try {
      await this.svc.layer.putObject(
        {
          bucket: bucket.name,
          key,
          size: seen(),
          // the source's ETag (a multipart one included), so clients see the same object
          etag: etag || md5(),
          owner: bucket.owner,
          headers: objectHeaders(a.headers),
          userMetadata: userMetadataOf(a.headers),
          checksums: {},
          body: location,
        },
        { ifNoneMatch: '*' },
      );
    } catch (err) {
      await drop();
      // written here meanwhile: what is here wins
      if (err instanceof MetadataError && err.code === 'PreconditionFailed') return 'stored';
      throw err;
    }
    return 'stored';
  }

  /** the source's body to the volume and (asked) to the client, at the pace of the slower */
  private split(a: SourceAnswer, wantBytes: boolean) {
    const body = a.body;
    const hash = createHash('md5');
    let n = 0;
    body.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      n += chunk.length;
    });
    const toStore = new PassThrough();
    const toClient = wantBytes ? new PassThrough() : undefined;
    body.on('error', (err) => {
      toStore.destroy(err);
      toClient?.destroy(err);
    });
    body.pipe(toStore);
    // a client that goes away is unpiped (pipe does so on close): the copy goes on
    if (toClient) body.pipe(toClient);
    let digest: string | undefined;
    const length = a.headers['content-length'];
    return {
      size: length === undefined ? undefined : Number(length),
      etag: (a.headers['etag'] ?? '').replace(/"/g, ''),
      md5: () => (digest ??= hash.digest('hex')),
      seen: () => n,
      toStore,
      toClient,
    };
  }
}
