/**
 * The load generator against a real in-process Erne gateway on loopback, for a second or
 * two: it must report sane numbers and no errors, and the objects it says it wrote must be
 * there. This checks the tool, not Erne's speed (speed is bench:compare's business).
 */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ceilingServer } from '../../bench/ceiling-server.js';
import { BenchClient } from '../../bench/client.js';
import { pidListeningOn } from '../../bench/procstat.js';
import { runBench } from '../../bench/runner.js';
import type { BenchConfig } from '../../bench/workload.js';
import { REGION, ROOT, startTestGateway, tempDir, uniqueBucket, type TestGateway } from '../helpers/gateway.js';
import { rmSync } from 'node:fs';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway();
});
afterAll(async () => {
  await t?.stop();
});

function config(over: Partial<BenchConfig>): BenchConfig {
  return {
    endpoint: t.gw.url,
    accessKey: ROOT.accessKeyId,
    secretKey: ROOT.secretAccessKey,
    region: REGION,
    bucket: uniqueBucket('bench'),
    workload: 'put',
    size: 1024,
    partSize: 5 * 1024 * 1024,
    concurrency: 4,
    durationMs: 1200,
    warmupMs: 0,
    keys: 0,
    procs: 1,
    ...over,
  };
}

async function countKeys(c: BenchConfig, prefix: string): Promise<number> {
  const client = new BenchClient({ ...c, connections: 1 });
  let total = 0;
  let token: string | undefined;
  do {
    const page = await client.listPage(c.bucket, { prefix, token });
    total += page.keys;
    token = page.next;
  } while (token);
  await client.close();
  return total;
}

function expectSane(r: Awaited<ReturnType<typeof runBench>>, c: BenchConfig, op: string): void {
  expect(r.errors).toEqual({});
  expect(Object.keys(r.byOp)).toEqual([op]);
  const s = r.total;
  expect(s.ops).toBeGreaterThan(20);
  expect(r.elapsedMs).toBeGreaterThanOrEqual(c.durationMs);
  expect(r.elapsedMs).toBeLessThan(c.durationMs + 2000);
  expect(s.opsPerSec).toBeCloseTo(s.ops / (r.elapsedMs / 1000), 6);
  // every op moved exactly one object of the configured size
  expect(s.mibPerSec).toBeCloseTo((s.opsPerSec * c.size) / 1024 ** 2, 6);
  expect(s.p50Ms).toBeGreaterThan(0);
  expect(s.p50Ms).toBeLessThanOrEqual(s.p90Ms);
  expect(s.p90Ms).toBeLessThanOrEqual(s.p99Ms);
  expect(s.p99Ms).toBeLessThanOrEqual(s.maxMs);
  expect(r.series.reduce((a, x) => a + x.opsPerSec * Math.min(1, r.elapsedMs / 1000 - x.t), 0)).toBeCloseTo(s.ops, 0);
  expect(r.client.procs).toBe(c.procs);
}

describe('erne bench against an in-process gateway', () => {
  it('put: reports its PUTs, and every one of them is in the bucket', async () => {
    const c = config({ workload: 'put' });
    const r = await runBench(c);
    expectSane(r, c, 'PUT');
    expect(await countKeys(c, 'put/')).toBe(r.total.ops);
    // the gateway runs in this process, so the sampler found us by the port
    expect(r.server?.pid).toBe(process.pid);
    expect(r.server!.peakRssBytes).toBeGreaterThan(10 * 1024 * 1024);
  });

  it('get: reads the objects it prepared, in two load processes merged into one result', async () => {
    const c = config({ workload: 'get', size: 2048, keys: 20, procs: 2 });
    const r = await runBench(c);
    expectSane(r, c, 'GET');
    expect(r.keys).toBe(20);
    expect(await countKeys(c, 'get-2048/')).toBe(20);
  });

  it('mixed: GET, PUT, STAT and DELETE all happen, without false 404s', async () => {
    const c = config({ workload: 'mixed', keys: 50, concurrency: 8 });
    const r = await runBench(c);
    expect(r.errors).toEqual({});
    expect(Object.keys(r.byOp).sort()).toEqual(['DELETE', 'GET', 'PUT', 'STAT']);
  });

  it('multipart: completes 2-part uploads without an error, and the objects are there', async () => {
    const c = config({ workload: 'multipart', size: 6 * 1024 * 1024, concurrency: 1, durationMs: 500 });
    const r = await runBench(c);
    expect(r.errors).toEqual({});
    expect(Object.keys(r.byOp)).toEqual(['MPU']);
    expect(r.total.ops).toBeGreaterThan(0);
    // every counted upload completed; one more may have finished after the measured window
    const made = await countKeys(c, 'mpu/');
    expect(made).toBeGreaterThanOrEqual(r.total.ops);
    expect(made).toBeLessThanOrEqual(r.total.ops + c.concurrency);
  });

  it('a wrong secret is reported as a clear S3 error, not a crash', async () => {
    const c = config({ workload: 'put', secretKey: 'wrong' });
    await expect(runBench(c)).rejects.toThrow(/SignatureDoesNotMatch/);
  });
});

describe('the ceiling server', () => {
  it('takes the same put and get workloads', async () => {
    const dir = tempDir('erne-ceiling-');
    const server = ceilingServer(dir);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    try {
      expect(pidListeningOn(port)).toBe(process.pid);
      for (const workload of ['put', 'get']) {
        const c = config({ workload, endpoint: `http://127.0.0.1:${port}`, durationMs: 800, keys: 10 });
        const r = await runBench(c);
        expectSane(r, c, workload.toUpperCase());
      }
    } finally {
      await new Promise((r) => server.close(r));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
