/**
 * Seeing replication on three real regions (each its own gateway, metadata and redis-server):
 * a PUT in iad raises `erne_replication_applied_total{from="iad"}` in fra and sin and adds
 * lag samples for both destinations in iad; GET /.erne/replication shows every pair; a region
 * that is down shows as a growing backlog with an ageing oldest entry and failed attempts,
 * which drain once it is back; `erne replication status` prints the pairs (table and --json)
 * and one line for an endpoint that cannot be reached.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, HeadBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { expect, it } from 'vitest';
import type { ReplicationStatus } from '../../replication/monitor.js';
import { freePort } from '../helpers/child.js';
import { runErne } from '../helpers/erne-run.js';
import { tempDir, uniqueBucket } from '../helpers/gateway.js';
import { useRegions, type TestRegion } from '../helpers/regions.js';
import { redisServer } from '../helpers/redis.js';
import { describeNeeds } from '../helpers/requires.js';
import { waitFor } from '../helpers/wait.js';

async function scrape(r: TestRegion): Promise<string> {
  const res = await fetch(`${r.url}/.erne/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

/** one sample's value; 0 when the series is not there yet */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

async function status(r: TestRegion): Promise<ReplicationStatus> {
  const res = await fetch(`${r.url}/.erne/replication`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/json');
  return (await res.json()) as ReplicationStatus;
}

const dest = (s: ReplicationStatus, name: string) => s.destinations.find((d) => d.dest === name)!;

describeNeeds(redisServer)('replication metrics and status', () => {
  const cluster = useRegions(['iad', 'fra', 'sin']);
  const r = (name: string) => cluster.region(name);

  async function bucketEverywhere(from: string): Promise<string> {
    const bucket = uniqueBucket('seen');
    await r(from).s3.send(new CreateBucketCommand({ Bucket: bucket }));
    for (const region of cluster.regions) {
      await waitFor(`${bucket} in ${region.name}`, () => region.s3.send(new HeadBucketCommand({ Bucket: bucket })).then(() => true));
    }
    return bucket;
  }

  it('a PUT in iad raises applied_total{from="iad"} in fra and sin, and adds lag samples for both in iad', async () => {
    const bucket = await bucketEverywhere('iad');
    // wait for everything before the PUT to have been delivered, so the counts below are the PUT's
    await waitFor('iad idle', async () => (await status(r('iad'))).destinations.every((d) => d.outboxDepth === 0));
    const before = { iad: await scrape(r('iad')), fra: await scrape(r('fra')), sin: await scrape(r('sin')) };
    await r('iad').s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'measured' }));
    for (const name of ['fra', 'sin'] as const) {
      const series = 'erne_replication_applied_total{from="iad"}';
      await waitFor(`applied_total in ${name}`, async () => sample(await scrape(r(name)), series) === sample(before[name], series) + 1);
    }
    for (const d of ['fra', 'sin']) {
      const series = `erne_replication_lag_seconds_count{dest="${d}"}`;
      const after = (await waitFor(`a lag sample for ${d}`, async () => {
        const text = await scrape(r('iad'));
        return sample(text, series) > sample(before.iad, series) ? text : undefined;
      }))!;
      expect(sample(after, `erne_replication_lag_seconds_sum{dest="${d}"}`)).toBeGreaterThan(sample(before.iad, `erne_replication_lag_seconds_sum{dest="${d}"}`));
      // the lag is taken when the destination answers, a moment before the entry is acknowledged
      // here: the gauges reach 0 once it is
      const drained = (await waitFor(`the outbox and queue for ${d} empty`, async () => {
        const text = await scrape(r('iad'));
        const empty = sample(text, `erne_replication_outbox_depth{dest="${d}"}`) === 0 && sample(text, `erne_replication_queue_depth{dest="${d}"}`) === 0;
        return empty ? text : undefined;
      }))!;
      expect(drained).toContain(`erne_replication_oldest_unapplied_seconds{dest="${d}"} 0`);
      expect(drained).toContain(`# TYPE erne_replication_failed_total counter`);
    }
    const s = await status(r('iad'));
    expect(s.region).toBe('iad');
    expect(s.delivering).toBe(true);
    expect(s.destinations.map((d) => d.dest).sort()).toEqual(['fra', 'sin']);
    for (const d of s.destinations) {
      expect(d.lag!.samples).toBeGreaterThan(0);
      expect(d.lag!.p50Ms).toBeGreaterThanOrEqual(0);
      expect(d.lag!.p99Ms).toBeGreaterThanOrEqual(d.lag!.p50Ms);
      expect(d.delivered).toBeGreaterThan(0);
    }
    expect((await status(r('fra'))).applied['iad']).toBeGreaterThan(0);
  });

  it('while sin is down, iad shows its backlog growing, the oldest entry ageing and failed attempts; they drain once sin is back', async () => {
    const bucket = await bucketEverywhere('iad');
    await r('sin').stop();
    try {
      for (let i = 0; i < 3; i++) await r('iad').s3.send(new PutObjectCommand({ Bucket: bucket, Key: `while-down-${i}`, Body: 'x' }));
      const s = (await waitFor('iad failing to reach sin', async () => {
        const st = await status(r('iad'));
        return dest(st, 'sin').failed > 0 && dest(st, 'sin').oldestUnappliedSeconds! > 0 ? st : undefined;
      }))!;
      expect(dest(s, 'sin').outboxDepth).toBeGreaterThanOrEqual(3);
      const text = await scrape(r('iad'));
      expect(sample(text, 'erne_replication_outbox_depth{dest="sin"}')).toBeGreaterThanOrEqual(3);
      expect(sample(text, 'erne_replication_oldest_unapplied_seconds{dest="sin"}')).toBeGreaterThan(0);
      expect(sample(text, 'erne_replication_failed_total{dest="sin"}')).toBeGreaterThan(0);
      // fra is not held up by sin
      await waitFor('fra caught up', async () => dest(await status(r('iad')), 'fra').outboxDepth === 0);
    } finally {
      await r('sin').start();
    }
    await waitFor('the backlog for sin drained', async () => {
      const d = dest(await status(r('iad')), 'sin');
      return d.outboxDepth === 0 && d.oldestUnappliedSeconds === null;
    });
  });

  it('erne replication status prints every pair from each region, as a table and as --json', async () => {
    const endpoints = cluster.regions.flatMap((x) => ['--endpoint', x.url]);
    const table = await runErne(['replication', 'status', ...endpoints]);
    expect(table.stderr).toBe('');
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^from\s+to\s+outbox\s+queue\s+oldest unapplied\s+lag p50\s+lag p99\s+delivered\s+failed$/);
    const pairs = lines.slice(1).map((l) => l.split(/\s+/).slice(0, 2).join('→')).filter((p) => /^[a-z]+→[a-z]+$/.test(p));
    expect(pairs.sort()).toEqual(['fra→iad', 'fra→sin', 'iad→fra', 'iad→sin', 'sin→fra', 'sin→iad']);

    const json = await runErne(['replication', 'status', '--json', ...endpoints]);
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout) as { regions: { endpoint: string; region: string; status: ReplicationStatus }[] };
    expect(doc.regions.map((x) => [x.endpoint, x.region])).toEqual(cluster.regions.map((x) => [x.url, x.name]));
    for (const x of doc.regions) expect(x.status.destinations).toHaveLength(2);
  });

  it('erne replication status --cluster asks every region the file lists; one that cannot be reached is one line and exit code 1', async () => {
    const dir = tempDir('erne-status-cluster-');
    const file = join(dir, 'cluster.json');
    const gone = `http://127.0.0.1:${await freePort()}`;
    const regions = [...cluster.regions.map((x) => ({ name: x.name, internal: [x.url] })), { name: 'syd', internal: [gone] }];
    writeFileSync(file, JSON.stringify({ regions }));
    const run = await runErne(['replication', 'status', '--cluster', file]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^erne: syd at ${gone} cannot be reached: .*ECONNREFUSED`))]);
    const froms = new Set(run.stdout.trim().split('\n').slice(1).map((l) => l.split(/\s+/)[0]));
    expect([...froms].filter((f) => /^[a-z]+$/.test(f!)).sort()).toEqual(['fra', 'iad', 'sin']);
    // the environment twin does the same
    const viaEnv = await runErne(['replication', 'status', '--json'], { env: { ERNE_CLUSTER: file } });
    const doc = JSON.parse(viaEnv.stdout) as { regions: { region?: string; error?: string }[] };
    expect(doc.regions.find((x) => x.region === 'syd')!.error).toMatch(/cannot be reached/);
  });
});
