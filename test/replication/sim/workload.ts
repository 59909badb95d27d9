/**
 * The clients: each write goes to a random region — PUT (sometimes with tags), DELETE, DELETE
 * of a version, a tag change — on a versioned or an unversioned bucket, through the real
 * object layer. Its record says what it committed (capture.ts) and whether the client heard
 * back: a region that is down refuses it; a region that committed it may lose the answer.
 */
import type { Change } from '../../../metadata/changes.js';
import { BUCKETS, REGIONS, type World } from './world.js';

export interface WriteRecord {
  n: number;
  at: number;
  region: string;
  what: string;
  outcome: 'acknowledged' | 'committed, answer lost' | 'refused: region down' | 'failed';
  /** what its transaction committed (nothing if it failed or was refused) */
  changes: Change[];
}

export class Workload {
  readonly writes: WriteRecord[] = [];
  /** every version id a write made, by bucket/key (a DELETE of a version may name one not here yet) */
  private ids = new Map<string, string[]>();

  constructor(
    private readonly w: World,
    private readonly keys: string[],
  ) {}

  async write(n: number): Promise<void> {
    const { rng, sched, log } = this.w;
    const r = rng.pick(REGIONS);
    const region = this.w.regions.get(r)!;
    const bucket = rng.pick(BUCKETS);
    const key = rng.pick(this.keys);
    const kind = rng.float();
    const rec: WriteRecord = { n, at: sched.now, region: r, what: '', outcome: 'failed', changes: [] };
    this.writes.push(rec);
    const proc = region.proc;
    const anywhere = this.idsOf(bucket.name, key);
    let run: () => Promise<unknown>;
    if (kind < 0.45) {
      const text = `w${n}`;
      const tags = rng.chance(0.2) ? { t: `put${n}` } : undefined;
      rec.what = `PUT ${bucket.name}/${key} ${text}${tags ? ' tagged' : ''}`;
      run = () => proc!.layer.putObject({ bucket: bucket.name, key, size: text.length, etag: `e${n}`, owner: 'AK1', headers: {}, userMetadata: {}, checksums: {}, body: { kind: 'inline', data: Buffer.from(text) }, ...(tags ? { tags } : {}) });
    } else if (kind < 0.65) {
      rec.what = `DELETE ${bucket.name}/${key}`;
      run = () => proc!.layer.deleteObject(bucket.name, key);
    } else if (kind < 0.8 && bucket.versioning === 'Enabled') {
      // mostly a version this region holds; else one written anywhere (maybe not here yet)
      const mine = proc ? (await proc.layer.listObjectVersions({ bucket: bucket.name, prefix: key, maxKeys: 50 })).versions.filter((v) => v.version.key === key) : [];
      const vid = mine.length > 0 && (anywhere.length === 0 || rng.chance(0.7)) ? rng.pick(mine).version.versionId : anywhere.length > 0 ? rng.pick(anywhere) : 'none';
      rec.what = `DELETE ${bucket.name}/${key}?versionId=${vid.slice(0, 20)}…`;
      run = () => proc!.layer.deleteObject(bucket.name, key, vid);
    } else {
      const versionId = bucket.versioning === 'Enabled' && anywhere.length > 0 && rng.chance(0.3) ? rng.pick(anywhere) : undefined;
      rec.what = `PUT ${bucket.name}/${key}?tagging${versionId ? ' of a version' : ''} t=tag${n}`;
      run = () => proc!.layer.setObjectTags(bucket.name, key, versionId, { t: `tag${n}` });
    }
    if (!proc) {
      rec.outcome = 'refused: region down';
    } else {
      const got = await region.capture.around(run);
      rec.changes = got.changes;
      this.w.history.push(...got.changes);
      for (const c of got.changes) if (c.kind === 'version') this.ids.set(`${c.version.bucket}/${c.version.key}`, [...this.idsOf(c.version.bucket, c.version.key), c.version.versionId]);
      // an error after a commit (none of these operations has one) would still leave the write committed
      if (got.changes.length > 0) rec.outcome = got.error === undefined && !rng.chance(0.1) ? 'acknowledged' : 'committed, answer lost';
      else rec.outcome = got.error === undefined ? 'acknowledged' : 'failed';
      if (got.changes.length > 0) region.kick();
    }
    log(`${r} client #${n} ${rec.what}: ${rec.outcome}${rec.changes.length ? ' → ' + rec.changes.map(describe).join(', ') : ''}`);
  }

  private idsOf(bucket: string, key: string): string[] {
    return this.ids.get(`${bucket}/${key}`) ?? [];
  }
}

function describe(c: Change): string {
  const id = (s: string) => s.slice(0, 20) + '…' + s.slice(20);
  if (c.kind === 'version') return `${c.erase ? 'erase' : c.version.deleteMarker ? 'marker' : 'version'} ${id(c.version.versionId)}`;
  if (c.kind === 'purge') return `purge ${id(c.versionId)}`;
  if (c.kind === 'version-register') return `tags ${id(c.versionId)} @${id(c.stamp)}`;
  return c.kind;
}
