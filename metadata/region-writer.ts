/**
 * What every metadata write of a region shares: its clock and its change sink. Stamps are the
 * times a region writes with. A new version's id and the stamp of a register
 * write (tags, ACL, a bucket setting, an access key) are version-id strings made from this
 * region's HLC; both sort after whatever the record they replace already carries, so a write
 * made here always wins over what this region has seen, even when a remote clock runs ahead.
 */
import type { Change, ChangeSink } from './changes.js';
import { compareHlc, HybridClock } from './hlc.js';
import type { KvTransaction } from './kv.js';
import type { Hlc } from './types.js';
import { makeVersionId, parseVersionId } from './version-id.js';

/** how a metadata writer replicates: shared by the object layer and the bucket-config store */
export interface WriterOptions {
  region: string;
  /** called inside the transaction of every replicated write; absent: one region, nothing replicates */
  changes?: ChangeSink;
  /** the region's clock; give the same one to every writer of a process */
  clock?: HybridClock;
}

export class RegionWriter {
  readonly region: string;
  private readonly clock: HybridClock;
  private readonly sink: ChangeSink | undefined;

  constructor(opts: WriterOptions) {
    makeVersionId({ wall: 0, logical: 0 }, opts.region); // refuses a region no id can carry
    this.region = opts.region;
    this.clock = opts.clock ?? new HybridClock();
    this.sink = opts.changes;
  }

  /** records a replicated change in the write's own transaction (nothing in a single region) */
  emit(tx: KvTransaction, change: Change): void {
    this.sink?.(tx, change);
  }

  /** an HLC newer than every one this clock issued and than each floor given */
  hlcAfter(...floors: (Hlc | undefined)[]): Hlc {
    let hlc = this.clock.now();
    for (const f of floors) if (f && compareHlc(f, hlc) >= 0) hlc = this.clock.update(f);
    return hlc;
  }

  /** a stamp newer than each of the given stamps or version ids */
  stampAfter(...ids: (string | undefined)[]): string {
    return makeVersionId(this.hlcAfter(...ids.map((id) => (id === undefined ? undefined : parseVersionId(id)?.hlc))), this.region);
  }

  /** a remote time seen: nothing issued here afterwards is older */
  observe(hlc: Hlc): void {
    this.clock.update(hlc);
  }
}
