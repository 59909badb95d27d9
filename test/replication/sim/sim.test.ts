/**
 * The deterministic simulation of replication (see run.ts for what one seed does and what
 * it checks). ERNE_SIM_SEEDS seeds per run (default 1000), from ERNE_SIM_FIRST (default 1);
 * ERNE_SIM_SEED=<n> runs that seed alone and prints its whole trace.
 */
import { describe, expect, it } from 'vitest';
import { runSeed, type SimResult } from './run.js';

const one = process.env.ERNE_SIM_SEED;
const count = Number(process.env.ERNE_SIM_SEEDS ?? 1000);
const firstSeed = Number(process.env.ERNE_SIM_FIRST ?? 1);
const seeds = one !== undefined ? [Number(one)] : Array.from({ length: count }, (_, i) => firstSeed + i);

function report(r: SimResult): string {
  const tail = one !== undefined ? r.trace : r.trace.slice(-60);
  return [
    `seed ${r.seed} failed:`,
    ...r.problems.map((p) => '  ' + p),
    `replay it: ERNE_SIM_SEED=${r.seed} npx vitest run test/replication/sim`,
    `${one !== undefined ? 'trace' : 'last lines of its trace'}:`,
    ...tail.map((l) => '  ' + l),
  ].join('\n');
}

describe('replication simulation', () => {
  it(`${seeds.length} seed(s): every region converges to the merge of the committed writes, nothing acknowledged lost`, async () => {
    const failed: SimResult[] = [];
    let settle = 0;
    const outcomes = new Map<string, number>();
    for (const seed of seeds) {
      const r = await runSeed(seed);
      settle = Math.max(settle, r.settleMs);
      for (const w of r.writes) outcomes.set(w.outcome, (outcomes.get(w.outcome) ?? 0) + 1);
      if (r.problems.length > 0) {
        failed.push(r);
        console.error(report(r));
        if (failed.length >= 5) break;
      } else if (one !== undefined) {
        console.log(r.trace.join('\n'));
      }
    }
    console.log(`${seeds.length} seeds; writes: ${[...outcomes].map(([k, n]) => `${n} ${k}`).join(', ')}; longest settling ${settle} simulated ms`);
    expect(failed.map((r) => r.seed), `failing seeds (replay: ERNE_SIM_SEED=<n> npx vitest run test/replication/sim)`).toEqual([]);
  }, 60_000 + 300 * seeds.length);

  it('a seed replays exactly: the same trace and the same outcome', async () => {
    const seed = seeds[0]!;
    const a = await runSeed(seed);
    const b = await runSeed(seed);
    expect(b.trace).toEqual(a.trace);
    expect(b.problems).toEqual(a.problems);
    expect(a.trace.length).toBeGreaterThan(10);
  });
});
