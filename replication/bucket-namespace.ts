/**
 * Bucket names are global and CreateBucket/DeleteBucket are linearizable: the topology's
 * control region decides them in its own metadata, and its decision travels to every region
 * as a bucket-created / bucket-deleted change (the outbox). The region that took the request
 * also applies the decision at once, so its client reads its own write.
 *
 * DeleteBucket loses nothing another region acknowledged: the control region asks every
 * region to close the bucket (metadata/bucket-closing.ts: closed only where it holds nothing,
 * and from then on refusing new versions). Only when every region answered "empty" is it
 * deleted; otherwise every mark is taken back and the answer is BucketNotEmpty, or 503 when a
 * region could not be asked. Object traffic never goes through the control region.
 */
import { randomUUID } from 'node:crypto';
import { closeIfEmpty, reopen, type CloseAnswer } from '../metadata/bucket-closing.js';
import type { BucketConfigStore } from '../metadata/bucket-config.js';
import type { Change } from '../metadata/changes.js';
import { MetadataError, type MetadataErrorCode } from '../metadata/errors.js';
import type { KvStore } from '../metadata/kv.js';
import type { ObjectLayer } from '../metadata/object-layer.js';
import type { BucketRecord, Hlc } from '../metadata/types.js';
import { makeVersionId } from '../metadata/version-id.js';
import { applyChanges } from './apply.js';
import { ClusterCaller, RegionUnreachable } from './cluster-call.js';
import type { Topology } from './topology.js';

export const BUCKET_PATH = '/.erne/internal/replication/bucket';

export type NewBucket = Omit<BucketRecord, 'createdAt' | 'versioning' | 'acl'> & Partial<BucketRecord>;

/** what travels to the bucket endpoint */
export type BucketOp =
  | { op: 'create'; bucket: NewBucket }
  | { op: 'delete'; name: string }
  | { op: 'close'; name: string; createdAt: number; token: string }
  | { op: 'reopen'; name: string; token: string };

/** the endpoint's answer: a result, or an S3 error code */
export type BucketOpAnswer = { status: number; body?: unknown };

export interface NamespaceDeps {
  topology: Topology;
  kv: KvStore;
  layer: ObjectLayer;
  configs: BucketConfigStore;
  observe?: (hlc: Hlc) => void;
  log?: (line: string) => void;
}

export class BucketNamespace {
  private readonly caller: ClusterCaller;
  readonly control: string;

  constructor(private readonly d: NamespaceDeps) {
    this.caller = new ClusterCaller(d.topology);
    this.control = d.topology.control;
  }

  private get isControl(): boolean {
    return this.d.topology.self === this.control;
  }

  /** CreateBucket, decided by the control region; MetadataError as the local layer would throw */
  async create(bucket: NewBucket): Promise<BucketRecord> {
    if (this.isControl) return this.d.layer.createBucket(bucket);
    const answer = await this.ask({ op: 'create', bucket });
    const record = (answer as { record: BucketRecord }).record;
    await this.applyHere({ kind: 'bucket-created', record, stamp: stampOf(record.createdAt, this.control) });
    return record;
  }

  /** DeleteBucket, decided by the control region after every region closed the bucket */
  async delete(name: string): Promise<void> {
    if (this.isControl) {
      await this.deleteAsControl(name);
      return;
    }
    const answer = (await this.ask({ op: 'delete', name })) as { createdAt: number };
    await this.applyHere({ kind: 'bucket-deleted', name, createdAt: answer.createdAt, stamp: stampOf(answer.createdAt + 1, this.control) });
  }

  /** the endpoint side of a BucketOp (gateway/internal-replication.ts) */
  async handle(op: BucketOp): Promise<BucketOpAnswer> {
    try {
      switch (op.op) {
        case 'create':
          if (!this.isControl) return notControl(this.control);
          return { status: 200, body: { record: await this.d.layer.createBucket(op.bucket) } };
        case 'delete':
          if (!this.isControl) return notControl(this.control);
          return { status: 200, body: { createdAt: await this.deleteAsControl(op.name) } };
        case 'close':
          return { status: 200, body: { answer: await closeIfEmpty(this.d.kv, op.name, op.createdAt, op.token) } };
        case 'reopen':
          await reopen(this.d.kv, op.name, op.token);
          return { status: 200, body: {} };
      }
    } catch (err) {
      if (err instanceof MetadataError) return { status: 409, body: { code: err.code, message: err.message } };
      throw err;
    }
  }

  close(): void {
    this.caller.close();
  }

  /** closes the bucket everywhere, deletes it when every region is empty; its createdAt */
  private async deleteAsControl(name: string): Promise<number> {
    const b = await this.d.layer.getBucket(name);
    const token = randomUUID();
    const regions = this.d.topology.regions.map((r) => r.name);
    const answers = await Promise.all(regions.map((r) => this.closeIn(r, name, b.createdAt, token)));
    const unreachable = regions.filter((_, i) => answers[i] === 'unreachable');
    if (answers.every((a) => a === 'empty')) {
      await this.d.layer.deleteBucket(name);
      // the deletion reaches the others through the outbox; they drop their own configuration
      await this.d.configs.clearBucket(name);
      return b.createdAt;
    }
    // take every mark back; a region that cannot be told keeps refusing writes to the bucket
    // until a later DeleteBucket reopens or deletes it
    await Promise.all(regions.map((r) => this.reopenIn(r, name, token)));
    if (unreachable.length > 0) {
      throw new MetadataError('ServiceUnavailable', `DeleteBucket needs every region, and ${unreachable.join(', ')} cannot be reached now; nothing was deleted.`);
    }
    throw new MetadataError('BucketNotEmpty', 'The bucket you tried to delete is not empty (in some region of the cluster).');
  }

  private async closeIn(region: string, name: string, createdAt: number, token: string): Promise<CloseAnswer | 'unreachable'> {
    if (region === this.d.topology.self) return closeIfEmpty(this.d.kv, name, createdAt, token);
    try {
      const r = await this.caller.call(region, BUCKET_PATH, { op: 'close', name, createdAt, token } satisfies BucketOp);
      const answer = (r.body as { answer?: CloseAnswer } | undefined)?.answer;
      return r.status === 200 && (answer === 'empty' || answer === 'not-empty') ? answer : 'unreachable';
    } catch (err) {
      if (err instanceof RegionUnreachable) return 'unreachable';
      throw err;
    }
  }

  private async reopenIn(region: string, name: string, token: string): Promise<void> {
    if (region === this.d.topology.self) return reopen(this.d.kv, name, token);
    await this.caller.call(region, BUCKET_PATH, { op: 'reopen', name, token } satisfies BucketOp).catch((err: Error) => {
      this.d.log?.(`bucket ${name}: could not reopen it in ${region} (${err.message}); it refuses writes until a DeleteBucket runs again`);
    });
  }

  /** asks the control region; its errors come back as the MetadataError it threw */
  private async ask(op: BucketOp): Promise<unknown> {
    let r;
    try {
      r = await this.caller.call(this.control, BUCKET_PATH, op);
    } catch (err) {
      if (err instanceof RegionUnreachable) {
        throw new MetadataError('ServiceUnavailable', `Bucket names are decided by the control region ${this.control}, which cannot be reached now.`);
      }
      throw err;
    }
    const body = r.body as { code?: MetadataErrorCode; message?: string } | undefined;
    if (r.status === 200) return body;
    if (r.status === 409 && body?.code) throw new MetadataError(body.code, body.message);
    throw new MetadataError('ServiceUnavailable', `The control region ${this.control} could not decide: ${r.status} ${typeof r.body === 'string' ? r.body : ''}`.trim());
  }

  private async applyHere(change: Change): Promise<void> {
    await applyChanges(this.d.kv, [change], { observe: this.d.observe });
  }
}

function notControl(control: string): BucketOpAnswer {
  return { status: 409, body: { code: 'ServiceUnavailable', message: `bucket names are decided by ${control}` } };
}

/** a stamp for a bucket change applied ahead of its outbox copy (outbox ids only use it) */
function stampOf(wall: number, region: string): string {
  return makeVersionId({ wall, logical: 0 }, region, null);
}
