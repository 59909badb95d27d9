/**
 * Placing a version's bytes in chosen regions before the write is answered (a bucket whose
 * locations are a regions list, metadata/bucket-locations.ts). The wire between regions:
 *
 *   POST /.erne/internal/replication/stage?bucket=B&key=K    body: the object's bytes, streamed
 *        → msgpack StagedBytes: the bytes are durable on the receiver's volume as a blob no
 *          version refers to yet (the janitor sweeps it if no version ever does)
 *   POST /.erne/internal/replication/place                   body: msgpack PlaceOp
 *        commit  the receiver commits the version with its staged blob (conditions checked
 *                in its transaction) → { version, bucketCreatedAt }
 *        hold    the receiver stores an already committed version with its staged blob
 *        discard the receiver drops a staged blob no version refers to
 *
 * Both signed with the cluster secret (replication/cluster-auth.ts). The staged body cannot
 * be hashed before it is sent (it is streamed, never held): it is signed as UNSIGNED_BODY and
 * the receiver answers the SHA-256 of what it stored, which the sender compares with its own.
 */
import http from 'node:http';
import https from 'node:https';
import { keepAliveAgents } from '../gateway/keep-alive-agents.js';
import { Writable } from 'node:stream';
import { unpack } from 'msgpackr';
import type { ReplicatedVersion } from '../metadata/changes.js';
import type { NewObject, WriteConditions } from '../metadata/types.js';
import { signClusterRequest } from './cluster-auth.js';
import { ClusterCaller, RegionUnreachable } from './cluster-call.js';
import type { HeldBlob } from './held-apply.js';
import { regionInfo, type Topology } from './topology.js';

export const STAGE_PATH = '/.erne/internal/replication/stage';
export const PLACE_PATH = '/.erne/internal/replication/place';
/** what a streamed body is signed as (its hash is compared after it was stored) */
export const UNSIGNED_BODY = 'UNSIGNED-PAYLOAD';

/** what the receiver stored: no blob for an empty body */
export interface StagedBytes {
  size: number;
  sha256: string;
  blob?: HeldBlob;
}

export type PlaceOp =
  | { op: 'commit'; object: Omit<NewObject, 'body'>; blob?: HeldBlob; cond?: WriteConditions }
  | { op: 'hold'; bucketCreatedAt: number; version: ReplicatedVersion; blob?: HeldBlob }
  | { op: 'discard'; blob: HeldBlob };

export interface Committed {
  version: ReplicatedVersion;
  bucketCreatedAt: number;
}

/** the receiver refused an operation with an S3 error code (PreconditionFailed, NoSuchBucket …) */
export class PlaceRefused extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** the receiver could not apply it yet (its bucket has not arrived there): worth retrying */
    readonly notReady = false,
  ) {
    super(message);
    this.name = 'PlaceRefused';
  }
}

/** a stream to one region's stage endpoint: write the bytes to `sink`, then await `stored` */
export interface StageStream {
  region: string;
  sink: Writable;
  stored: Promise<StagedBytes>;
}

/** how long a region that has not yet received a bucket is asked again */
export const BUCKET_ARRIVAL_MS = 10_000;

/** a stage request silent this long (the receiver neither reads nor answers) is given up */
export const STAGE_IDLE_MS = 10_000;

const agents = keepAliveAgents();

export function stageTarget(bucket: string, key: string): string {
  return `${STAGE_PATH}?${new URLSearchParams({ bucket, key }).toString()}`;
}

export class PlacementClient {
  private readonly caller: ClusterCaller;

  constructor(private readonly topology: Topology) {
    this.caller = new ClusterCaller(topology);
  }

  get self(): string {
    return this.topology.self;
  }

  /**
   * Opens a streamed stage request to `region` (its first internal URL: a stream cannot be
   * sent again to another). `stored` rejects with RegionUnreachable when the region fails.
   */
  stage(region: string, bucket: string, key: string): StageStream {
    const base = regionInfo(this.topology, region)?.internal[0];
    if (!base) {
      const err = new RegionUnreachable(region, 'not in the cluster');
      const stored = Promise.reject(err);
      stored.catch(() => undefined);
      return { region, sink: discardSink(), stored };
    }
    const url = new URL(base);
    const target = stageTarget(bucket, key);
    const headers = signClusterRequest(this.topology.secret, { method: 'POST', target, bodySha256: UNSIGNED_BODY, region: this.topology.self });
    const secure = url.protocol === 'https:';
    let req!: http.ClientRequest;
    const stored = new Promise<StagedBytes>((resolve, reject) => {
      const fail = (why: string) => reject(new RegionUnreachable(region, why));
      req = (secure ? https : http).request(
        { protocol: url.protocol, hostname: url.hostname, port: url.port, path: target, method: 'POST', agent: agents.agentFor(secure), headers: { ...headers, 'content-type': 'application/octet-stream' } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.once('error', (e) => fail(e.message));
          res.once('end', () => {
            const raw = Buffer.concat(chunks);
            if (res.statusCode !== 200) return fail(`it answered ${res.statusCode}: ${raw.toString('utf8').trim().slice(0, 200)}`);
            try {
              resolve(unpack(raw) as StagedBytes);
            } catch {
              fail('its answer could not be read');
            }
          });
        },
      );
      req.setTimeout(STAGE_IDLE_MS, () => req.destroy(new Error(`no progress for ${STAGE_IDLE_MS / 1000} s`)));
      req.once('error', (e) => fail(e.message));
    });
    stored.catch(() => undefined);
    return { region, sink: req, stored };
  }

  /**
   * PreconditionFailed and the like: PlaceRefused; a region that does not answer:
   * RegionUnreachable. NoSuchBucket is asked again for a while: the writer knows the bucket,
   * so the committer most likely has not received it yet (it was created a moment ago).
   */
  async commit(region: string, op: Extract<PlaceOp, { op: 'commit' }>): Promise<Committed> {
    return (await this.retrying(region, op, (e) => e.code === 'NoSuchBucket')) as Committed;
  }

  /** retried while the receiver has not yet got the bucket (created a moment ago elsewhere) */
  async hold(region: string, op: Extract<PlaceOp, { op: 'hold' }>): Promise<void> {
    await this.retrying(region, op, (e) => e.notReady);
  }

  private async retrying(region: string, op: PlaceOp, again: (e: PlaceRefused) => boolean): Promise<unknown> {
    const deadline = Date.now() + BUCKET_ARRIVAL_MS;
    for (;;) {
      try {
        return await this.place(region, op);
      } catch (err) {
        if (!(err instanceof PlaceRefused && again(err)) || Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** best effort: a staged blob left behind is swept by its region's janitor anyway */
  async discard(region: string, blob: HeldBlob): Promise<void> {
    await this.place(region, { op: 'discard', blob }).catch(() => undefined);
  }

  close(): void {
    this.caller.close();
  }

  private async place(region: string, op: PlaceOp): Promise<unknown> {
    const answer = await this.caller.call(region, PLACE_PATH, op);
    if (answer.status === 200) return answer.body;
    if (answer.status === 204) return undefined;
    const body = (answer.body ?? {}) as { code?: string; message?: string };
    if (typeof body === 'object' && typeof body.code === 'string') {
      throw new PlaceRefused(body.code, body.message ?? body.code, answer.status === 409 && body.code === 'NotReady');
    }
    throw new RegionUnreachable(region, `it answered ${answer.status}`);
  }
}

/** a sink for a region that cannot be asked: swallows what is written */
function discardSink(): Writable {
  return new Writable({ write: (_c, _e, cb) => cb() });
}
