import type { BucketNamespace } from '../replication/bucket-namespace.js';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { RemoteBlobCache } from '../cache/remote-cache.js';
import type { BlobStore } from '../cache/types.js';
import type { BucketConfigStore } from '../metadata/bucket-config.js';
import type { MultipartLayer } from '../metadata/multipart.js';
import type { ObjectLayer } from '../metadata/object-layer.js';
import type { SigningRegions } from './auth/regions.js';
import type { AuthContext } from './auth/types.js';
import type { Operation } from './router.js';
import type { RegionBytes } from '../replication/region-bytes.js';
import type { RegionForward } from './forward/proxy.js';
import type { ReplicatedVersion } from '../metadata/changes.js';
import type { ObjectVersion } from '../metadata/types.js';
import type { HeldBlob } from '../replication/held-apply.js';
import type { PlacementClient } from '../replication/placement.js';

/** in a cluster: placing bytes in the regions a bucket lists (gateway/ops/placed-put.ts) */
export interface Placement {
  client: PlacementClient;
  /** stores a version committed elsewhere here, with this region's blob or (none) the committer's bytes */
  hereApply(bucketCreatedAt: number, version: ReplicatedVersion, blob: HeldBlob | undefined): Promise<void>;
  /** drops a blob this node staged for a write that did not happen */
  discardHere(blob: HeldBlob): Promise<void>;
}
import type { Forwarded } from './forward/forward-auth.js';
import type { ClusterUploadLister } from '../replication/cluster-uploads.js';
import type { BucketRecord } from '../metadata/types.js';
import type { ShadowServices } from './shadow/hooks.js';

/** What the handlers can reach: the region's metadata and this node's volume. */
export interface Services {
  layer: ObjectLayer;
  /** multipart uploads and the part index of multipart objects */
  multipart: MultipartLayer;
  blobs: BlobStore;
  region: string;
  /**
   * The regions of this cluster a LocationConstraint may name (this gateway's own first);
   * `us-east-1` is accepted besides them, meaning no constraint, as S3 reads it.
   */
  regions: readonly string[];
  /** the SigV4 regions requests may be signed for (gateway/auth/regions.ts) */
  signingRegions: SigningRegions;
  /** per-bucket configuration documents (CORS, lifecycle, tags, ACLs) */
  configs: BucketConfigStore;
  /** copies of other nodes' blobs (gateway/remote-blob.ts); absent: only local bytes are readable */
  remote?: RemoteBlobCache;
  /** bytes other regions hold, read through this region's cache of them (replication/region-bytes.ts); absent outside a cluster */
  regionBytes?: RegionBytes;
  /** in a cluster: CreateBucket/DeleteBucket go through the control region (replication/bucket-namespace.ts) */
  namespace?: Pick<BucketNamespace, 'create' | 'delete'>;
  /** in a cluster: sends a request on to the region it belongs to (gateway/forward/: multipart uploads, home-region buckets, consistent requests) */
  forward?: RegionForward;
  /** in a cluster: ListMultipartUploads over every region's uploads (replication/cluster-uploads.ts); absent: this region's only */
  clusterUploads?: ClusterUploadLister;
  /** in a cluster: pushes a write's bytes to the regions its bucket lists */
  placement?: Placement;
  /** a pass of this node's janitor (frees released multipart parts and garbage blobs now) */
  upkeep?: () => Promise<void>;
  /** in a cluster: x-amz-replication-status of a version (PENDING, COMPLETED, REPLICA) */
  replicationStatus?: (v: ObjectVersion) => Promise<string>;
  /** in a cluster: the region that decides bucket creation and deletion */
  control?: string;
  /** in a cluster: a bucket's home region, the leader of its keys (replication/bucket-home.ts) */
  homeOf?: (bucket: BucketRecord) => string;
  /** in a cluster: which region forwarded this request here, if one did (gateway/forward/forward-auth.ts) */
  forwardedBy?: (req: IncomingMessage) => Forwarded | undefined;
  /** shadow buckets' read-through copies and migrations (gateway/shadow/); absent: shadows are ignored */
  shadow?: ShadowServices;
  /** Signature Version 2 requests and POST forms are accepted unless this is false (erne serve --no-sigv2) */
  sigv2?: boolean;
}

export type Headers = Record<string, string | string[] | undefined>;

/** One S3 request after addressing, authentication and dispatch. */
export interface OpContext {
  requestId: string;
  op: Operation;
  bucket: string;
  key: string;
  query: URLSearchParams;
  headers: Headers;
  req: IncomingMessage;
  auth: AuthContext;
  svc: Services;
}

/** Handlers return data; gateway/respond.ts is the one place that writes it out. */
export interface OpResult {
  status?: number;
  headers?: Record<string, string | number | undefined>;
  /** rendered as an S3 XML document with this root element */
  /** `tail`: children rendered in this order after `value`'s (renderElement), for siblings of different names */
  xml?: { root: string; value: Record<string, unknown>; tail?: readonly string[] };
  /** a streamed body (object bytes) or a small ready one */
  body?: Readable | Buffer | string;
}

export function header(h: Headers, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(',') : v;
}

export type Handler = (ctx: OpContext) => Promise<OpResult>;
/** operation name → handler; each file of gateway/ops exports one for its group */
export type HandlerTable = Partial<Record<string, Handler>>;
