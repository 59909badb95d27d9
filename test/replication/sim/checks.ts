/**
 * What must hold once a run is quiet: every outbox empty, every region's object records the
 * same byte for byte, and equal to the oracle's merge of the committed writes (model.ts).
 */
import { subspaceRange } from '../../../metadata/tuple.js';
import { expectedView } from './model.js';
import type { Region } from './region.js';
import { dump, view } from './view.js';
import type { WriteRecord } from './workload.js';
import { BUCKETS } from './world.js';

export async function checkConverged(regions: Region[], writes: WriteRecord[]): Promise<string[]> {
  const problems: string[] = [];
  const committed = writes.flatMap((w) => w.changes);
  for (const r of regions) {
    const left = await r.kv.read(async (tx) => {
      let n = 0;
      for (const space of ['ob', 'obp']) n += (await tx.getRange(subspaceRange([space]).begin, subspaceRange([space]).end, { limit: 1 })).length;
      return n;
    });
    if (left > 0) problems.push(`${r.name}: the outbox still holds entries`);
  }
  const [first, ...rest] = regions;
  for (const b of BUCKETS) {
    const want = expectedView(committed, b.name);
    for (const r of regions) {
      const got = await view(r.kv, b.name);
      if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`${r.name}/${b.name} differs from the merge of the committed writes:\n${diff(want, got)}`);
    }
    const base = await dump(first!.kv, b.name);
    for (const r of rest) {
      if (JSON.stringify(await dump(r.kv, b.name)) !== JSON.stringify(base)) problems.push(`${r.name}/${b.name}: records differ from ${first!.name}'s byte for byte`);
    }
  }
  return problems;
}

/** what a region is missing (-) and holds beyond the merge (+) */
function diff(want: string[], got: string[]): string {
  const w = new Set(want);
  const g = new Set(got);
  const lines = [...want.filter((l) => !g.has(l)).map((l) => `  - expected: ${l}`), ...got.filter((l) => !w.has(l)).map((l) => `  + found:    ${l}`)];
  return lines.join('\n') || '  (the same lines in another order)';
}
