/**
 * Conflicting operations on a few shared keys, issued in every region at once (faults.test.ts):
 * PUTs, copies, DELETEs, DeleteObjects and version deletes, chosen by a seeded generator.
 * Records what was acknowledged: each PUT's version (versioned buckets) and each version
 * deleted for good, so a test can check nothing acknowledged was lost.
 */
import { CopyObjectCommand, DeleteObjectCommand, DeleteObjectsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { ProcRegion } from '../helpers/region-procs.js';
import { body } from './burst.js';
import { md5 } from './convergence.js';

export type BucketState = 'Enabled' | 'Unversioned' | 'Suspended';

const KEYS = ['hot-a', 'hot-b', 'hot-c', 'dir/hot-d'];
/** writers per region */
const WRITERS = 3;

export class ConflictRun {
  /** version ids any region acknowledged: version deletes name them, in whichever region */
  readonly known: { key: string; versionId: string }[] = [];
  /** version id → key and MD5 of each acknowledged PUT (versioned buckets) */
  readonly acked = new Map<string, { key: string; md5: string }>();
  /** version ids deleted for good by an acknowledged version delete */
  readonly purged = new Set<string>();
  readonly counts = { put: 0, copy: 0, delete: 0, batch: 0, purge: 0 };

  constructor(
    private readonly regions: ProcRegion[],
    readonly bucket: string,
    readonly state: BucketState,
    private readonly random: () => number,
  ) {}

  /** a version of each key from every region (before versioning is suspended) */
  async versionEveryKey(): Promise<void> {
    for (const key of KEYS) {
      for (const region of this.regions) {
        const res = await region.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body(`${region.name} before ${key}`, false) }));
        this.known.push({ key, versionId: res.VersionId! });
      }
    }
  }

  /** `ops` operations per writer, every writer of every region at once; a failure fails the run, naming the operation */
  async ops(ops: number, tag: string, opts: { copies?: boolean } = {}): Promise<void> {
    const plan = this.regions.flatMap((region) =>
      Array.from({ length: WRITERS }, (_, w) =>
        Array.from({ length: ops }, (_, i) => ({ region, tag: `${tag}/${region.name}/${w}/${i}`, key: KEYS[Math.floor(this.random() * KEYS.length)]!, p: this.random(), big: this.random() < 0.25 })),
      ),
    );
    await Promise.all(
      plan.map(async (list) => {
        for (const op of list) {
          try {
            await this.one(op.region, op.tag, op.key, op.p, op.big, opts.copies !== false);
          } catch (err) {
            throw new Error(`${op.region.name} ${op.tag} on ${op.key}: ${(err as Error).name}: ${(err as Error).message}`);
          }
        }
      }),
    );
  }

  private async one(region: ProcRegion, tag: string, key: string, p: number, big: boolean, copies: boolean): Promise<void> {
    const { s3 } = region;
    const Bucket = this.bucket;
    if (p < 0.5 || (p < 0.56 && !copies)) {
      const data = body(tag, big);
      const res = await s3.send(new PutObjectCommand({ Bucket, Key: key, Body: data }));
      this.counts.put += 1;
      if (res.VersionId) {
        this.known.push({ key, versionId: res.VersionId });
        this.acked.set(res.VersionId, { key, md5: md5(data) });
      }
    } else if (p < 0.56) {
      // another key's current object, wherever its bytes are (none: NoSuchKey, nothing written)
      const from = KEYS[(KEYS.indexOf(key) + 1) % KEYS.length]!;
      const res = await s3.send(new CopyObjectCommand({ Bucket, Key: key, CopySource: `${Bucket}/${from}` })).catch((err: Error) => {
        if (err.name === 'NoSuchKey') return undefined;
        throw err;
      });
      if (res) this.counts.copy += 1;
      if (res?.VersionId) this.known.push({ key, versionId: res.VersionId });
    } else if (p < 0.72 || (this.state !== 'Unversioned' && this.known.length === 0)) {
      await s3.send(new DeleteObjectCommand({ Bucket, Key: key }));
      this.counts.delete += 1;
    } else if (p < 0.8) {
      const other = KEYS[(KEYS.indexOf(key) + 2) % KEYS.length]!;
      const res = await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: key }, { Key: other }] } }));
      if (res.Errors?.length) throw new Error(`DeleteObjects: ${JSON.stringify(res.Errors)}`);
      this.counts.batch += 1;
    } else {
      // one of the versions acknowledged so far, or the null version (all an unversioned key has)
      const pick = Math.floor(p * 1e6);
      const victim = this.state !== 'Unversioned' && pick % 3 !== 0 ? this.known[pick % this.known.length]! : { key, versionId: 'null' };
      await s3.send(new DeleteObjectCommand({ Bucket, Key: victim.key, VersionId: victim.versionId }));
      if (victim.versionId !== 'null') this.purged.add(victim.versionId);
      this.counts.purge += 1;
    }
  }
}
