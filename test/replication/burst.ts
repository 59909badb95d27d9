/**
 * Writes for the fault tests (faults.test.ts): a seeded generator, bodies that name their
 * write, and a burst of writes in every region that records what each region acknowledged,
 * with the check that every acknowledged write is read, byte for byte, in every region.
 */
import { randomBytes } from 'node:crypto';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { ProcRegion } from '../helpers/region-procs.js';
import { waitFor } from '../helpers/wait.js';
import { getBytes, md5, type Converged } from './convergence.js';

/** mulberry32: a small seeded generator, so a failing run's choices replay */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** a body naming its write; every fourth one past the inline threshold, so its bytes stay in the writing region */
export function body(tag: string, big: boolean): Buffer {
  const head = Buffer.from(`${tag}\n`);
  return big ? Buffer.concat([head, randomBytes(40 * 1024)]) : Buffer.concat([head, randomBytes(64)]);
}

export interface Burst {
  /** unique key → who acknowledged it, its body's MD5 and when */
  acked: Map<string, { region: string; md5: string; at: number }>;
  /** version id → key and MD5 of each acknowledged PUT of a shared key (versioned buckets) */
  sharedVersions: Map<string, { key: string; md5: string }>;
  ackedBy: Map<string, number>;
  failedBy: Map<string, number>;
  /** resolves once each named region has acknowledged `more` writes after this call */
  more(names: string[], more: number, why: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Writers in every region putting unique keys (and now and then putting or deleting one of a
 * few shared keys) until stopped. A failed write (its gateway is down) is counted and the
 * writer goes on after a short pause; `pauseMs` paces a burst that lasts through a long fault.
 */
export function startBurst(regions: ProcRegion[], bucket: string, label: string, pauseMs = 0, writersPerRegion = 2): Burst {
  const acked = new Map<string, { region: string; md5: string; at: number }>();
  const sharedVersions = new Map<string, { key: string; md5: string }>();
  const ackedBy = new Map(regions.map((r) => [r.name, 0]));
  const failedBy = new Map(regions.map((r) => [r.name, 0]));
  let stopped = false;
  const writer = async (region: ProcRegion, w: number) => {
    for (let n = 0; !stopped; n++) {
      const shared = n % 5 === 4;
      const key = shared ? `${label}/shared-${n % 3}` : `${label}/${region.name}/${w}-${n}`;
      const data = body(`${region.name} ${key} ${n}`, n % 4 === 1);
      try {
        if (shared && n % 10 === 9) {
          await region.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
        } else {
          const res = await region.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data }));
          if (shared && res.VersionId) sharedVersions.set(res.VersionId, { key, md5: md5(data) });
        }
        ackedBy.set(region.name, ackedBy.get(region.name)! + 1);
        if (!shared) acked.set(key, { region: region.name, md5: md5(data), at: Date.now() });
        if (pauseMs > 0) await new Promise((res) => setTimeout(res, pauseMs));
      } catch {
        failedBy.set(region.name, failedBy.get(region.name)! + 1);
        // pacing while the region is down, not a wait for an outcome
        await new Promise((res) => setTimeout(res, 50));
      }
    }
  };
  const running = Promise.all(regions.flatMap((region) => Array.from({ length: writersPerRegion }, (_, w) => writer(region, w))));
  return {
    acked,
    sharedVersions,
    ackedBy,
    failedBy,
    async more(names, more, why) {
      const want = new Map(names.map((n) => [n, ackedBy.get(n)! + more]));
      await waitFor(`${more} more acknowledged writes in ${names.join(', ')} ${why}`, () => names.every((n) => ackedBy.get(n)! >= want.get(n)!), 30_000);
    },
    async stop() {
      stopped = true;
      await running;
    },
  };
}

/** a key `region` acknowledged after `since` (ms) */
export function ackedSince(burst: Burst, region: string, since: number): string {
  const found = [...burst.acked].find(([, v]) => v.region === region && v.at > since);
  if (!found) throw new Error(`no write acknowledged by ${region} since ${since}`);
  return found[0];
}

/** whether the region's GET finds bucket/key */
export const has = (region: ProcRegion, bucket: string, key: string): Promise<boolean> => getBytes(region.s3, bucket, key).then((g) => g !== 'missing');

/**
 * After convergence: each acknowledged unique key read in every region (eight at a time), and
 * each acknowledged version of a shared key listed and read everywhere; what is missing or
 * differs, one line each, and the slowest GET.
 */
export async function missingWrites(regions: ProcRegion[], bucket: string, burst: Burst, done: Converged): Promise<{ missing: string[]; slowestMs: number }> {
  const missing: string[] = [];
  let slowestMs = 0;
  const check = async (what: string, key: string, want: string, versionId?: string) => {
    for (const region of regions) {
      const t = Date.now();
      const got = await getBytes(region.s3, bucket, key, versionId);
      slowestMs = Math.max(slowestMs, Date.now() - t);
      if (got === 'missing' || md5(got) !== want) missing.push(`${what} in ${region.name}: ${got === 'missing' ? 'missing' : `md5 ${md5(got)}`}`);
    }
  };
  const todo = [...burst.acked].map(([key, v]) => () => check(`${key} (acknowledged by ${v.region})`, key, v.md5));
  for (const [versionId, v] of burst.sharedVersions) {
    if (!done.listing.versions.some((row) => row.startsWith(`${v.key} ${versionId} `))) missing.push(`${v.key} version ${versionId}: not listed`);
    todo.push(() => check(`${v.key} version ${versionId}`, v.key, v.md5, versionId));
  }
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let next = todo.shift(); next; next = todo.shift()) await next();
    }),
  );
  return { missing, slowestMs };
}
