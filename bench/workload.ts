/**
 * What a workload is: a name, how many objects it wants ready, an optional `prepare` run
 * once by the coordinator before the clock starts (create objects to read, list, update),
 * and `start`, run in every load process, which returns the operation one concurrency slot
 * repeats until the time is up. New workloads (replication lag between regions, …) are one
 * more file in ./workloads and one line in ./workloads/index.ts.
 */
import type { BenchClient } from './client.js';

export interface BenchConfig {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  region: string;
  bucket: string;
  workload: string;
  /** object size in bytes */
  size: number;
  /** concurrent requests per load process */
  concurrency: number;
  durationMs: number;
  /** load run before the measured duration and not counted (connections, JIT, caches) */
  warmupMs: number;
  /** objects the workload prepares (or lists); 0: the workload's default */
  keys: number;
  /** load processes */
  procs: number;
  /** multipart part size in bytes */
  partSize: number;
  /**
   * set when the workload's objects were put in place before the run by other means than its
   * own PUTs, saying how (bench:compare's big LIST): prepare then checks they are there
   */
  preloaded?: string;
}

/** one completed operation: its kind (GET, PUT, STAT, DELETE, LIST, MPU) and payload bytes */
export interface OpResult {
  op: string;
  bytes: number;
}

export interface PrepareContext {
  config: BenchConfig;
  client: BenchClient;
  /** objects to prepare (config.keys or the workload's default) */
  keys: number;
  log: (line: string) => void;
}

export interface WorkerContext {
  config: BenchConfig;
  client: BenchClient;
  keys: number;
  /** this load process, 0 … procs-1 */
  proc: number;
}

/** one concurrency slot's next operation; throws BenchError on failure */
export type Operation = (slot: number) => Promise<OpResult>;

export interface Workload {
  name: string;
  summary: string;
  defaultKeys(config: BenchConfig): number;
  prepare?(ctx: PrepareContext): Promise<void>;
  start(ctx: WorkerContext): Promise<Operation>;
}

/** the name of the i-th prepared object of a workload */
export function objectKey(prefix: string, i: number): string {
  return `${prefix}/${i.toString().padStart(8, '0')}`;
}

/** requests in flight while preparing objects, whatever the measured concurrency */
export const PREPARE_CONCURRENCY = 32;

/** PUTs `count` objects named objectKey(prefix, i), `concurrency` at a time, logging progress */
export async function fill(ctx: PrepareContext, prefix: string, count: number, size: number): Promise<void> {
  const { client, config, log } = ctx;
  await client.createBucket(config.bucket);
  let next = 0;
  let done = 0;
  let lastLog = Date.now();
  const slot = async () => {
    while (next < count) {
      const i = next++;
      await client.put(config.bucket, objectKey(prefix, i), size);
      done += 1;
      if (Date.now() - lastLog > 1000) {
        lastLog = Date.now();
        log(`prepare: ${done}/${count} objects`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(count, PREPARE_CONCURRENCY)) }, slot));
}

/** a uniform random integer in [0, n) */
export function randomInt(n: number): number {
  return Math.floor(Math.random() * n);
}
