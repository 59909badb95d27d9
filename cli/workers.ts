/**
 * `erne serve --workers N`: N gateway processes (node:cluster) on one port, to use every core
 * of a machine. The primary serves nothing; it starts the workers and restarts one that dies.
 *
 * Choice: the workers of one host are ONE node: they share the data dir's metadata (one LMDB
 * environment; LMDB's writer lock works across processes) and ONE volume with one node id.
 * Every worker can then read every blob of this host from disk, and no request ever crosses
 * to a sibling; bytes of other hosts' gateways are fetched over the internal endpoint, which
 * any worker answers. What must stay per process:
 * - the version-id writer (<node>.<worker>), since each process has its own clock;
 * - the janitor: only worker 0 runs it (one per volume);
 * - replication's relay and delivery workers (--cluster): only worker 0 runs them; more would
 *   only add the same jobs again (job ids dedupe them), while every worker records outbox
 *   entries in its writes and answers the apply endpoint;
 * - the remote cache's directory and budget (each process indexes its own entries).
 * Worker 0 starts first and alone, so the node id, root key and region secret are made once.
 */
import cluster from 'node:cluster';
import { join } from 'node:path';
import type { FlagValues } from './args.js';
import type { ServeDeps } from './serve.js';

/** in the primary: runs the workers and resolves 'primary'; in a worker: resolves 'worker' */
export async function serveWorkers(count: number, flags: FlagValues, deps: ServeDeps): Promise<'primary' | 'worker'> {
  if (!cluster.isPrimary) return 'worker';
  const { mkdir } = await import('node:fs/promises');
  const { nodeIdFor } = await import('../gateway/server.js');
  const dataDir = String(flags['data-dir']);
  await mkdir(dataDir, { recursive: true });
  const nodeId = await nodeIdFor(dataDir, flags['node-id'] as string | undefined);
  const volume = join(dataDir, 'volume');
  let stopping = false;
  const alive = new Map<number, import('node:cluster').Worker>();

  const fork = (index: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const w = cluster.fork({
        ERNE_WORKER_INDEX: String(index),
        ERNE_WORKER_COUNT: String(count),
        ERNE_NODE_ID: nodeId,
        ERNE_WORKERS: '1',
        ERNE_REMOTE_CACHE_DIR: join(volume, `remote-cache-${index}`),
        ERNE_REGION_CACHE_DIR: join(volume, `region-cache-${index}`),
      });
      alive.set(index, w);
      let ready = false;
      w.on('message', (m: { erne?: string }) => {
        if (m?.erne === 'ready' && !ready) {
          ready = true;
          resolve();
        }
      });
      w.once('exit', (code, signal) => {
        alive.delete(index);
        if (!ready) {
          reject(new Error(`worker ${index} exited before serving (code ${code ?? signal})`));
          return;
        }
        if (stopping) return;
        deps.out(`worker ${index} died (${signal ?? `code ${code}`}); restarting it\n`);
        setTimeout(() => void fork(index).catch((e: Error) => deps.out(`${e.message}\n`)), 1000);
      });
    });

  try {
    await fork(0);
    await Promise.all(Array.from({ length: count - 1 }, (_, i) => fork(i + 1)));
  } catch (err) {
    // the worker printed why (e.g. the one-line FoundationDB hint); stop the others
    stopping = true;
    for (const w of alive.values()) w.kill('SIGTERM');
    deps.exit(1);
    return 'primary';
  }
  deps.out(`${count} workers are serving (node ${nodeId})\n`);
  const onSignal = () => {
    if (stopping) return deps.exit(130);
    stopping = true;
    const exits = [...alive.values()].map((w) => new Promise((r) => w.once('exit', r)));
    for (const w of alive.values()) w.kill('SIGTERM');
    void Promise.all(exits).then(() => deps.exit(0));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return 'primary';
}
