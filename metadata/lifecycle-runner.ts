/**
 * The lifecycle job: applies every bucket's enabled lifecycle rules in bounded batches.
 * - Expiration (Days / Date): current versions are deleted through the object layer, so a
 *   versioned bucket gets a delete marker and an unversioned one loses the object.
 * - NoncurrentVersionExpiration: noncurrent versions (and noncurrent delete markers) are
 *   removed by version id, counted from when their successor was written.
 * - Expiration ExpiredObjectDeleteMarker: a delete marker that is the only version left of its
 *   key is removed (once the last noncurrent version went, on the next pass).
 * - AbortIncompleteMultipartUpload: open uploads older than the rule are aborted.
 * In a cluster, expiry runs only in the bucket's home region (`expiresHere`): its delete
 * markers and removals replicate like any write, so regions do not each invent their own.
 * Aborting uploads runs in every region: upload records stay in the region that made them.
 * Each pass reads pages of ≤ 1000 entries and stops after `maxActionsPerRun` actions; the
 * next pass carries on. A deletion is flushed only after the next page was read, so a
 * listing never resumes from a version it has just removed.
 */
import type { BucketConfigStore } from './bucket-config.js';
import { currentExpired, filterMatches, noncurrentExpired, uploadAbortDue, type LifecycleRule } from './lifecycle-rules.js';
import type { MultipartLayer } from './multipart.js';
import type { ObjectLayer } from './object-layer.js';
import type { BucketRecord, DeleteItem, ObjectVersion } from './types.js';

export const LIFECYCLE_CONFIG_KIND = 'lifecycle';

export interface LifecycleDeps {
  layer: ObjectLayer;
  configs: BucketConfigStore;
  /** without it, AbortIncompleteMultipartUpload rules wait */
  multipart?: Pick<MultipartLayer, 'listUploads' | 'abortUpload'>;
}

export interface LifecycleOptions {
  /** between passes; default one hour */
  intervalMs?: number;
  /** the job's clock (tests move it forward by days) */
  now?: () => number;
  /** actions per pass at most; default 10,000 */
  maxActionsPerRun?: number;
  log?: (line: string) => void;
  /** whether this region expires the bucket's objects (in a cluster: only its home does); default every bucket */
  expiresHere?: (bucket: BucketRecord) => boolean;
}

export interface LifecycleStats {
  expired: number;
  noncurrentExpired: number;
  deleteMarkersRemoved: number;
  uploadsAborted: number;
}

export interface LifecycleJob {
  /** one pass over every bucket (waits for a pass already running) */
  runOnce(): Promise<LifecycleStats>;
  stop(): Promise<void>;
}

const PAGE = 1000;
const FLUSH = 100;

const s3Id = (v: ObjectVersion): string => (v.isNull ? 'null' : v.versionId);

class Pass {
  readonly stats: LifecycleStats = { expired: 0, noncurrentExpired: 0, deleteMarkersRemoved: 0, uploadsAborted: 0 };
  private budget: number;

  constructor(
    private readonly deps: LifecycleDeps,
    private readonly now: number,
    maxActions: number,
  ) {
    this.budget = maxActions;
  }

  get exhausted(): boolean {
    return this.budget <= 0;
  }

  /** `expire` false: only this region's own uploads are looked at (another region expires the objects) */
  async bucket(b: BucketRecord, rules: LifecycleRule[], expire: boolean): Promise<void> {
    if (expire) await this.expire(b, rules);
    if (rules.some((r) => r.abortIncompleteMultipartUploadDays !== undefined)) await this.abortUploads(b, rules);
  }

  private async expire(b: BucketRecord, rules: LifecycleRule[]): Promise<void> {
    if (rules.some((r) => r.expiration?.days !== undefined || r.expiration?.date !== undefined)) await this.expireCurrent(b, rules);
    const versionRules = rules.some((r) => r.noncurrentExpiration || r.expiration?.expiredObjectDeleteMarker);
    if (versionRules && b.versioning !== 'Unversioned') await this.expireVersions(b, rules);
  }

  private async deleteAll(bucket: string, items: DeleteItem[]): Promise<number> {
    let done = 0;
    for (let i = 0; i < items.length; i += FLUSH) {
      const results = await this.deps.layer.deleteObjects(bucket, items.slice(i, i + FLUSH));
      done += results.filter((r) => !('error' in r) && !r.skipped).length;
    }
    return done;
  }

  private take(n = 1): boolean {
    if (this.budget < n) return false;
    this.budget -= n;
    return true;
  }

  private async expireCurrent(b: BucketRecord, rules: LifecycleRule[]): Promise<void> {
    let after: string | undefined;
    for (;;) {
      const page = await this.deps.layer.listObjects({ bucket: b.name, maxKeys: PAGE, ...(after !== undefined ? { after } : {}) });
      const due = page.contents.filter((v) => rules.some((r) => filterMatches(r.filter, v.key, v.tags, v.size) && currentExpired(r, v.lastModified, this.now)));
      const items: DeleteItem[] = [];
      // only while the listed version is still current: a PUT that lands meanwhile is not expired
      for (const v of due) if (this.take()) items.push({ key: v.key, ifCurrent: v.versionId });
      // without a version id: a versioned bucket keeps the version and gets a delete marker
      this.stats.expired += await this.deleteAll(b.name, items);
      if (!page.isTruncated || page.last === undefined || this.exhausted) return;
      after = page.last;
    }
  }

  private async expireVersions(b: BucketRecord, rules: LifecycleRule[]): Promise<void> {
    let marker: { keyMarker?: string; versionIdMarker?: string } = {};
    let pending: { key: string; versionId: string; marker: boolean }[] = [];
    // state of the key being walked (its versions come newest first, possibly over pages)
    let key: string | undefined;
    let successorTime = 0;
    let noncurrentSeen = 0;
    let count = 0;
    let latestMarker: ObjectVersion | undefined;
    const finishKey = () => {
      if (key === undefined || !latestMarker || count !== 1) return;
      const m = latestMarker;
      const rule = rules.find((r) => r.expiration?.expiredObjectDeleteMarker && filterMatches(r.filter, m.key, undefined, 0));
      if (rule && this.take()) pending.push({ key: m.key, versionId: s3Id(m), marker: true });
    };
    const flush = async (items: typeof pending) => {
      const markers = items.filter((i) => i.marker).length;
      const done = await this.deleteAll(b.name, items.map(({ key: k, versionId }) => ({ key: k, versionId })));
      this.stats.deleteMarkersRemoved += Math.min(markers, done);
      this.stats.noncurrentExpired += Math.max(0, done - markers);
    };
    for (;;) {
      const page = await this.deps.layer.listObjectVersions({ bucket: b.name, maxKeys: PAGE, ...marker });
      await flush(pending); // the previous page's deletions, now that this page is read
      pending = [];
      for (const { version: v, isLatest } of page.versions) {
        if (v.key !== key) {
          finishKey();
          key = v.key;
          noncurrentSeen = 0;
          count = 0;
          latestMarker = undefined;
        }
        count++;
        if (isLatest) {
          if (v.deleteMarker) latestMarker = v;
        } else {
          const due = rules.some((r) => filterMatches(r.filter, v.key, v.tags, v.size) && noncurrentExpired(r, successorTime, noncurrentSeen, this.now));
          if (due && this.take()) pending.push({ key: v.key, versionId: s3Id(v), marker: false });
          noncurrentSeen++;
        }
        successorTime = v.lastModified;
      }
      if (!page.isTruncated || this.exhausted) {
        if (!page.isTruncated) finishKey();
        await flush(pending);
        return;
      }
      marker = { ...(page.nextKeyMarker !== undefined ? { keyMarker: page.nextKeyMarker } : {}), ...(page.nextVersionIdMarker !== undefined ? { versionIdMarker: page.nextVersionIdMarker } : {}) };
    }
  }

  private async abortUploads(b: BucketRecord, rules: LifecycleRule[]): Promise<void> {
    const mp = this.deps.multipart;
    if (!mp) return;
    let marker: { keyMarker?: string; uploadIdMarker?: string } = {};
    for (;;) {
      const page = await mp.listUploads({ bucket: b.name, maxUploads: PAGE, ...marker });
      for (const u of page.uploads) {
        if (u.state !== 'open') continue;
        const due = rules.some((r) => filterMatches(r.filter, u.key, undefined, 0) && uploadAbortDue(r, u.initiated, this.now));
        if (!due || !this.take()) continue;
        try {
          await mp.abortUpload(b.name, u.key, u.uploadId);
          this.stats.uploadsAborted++;
        } catch (err) {
          if ((err as { code?: string }).code !== 'NoSuchUpload') throw err;
        }
      }
      if (!page.isTruncated || this.exhausted) return;
      marker = { ...(page.nextKeyMarker !== undefined ? { keyMarker: page.nextKeyMarker } : {}), ...(page.nextUploadIdMarker !== undefined ? { uploadIdMarker: page.nextUploadIdMarker } : {}) };
    }
  }
}

/** The job without a timer: `runOnce` passes on demand (tests, `erne` commands). */
export function createLifecycleJob(deps: LifecycleDeps, opts: LifecycleOptions = {}): LifecycleJob {
  const now = opts.now ?? Date.now;
  const maxActions = opts.maxActionsPerRun ?? 10_000;
  let running: Promise<LifecycleStats> | undefined;
  const pass = async (): Promise<LifecycleStats> => {
    const p = new Pass(deps, now(), maxActions);
    for (const b of await deps.layer.listBuckets()) {
      if (p.exhausted) break;
      const rules = (await deps.configs.get<LifecycleRule[]>(b.name, LIFECYCLE_CONFIG_KIND))?.filter((r) => r.enabled);
      if (!rules?.length) continue;
      try {
        await p.bucket(b, rules, opts.expiresHere?.(b) ?? true);
      } catch (err) {
        // a bucket deleted meanwhile, or a transient failure: the next pass tries again
        if ((err as { code?: string }).code !== 'NoSuchBucket') opts.log?.(`lifecycle: bucket ${b.name}: ${(err as Error).message}`);
      }
    }
    return p.stats;
  };
  return {
    runOnce() {
      const next = (running ?? Promise.resolve()).catch(() => undefined).then(pass);
      running = next;
      return next;
    },
    async stop() {
      await running?.catch(() => undefined);
    },
  };
}

/** The job on an unref'd timer: a pass every `intervalMs` (never two at once). */
export function startLifecycle(deps: LifecycleDeps, opts: LifecycleOptions = {}): LifecycleJob {
  const job = createLifecycleJob(deps, opts);
  const interval = opts.intervalMs ?? 60 * 60 * 1000;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      job
        .runOnce()
        .catch((err: unknown) => opts.log?.(`lifecycle pass failed: ${(err as Error).message}`))
        .finally(schedule);
    }, interval);
    timer.unref();
  };
  schedule();
  return {
    runOnce: () => job.runOnce(),
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await job.stop();
    },
  };
}
