/**
 * `erne serve` as people run it (child processes of dist/cli/erne.js; `npm run build` first):
 * --workers N serves one port from N processes that share one LMDB environment, and choosing
 * FoundationDB where its client library is missing stops with one line.
 */
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import http from 'node:http';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERNE_JS, startChildGateway, type ChildGateway } from '../helpers/child.js';
import { bodyBytes, ROOT, s3Client, tempDir, uniqueBucket } from '../helpers/gateway.js';
import { rawRequest } from '../helpers/raw.js';
import { itWhere, withoutFdbBinding } from '../helpers/requires.js';

/** a fresh connection per request, so the cluster's round robin can pick any worker */
function servedBy(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url + '/', { agent: false }, (res) => {
        res.resume();
        resolve(String(res.headers['x-erne-served-by']));
      })
      .on('error', reject);
  });
}

describe('erne serve --workers 2', () => {
  let gw: ChildGateway;
  beforeAll(async () => {
    gw = await startChildGateway({ args: ['--workers', '2'], env: { ERNE_SERVED_BY_HEADER: '1' } });
    // the second worker starts after the first answers; wait until both have said so
    const deadline = Date.now() + 20_000;
    while (!/worker 1 \(pid \d+\) is serving/.test(gw.output()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it('answers from two different processes of one node on one port', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 30 && seen.size < 2; i++) seen.add(await servedBy(gw.url));
    expect(seen.size, gw.output()).toBe(2);
    const [n1, n2] = [...seen].map((s) => s.split('/'));
    expect(n1![0]).toBe(n2![0]); // one node id (one volume) ...
    expect(n1![1]).not.toBe(n2![1]); // ... two pids
    expect([...seen].every((s) => !s.endsWith(`/${process.pid}`))).toBe(true);
  });

  it('writes through one worker are read through the other; If-None-Match races have one winner', async () => {
    // no keep-alive: consecutive requests land on different workers
    const c = s3Client(gw, ROOT, { config: { requestHandler: { httpAgent: new http.Agent({ keepAlive: false }) } } });
    const bucket = uniqueBucket('workers');
    await c.send(new CreateBucketCommand({ Bucket: bucket }));
    const body = Buffer.alloc(200 * 1024, 7);
    const put = await c.send(new PutObjectCommand({ Bucket: bucket, Key: 'blob', Body: body }));
    for (let i = 0; i < 4; i++) {
      const got = await c.send(new GetObjectCommand({ Bucket: bucket, Key: 'blob' }));
      expect(got.ETag).toBe(put.ETag);
      expect((await bodyBytes(got.Body)).equals(body)).toBe(true);
    }
    for (let round = 0; round < 15; round++) {
      const key = `race-${round}`;
      const outcomes = await Promise.all(
        Array.from({ length: 4 }, (_, i) =>
          c.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `writer ${i}`, IfNoneMatch: '*' })).then(
            () => 200,
            (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode,
          ),
        ),
      );
      expect(outcomes.filter((s) => s === 200), String(outcomes)).toHaveLength(1);
      expect(outcomes.filter((s) => s === 412)).toHaveLength(3);
    }
  });

  it('under load, the GET right after a PUT answers the new bytes whichever worker serves it', async () => {
    const bucket = uniqueBucket('raw');
    expect((await rawRequest(gw, { method: 'PUT', path: `/${bucket}` })).status).toBe(200);
    let crossed = 0;
    // 8 clients, each overwriting its own key and reading it back at once on a new connection
    const client = async (c: number) => {
      for (let i = 0; i < 40; i++) {
        const body = `client ${c} write ${i}`;
        const put = await rawRequest(gw, { method: 'PUT', path: `/${bucket}/k${c}`, body });
        expect(put.status, put.text).toBe(200);
        const get = await rawRequest(gw, { method: 'GET', path: `/${bucket}/k${c}` });
        expect(get.text, `client ${c} write ${i}: PUT by ${put.headers['x-erne-served-by']}, GET by ${get.headers['x-erne-served-by']}`).toBe(body);
        if (put.headers['x-erne-served-by'] !== get.headers['x-erne-served-by']) crossed++;
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, c) => client(c)));
    // the reads really went through the other worker, not only the writer's own
    expect(crossed).toBeGreaterThan(20);
  });
});

describe('erne serve --metadata fdb without the FoundationDB client library', () => {
  for (const extra of [[], ['--workers', '2']]) {
    itWhere(withoutFdbBinding)(`exits 1 with one line saying what to install (${JSON.stringify(extra)})`, async () => {
      const dataDir = tempDir('erne-fdb-missing-');
      const res = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          [ERNE_JS, 'serve', '--metadata', 'fdb', '--port', '0', '--data-dir', dataDir, ...extra],
          { env: { ...process.env, FDB_CLUSTER_FILE: '/nonexistent/fdb.cluster' }, timeout: 30_000 },
          (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
        );
      });
      rmSync(dataDir, { recursive: true, force: true });
      expect(res.code).toBe(1);
      const lines = res.stderr.trim().split('\n');
      expect(lines, res.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^erne: FoundationDB backend unavailable: install the FoundationDB client package .*foundationdb-clients_7\.3\.x_amd64\.deb.*npm install foundationdb/);
    });
  }
});
