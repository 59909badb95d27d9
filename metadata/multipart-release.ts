/**
 * Freeing multipart parts in bounded transactions. A request (abort) or a dropped version
 * only queues the upload ('mr'); the janitor then moves its parts' blobs into the object
 * layer's garbage queue ('g') a batch at a time and the garbage pass deletes the files.
 * Completion queues a trim ('mt') for the parts it did not name.
 */
import { finishDrops } from './bucket-drop.js';
import type { KvStore, KvTransaction } from './kv.js';
import {
  decodePart,
  kDone,
  kGarbage,
  kPart,
  kPartRef,
  kRelease,
  kTrim,
  range,
  type PartRecord,
} from './multipart-records.js';
import { decode, encode } from './records.js';
import { keyAfter, pack, unpackAfter } from './tuple.js';

/** part records handled per transaction: well under FDB's 10 MB / 5 s */
export const RELEASE_BATCH = 500;

/**
 * Called in the transaction that drops a version whose bytes are a completed multipart
 * upload's parts. It stays bounded (an upload may have 10,000 parts): it only queues the
 * upload; the janitor releases the parts' blobs in bounded batches.
 */
export async function releaseParts(tx: KvTransaction, uploadId: string): Promise<void> {
  tx.set(kRelease(uploadId), Buffer.alloc(0));
}

/** clears one part record and its blob reference; its blob becomes garbage */
export function freePart(tx: KvTransaction, uploadId: string, p: PartRecord): void {
  tx.clear(kPart(uploadId, p.partNumber));
  if (p.blobId) {
    // a part's blob has exactly one reference: its own (copies make new blobs)
    tx.clear(kPartRef(p.blobId, uploadId, p.partNumber));
    tx.set(kGarbage(p.blobId), encode(p.node ?? ''));
  }
}

/**
 * Frees up to `budget` parts of uploads queued for release or trim; returns how many part
 * records were handled (0: nothing queued). Every transaction handles ≤ RELEASE_BATCH parts.
 */
export async function releaseQueued(kv: KvStore, budget = 20 * RELEASE_BATCH): Promise<number> {
  // a bucket delete a crash interrupted: its remaining uploads join the release queue first
  await finishDrops(kv);
  let done = 0;
  for (const [space, isTrim] of [['mr', false], ['mt', true]] as const) {
    const r = range([space]);
    while (done < budget) {
      const queued = await kv.read((tx) => tx.getRange(r.begin, r.end, { limit: 16 }));
      if (queued.length === 0) break;
      for (const q of queued) {
        const uploadId = unpackAfter(pack([space]), q.key)[0] as string;
        const keep = isTrim ? decode<string>(q.value) : undefined;
        done += await drainUpload(kv, uploadId, keep, budget - done);
        if (done >= budget) break;
      }
    }
  }
  return done;
}

/**
 * Frees the upload's parts (all of them, or those whose token is not `keep`), one bounded
 * transaction at a time; clears the queue entry once nothing is left to free.
 */
async function drainUpload(kv: KvStore, uploadId: string, keep: string | undefined, budget: number): Promise<number> {
  const all = range(['p', uploadId]);
  let start = all.begin;
  let handled = 0;
  for (;;) {
    const res = await kv.transact(async (tx) => {
      const pairs = await tx.getRange(start, all.end, { limit: RELEASE_BATCH });
      const space = pack(['p', uploadId]);
      for (const pair of pairs) {
        const p = decodePart(unpackAfter(space, pair.key)[0] as number, pair.value);
        if (keep === undefined || p.token !== keep) freePart(tx, uploadId, p);
      }
      const finished = pairs.length < RELEASE_BATCH;
      if (finished) {
        if (keep === undefined) {
          tx.clearRange(range(['pf', uploadId]).begin, range(['pf', uploadId]).end);
          tx.clear(kDone(uploadId));
          tx.clear(kRelease(uploadId));
        } else {
          tx.clear(kTrim(uploadId));
        }
      }
      return { n: pairs.length, finished, last: pairs.at(-1)?.key };
    });
    handled += res.n;
    if (res.finished || handled >= budget) return Math.max(handled, 1);
    // a release removed what it read; a trim keeps the named parts, so move past them
    start = keep === undefined ? all.begin : keyAfter(res.last!);
  }
}
