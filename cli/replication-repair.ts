/**
 * `erne replication repair`: asks a region's gateway (or every region of a cluster file) to
 * run an anti-entropy pass with every other region now (replication/repair/), then prints
 * what it compared and fixed per pair, and the tombstone collection. The request is signed
 * with the cluster secret, as every request between regions is.
 */
import { ClusterCaller, RegionUnreachable } from '../replication/cluster-call.js';
import { callRepair } from '../replication/repair/http-repair-peer.js';
import type { RepairReport } from '../replication/repair/pass.js';
import type { RepairRun } from '../replication/repair/service.js';
import { loadRegions, loadTopology, TopologyError } from '../replication/topology.js';
import type { FlagValues } from './args.js';
import { CommandError } from './keys.js';
import { duration, statusSources } from './replication-status.js';

function secretOf(flags: FlagValues, env: Record<string, string | undefined>): string {
  const file = flags['cluster'];
  if (typeof file === 'string') {
    try {
      const first = loadRegions(file)[0]!;
      return loadTopology(file, first.name, env).secret;
    } catch (err) {
      if (err instanceof TopologyError) throw new CommandError(err.message);
      throw err;
    }
  }
  const s = env['ERNE_CLUSTER_SECRET'];
  if (!s) throw new CommandError('the repair request is signed with the cluster secret: set ERNE_CLUSTER_SECRET (or give --cluster FILE with its secret)');
  return s;
}

const n = (x: number) => x.toLocaleString('en-US');

export function runLines(endpoint: string, run: RepairRun): string[] {
  const lines = [`${run.region} (${endpoint}): ${run.bucket ? `bucket ${run.bucket}, ` : ''}${duration(run.ms)}`];
  for (const p of run.peers) {
    if ('error' in p) {
      lines.push(`  with ${p.peer}: failed: ${p.error}`);
      continue;
    }
    const r = p as RepairReport;
    lines.push(
      `  with ${r.peer}: ${r.buckets} bucket(s), ${n(r.entriesHere)} entries here / ${n(r.entriesThere)} there, ${n(r.ranges)} ranges compared; ` +
        `fetched ${n(r.fetched)} (${n(r.changesFetched)} changes), sent ${n(r.sent)} (${n(r.changesSent)} changes) in ${duration(r.ms)}` +
        (r.skipped.length ? `; not compared (bucket not the same incarnation on both): ${r.skipped.join(', ')}` : '') +
        (r.waiting ? `; ${r.waiting} batch(es) wait for their bucket` : ''),
    );
  }
  const c = run.collection;
  if (c?.collected) {
    const k = c.collected.kept;
    lines.push(
      `  tombstones: horizon ${new Date(c.collected.horizon).toISOString()}; collected ${n(c.collected.tombstones)} tombstones, ${n(c.collected.nullMarks)} null marks ` +
        `and ${n(c.collected.bucketMarks ?? 0)} deleted-bucket markers; ${n(k.tombstones + k.nullMarks + (k.bucketMarks ?? 0))} newer kept`,
    );
  } else if (c) lines.push(`  tombstones: none collected: ${c.missing.join(', ')} did not answer`);
  return lines;
}

export async function replicationRepair(flags: FlagValues, env: Record<string, string | undefined>, out: (s: string) => void, err: (s: string) => void): Promise<void> {
  const secret = secretOf(flags, env);
  const sources = statusSources(flags);
  const bucket = typeof flags['bucket'] === 'string' ? flags['bucket'] : undefined;
  const results = await Promise.all(
    sources.map(async (src) => {
      const name = src.region ?? new URL(src.urls[0]!).host;
      const caller = new ClusterCaller({ self: 'operator', control: name, secret, regions: [{ name, internal: src.urls }] }, 30 * 60_000);
      try {
        const run = await callRepair<RepairRun>(caller, name, bucket === undefined ? { op: 'run' } : { op: 'run', bucket });
        return { endpoint: src.urls[0]!, run };
      } catch (e) {
        const msg = e instanceof RegionUnreachable ? `cannot be reached: ${e.message.replace(/^region \S+ cannot be reached: /, '')}` : (e as Error).message;
        return { endpoint: src.urls[0]!, ...(src.region ? { region: src.region } : {}), error: msg };
      } finally {
        caller.close();
      }
    }),
  );
  if (flags['json']) out(JSON.stringify({ runs: results }, null, 2) + '\n');
  else for (const r of results) if ('run' in r) out(runLines(r.endpoint, r.run!).join('\n') + '\n');
  const failed = results.filter((r) => 'error' in r);
  for (const f of failed) err(`erne: ${'region' in f && f.region ? `${f.region} at ` : ''}${f.endpoint}: ${'error' in f ? f.error : ''}\n`);
  if (failed.length > 0 || results.some((r) => 'run' in r && r.run!.peers.some((p) => 'error' in p))) process.exitCode = 1;
}
