/**
 * A shadow bucket's migration: every object of the source copied in, in the background of the
 * gateway that was asked (through the admin API). It first counts the source (for progress),
 * then walks it in key order; a key already here is skipped, a missing one is copied through
 * the same shared copy as a read miss (gateway/shadow/fill.ts). Its state (MigrationState,
 * with the last key handled as cursor) is a bucket config, written every CURSOR_EVERY keys:
 * after a crash the gateway of the region that ran it resumes after the cursor on start.
 */
import type { BucketConfigStore } from '../../metadata/bucket-config.js';
import type { ObjectLayer } from '../../metadata/object-layer.js';
import type { ShadowFills } from './fill.js';
import { ShadowSource } from './source.js';
import { MIGRATION_KIND, SHADOW_KIND, type MigrationState, type ShadowConfig } from './types.js';

const PAGE = 1000;
const CURSOR_EVERY = 20;
/** how long a shutdown waits for migrations to reach their next key */
const CLOSE_WAIT_MS = 5_000;

export interface MigrationDeps {
  layer: ObjectLayer;
  configs: BucketConfigStore;
  fills: ShadowFills;
  region: string;
  log?: (line: string) => void;
}

/** refusals of a migration request; the admin layer turns them into its errors */
export class MigrationRefused extends Error {
  override readonly name = 'MigrationRefused';
}

export class Migrations {
  private readonly running = new Map<string, Promise<void>>();
  private stopping = false;

  constructor(private readonly d: MigrationDeps) {}

  /** starts the bucket's migration (resumes one left running; starts over after one done) and returns its state */
  async start(bucket: string): Promise<MigrationState> {
    if (this.stopping) throw new MigrationRefused('this gateway is shutting down');
    const config = await this.d.configs.get<ShadowConfig>(bucket, SHADOW_KIND);
    if (!config) throw new MigrationRefused(`bucket ${bucket} has no shadow source to migrate from (erne storage update ${bucket} --shadow-endpoint … first)`);
    const state = await this.d.configs.get<MigrationState>(bucket, MIGRATION_KIND);
    if (this.running.has(bucket) && state) return state;
    // one cut short (or failed) goes on after its cursor; one done starts a new pass
    const resumed = state && state.state !== 'done' ? (({ error: _e, finishedAt: _f, ...rest }) => rest)(state) : undefined;
    const fresh: MigrationState = resumed ? { ...resumed, state: 'running', region: this.d.region } : { state: 'running', region: this.d.region, copied: 0, skipped: 0, startedAt: Date.now() };
    await this.d.configs.put(bucket, MIGRATION_KIND, fresh);
    this.launch(bucket, config, fresh);
    return fresh;
  }

  async state(bucket: string): Promise<MigrationState | undefined> {
    return this.d.configs.get<MigrationState>(bucket, MIGRATION_KIND);
  }

  /** on start: migrations this region ran that were cut short go on */
  async resumeAll(): Promise<void> {
    for (const b of await this.d.layer.listBuckets()) {
      const state = await this.d.configs.get<MigrationState>(b.name, MIGRATION_KIND);
      const config = await this.d.configs.get<ShadowConfig>(b.name, SHADOW_KIND);
      if (state?.state !== 'running' || state.region !== this.d.region || !config || this.running.has(b.name)) continue;
      this.d.log?.(`shadow: resuming the migration of ${b.name} after ${state.cursor === undefined ? 'nothing' : JSON.stringify(state.cursor)}`);
      this.launch(b.name, config, state);
    }
  }

  /** stops every migration at its next key (their state says running: the next start resumes them) */
  async close(): Promise<void> {
    this.stopping = true;
    // a source that hangs does not hold the shutdown: the cursor saved last is where it resumes
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled(this.running.values()), new Promise((r) => (timer = setTimeout(r, CLOSE_WAIT_MS)))]);
    clearTimeout(timer);
  }

  private launch(bucket: string, config: ShadowConfig, state: MigrationState): void {
    const run = this.run(bucket, config, { ...state })
      .catch(async (err: unknown) => {
        this.d.log?.(`shadow: the migration of ${bucket} failed: ${(err as Error).message}`);
        const now = (await this.state(bucket).catch(() => undefined)) ?? state;
        await this.d.configs.put(bucket, MIGRATION_KIND, { ...now, state: 'failed', error: (err as Error).message, finishedAt: Date.now() }).catch(() => undefined);
      })
      .finally(() => this.running.delete(bucket));
    this.running.set(bucket, run);
  }

  private async run(bucket: string, config: ShadowConfig, s: MigrationState): Promise<void> {
    const source = new ShadowSource(config);
    const save = () => this.d.configs.put(bucket, MIGRATION_KIND, s);
    if (s.total === undefined) {
      let total = 0;
      for (let token: string | undefined, more = true; more && !this.stopping; ) {
        const page = await source.list({ maxKeys: PAGE, ...(token ? { continuationToken: token } : {}) });
        total += page.contents.length;
        token = page.nextContinuationToken;
        more = page.isTruncated && token !== undefined;
      }
      if (this.stopping) return;
      s.total = total;
      await save();
    }
    let sinceSave = 0;
    for (let token: string | undefined, more = true; more; ) {
      const page = await source.list({ maxKeys: PAGE, ...(token ? { continuationToken: token } : s.cursor !== undefined ? { startAfter: s.cursor } : {}) });
      for (const entry of page.contents) {
        if (this.stopping) return save();
        const b = await this.d.layer.getBucket(bucket);
        const here = await this.d.layer.getObject(bucket, entry.key).then(
          () => true,
          (err: unknown) => {
            if ((err as { code?: unknown }).code === 'NoSuchKey') return false;
            throw err;
          },
        );
        if (here) s.skipped++;
        else {
          const fill = await this.d.fills.fill(b, config, entry.key, false);
          // gone from the source since it was listed: nothing to copy
          if ((await fill.outcome) === 'stored') s.copied++;
        }
        s.cursor = entry.key;
        if (++sinceSave >= CURSOR_EVERY) {
          sinceSave = 0;
          await save();
        }
      }
      token = page.nextContinuationToken;
      more = page.isTruncated && token !== undefined;
      await save();
    }
    s.state = 'done';
    s.finishedAt = Date.now();
    await save();
    this.d.log?.(`shadow: the migration of ${bucket} is done: ${s.copied} copied, ${s.skipped} already here`);
  }
}
