import type { Readable } from 'node:stream';

export interface IngestOptions {
  /** bytes above this go to a blob file; at or below, returned inline. Default: the store's threshold */
  inlineThreshold?: number;
  /** fail with `EntityTooLarge` as soon as more than this many bytes arrive */
  maxSize?: number;
}

export interface IngestResult {
  size: number;
  /** set when size <= inline threshold: the whole body, to store in the metadata record */
  inline?: Buffer;
  /** set otherwise: a durable blob (fsynced, renamed, directory fsynced) */
  blobId?: string;
}

export interface ByteRange {
  /** inclusive */
  start: number;
  /** inclusive */
  end: number;
}

/**
 * Object bytes on this node's local volume. A blob becomes durable before the metadata
 * commit that makes it visible; if that commit never happens the blob is an orphan and
 * the sweeper removes it.
 */
export interface BlobStore {
  /** this node's id, recorded in versions so other gateways know where bytes live */
  readonly nodeId: string;
  /** the default inline threshold in bytes (≤ 64 KiB) */
  readonly inlineThreshold: number;
  /**
   * Consumes `source` to its end. If `source` errors (bad checksum, client gone) the temp
   * file is removed and the error is rethrown: nothing is left behind.
   */
  ingest(source: Readable, opts?: IngestOptions): Promise<IngestResult>;
  /** streams the blob or a range of it without reading the rest */
  read(blobId: string, range?: ByteRange): Readable;
  /** idempotent */
  delete(blobId: string): Promise<void>;
  /**
   * Removes temp files and blobs older than `minAgeMs` that `isReferenced` says nothing
   * points to. Returns how many files were removed.
   */
  sweepOrphans(isReferenced: (blobId: string) => Promise<boolean>, minAgeMs: number): Promise<number>;
  /** resolves once no ingest is in progress (each has published or removed its temp file) */
  idle(): Promise<void>;
}
