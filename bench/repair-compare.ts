/**
 * How long, and in how much memory, anti-entropy compares a big bucket on which two regions
 * already agree: `node dist/bench/repair-compare.js [--keys 1000000] [--missing N]` (with
 * --missing, region b lacks N versions spread over the bucket: the pass finds and sends them).
 *
 * Two LMDB stores get the same N versions of one bucket, written straight into them (a
 * thousandth of the time HTTP PUTs would take; the fill is not what is measured). Region "b"
 * answers the repair endpoint over loopback HTTP (gateway/internal-repair.ts, signed with a
 * cluster secret); region "a" runs a pass against it (replication/repair/pass.ts) exactly as a
 * gateway does. Reported: the pass's time, the entries compared, the ranges whose hashes were
 * compared, and the process's peak RSS and heap while it ran (both regions live in this
 * process, so the figure covers both sides).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRepairHandler } from '../gateway/internal-repair.js';
import { createReplicationHandler } from '../gateway/internal-replication.js';
import { open } from 'lmdb';
import { openLmdb } from '../metadata/lmdb.js';
import { encodeBucket, encodeVersion } from '../metadata/records.js';
import { subspaceRange } from '../metadata/tuple.js';
import { makeVersionId } from '../metadata/version-id.js';
import { kBucket, kCurrent, kData, kVersion } from '../metadata/version-store.js';
import { applyChanges } from '../replication/apply.js';
import { ClusterCaller } from '../replication/cluster-call.js';
import { HttpPeer } from '../replication/http-peer.js';
import { HttpRepairPeer } from '../replication/repair/http-repair-peer.js';
import { repairWith } from '../replication/repair/pass.js';
import type { Topology } from '../replication/topology.js';

const BUCKET = 'big';
const CREATED = 1_700_000_000_000;
const BATCH = 20_000;

/** this process's anonymous resident memory (what it holds, without mapped files), bytes */
function rssAnon(): number {
  const m = /RssAnon:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** the rows straight through lmdb-js (the same layout and options as metadata/lmdb.ts), a batch per transaction */
async function fill(dir: string, keys: number, skip: (i: number) => boolean = () => false): Promise<void> {
  const db = open<Buffer, Buffer>({ path: dir, keyEncoding: 'binary', encoding: 'binary', pageSize: 8192, noMemInit: true, mapSize: 8 << 30 });
  const tx = { set: (k: Uint8Array, v: Uint8Array) => void db.put(Buffer.from(k), Buffer.from(v)) };
  await db.transaction(() => tx.set(kBucket(BUCKET), encodeBucket({ name: BUCKET, owner: 'AK', createdAt: CREATED, region: 'a', versioning: 'Enabled', acl: 'private' })));
  for (let start = 0; start < keys; start += BATCH) {
    await db.transaction(() => {
      for (let i = start; i < Math.min(keys, start + BATCH); i++) {
        if (skip(i)) continue;
        const key = `objects/${String(i).padStart(8, '0')}`;
        const hlc = { wall: CREATED + 1000 + i, logical: 0 };
        const versionId = makeVersionId(hlc, 'a', null);
        const rec = encodeVersion({ bucket: BUCKET, key, versionId, hlc, region: 'a', deleteMarker: false, size: 0, etag: 'd41d8cd98f00b204e9800998ecf8427e', lastModified: hlc.wall, owner: 'AK', headers: {}, userMetadata: {}, checksums: {}, body: { kind: 'inline', data: new Uint8Array(0) } });
        tx.set(kVersion(BUCKET, key, versionId), rec);
        tx.set(kCurrent(BUCKET, key), rec);
        tx.set(kData(BUCKET, key, versionId), new Uint8Array(0));
      }
    });
  }
  await db.close();
}

async function main(): Promise<void> {
  const keys = arg('keys', 1_000_000);
  // versions region b lacks, spread over the key space: what the descent finds and fetches
  const missing = arg('missing', 0);
  const every = missing > 0 ? Math.floor(keys / missing) : 0;
  const dir = mkdtempSync(join(tmpdir(), 'erne-repair-bench-'));
  const secret = 'bench-cluster-secret-0123456789';
  let server: http.Server | undefined;
  try {
    const t0 = performance.now();
    await fill(join(dir, 'a'), keys);
    await fill(join(dir, 'b'), keys, (i) => every > 0 && i % every === every - 1);
    const a = await openLmdb(join(dir, 'a'), { mapSizeBytes: 8 << 30 });
    const b = await openLmdb(join(dir, 'b'), { mapSizeBytes: 8 << 30 });
    console.log(`filled two regions with ${keys.toLocaleString('en-US')} versions each in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    // b answers the repair requests and, for what it lacks, the apply requests, as a gateway does
    const regions = [{ name: 'a', internal: ['http://127.0.0.1:1'] }, { name: 'b', internal: ['http://127.0.0.1:1'] }];
    const handler = createReplicationHandler({
      kv: b,
      topology: { self: 'b', control: 'a', secret, regions },
      repair: createRepairHandler(secret, { kv: b, self: 'b', marks: async () => ({}) }),
    });
    server = http.createServer((req, res) => void handler(req, res));
    server.keepAliveTimeout = 65_000; // as a gateway's
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const topology: Topology = { self: 'a', control: 'a', secret, regions: [{ name: 'a', internal: ['http://127.0.0.1:1'] }, { name: 'b', internal: [url] }] };
    const caller = new ClusterCaller(topology, 600_000);
    const peer = new HttpPeer(topology);

    global.gc?.();
    const base = { ...process.memoryUsage(), anon: rssAnon() };
    let peakRss = base.rss;
    let peakHeap = base.heapUsed;
    let peakAnon = base.anon;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed);
      peakAnon = Math.max(peakAnon, rssAnon());
    }, 20);
    const report = await repairWith({ region: 'a', kv: a, apply: (c) => applyChanges(a, c) }, new HttpRepairPeer('b', caller, peer));
    clearInterval(sampler);
    caller.close();
    peer.close();
    const mib = (n: number) => `${(n / 1048576).toFixed(0)} MiB`;
    if (missing > 0) {
      const back = await b.read((tx) => tx.getRange(subspaceRange(['v', BUCKET]).begin, subspaceRange(['v', BUCKET]).end));
      console.log(`region b holds ${back.length.toLocaleString('en-US')} versions after the pass`);
    }
    console.log(
      `compared ${report.entriesHere.toLocaleString('en-US')} entries here and ${report.entriesThere.toLocaleString('en-US')} there in ${(report.ms / 1000).toFixed(2)} s ` +
        `(${report.ranges} ranges compared, ${report.leaves} leaves, fetched ${report.fetched}, sent ${report.sent}); ` +
        `peak RssAnon ${mib(peakAnon)} (${mib(base.anon)} before), peak heap ${mib(peakHeap)} (${mib(base.heapUsed)} before); ` +
        `peak VmRSS ${mib(peakRss)}, which also counts the pages of both LMDB files mapped while they were read (page cache, growing with the data read, not held by the pass)`,
    );
    await a.close();
    await b.close();
  } finally {
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
