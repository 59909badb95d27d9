/**
 * A cluster of real regions in one test process: per region a gateway (in-process, its own
 * LMDB metadata and volume), its own `redis-server` and an S3 client; one topology (the first
 * region is the control region). Gateways can be stopped and started again on the same port
 * and data, as a region going down and coming back.
 */
import { rmSync } from 'node:fs';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll } from 'vitest';
import type { RepairSettings } from '../../replication/repair/start.js';
import { freePort } from './child.js';
import { testTopology } from './cluster.js';
import { s3Client, startTestGateway, tempDir, type TestGateway } from './gateway.js';
import { startRedis, type TestRedis } from './redis.js';

export interface TestRegion {
  name: string;
  port: number;
  url: string;
  dataDir: string;
  metaDir: string;
  redis: TestRedis;
  gw?: TestGateway;
  s3: S3Client;
  logs: string[];
  /** stops the gateway (the region is down); its data stays */
  stop(): Promise<void>;
  /** starts it again on the same port and data */
  start(): Promise<void>;
}

export interface TestCluster {
  regions: TestRegion[];
  region(name: string): TestRegion;
}

/** vitest hooks: the regions start before the file's tests and stop after them */
export function useRegions(names: string[], opts: { repair?: RepairSettings } = {}): TestCluster {
  const regions: TestRegion[] = [];
  beforeAll(async () => {
    const ports = await Promise.all(names.map(() => freePort()));
    const urls = Object.fromEntries(names.map((n, i) => [n, [`http://127.0.0.1:${ports[i]}`]]));
    for (const [i, name] of names.entries()) {
      const r: TestRegion = {
        name,
        port: ports[i]!,
        url: `http://127.0.0.1:${ports[i]}`,
        dataDir: tempDir(`erne-${name}-data-`),
        metaDir: tempDir(`erne-${name}-meta-`),
        redis: await startRedis(),
        s3: undefined as unknown as S3Client,
        logs: [],
        async stop() {
          await r.gw?.gw.close();
          r.gw = undefined;
        },
        async start() {
          r.gw = await startTestGateway({
            region: name,
            port: r.port,
            dataDir: r.dataDir,
            metadata: { backend: 'lmdb', dir: r.metaDir },
            cluster: { topology: testTopology(name, urls), redisUrl: r.redis.url, backoff: { baseMs: 20, capMs: 500 }, ...(opts.repair ? { repair: opts.repair } : {}) },
            log: (l) => r.logs.push(l),
          });
        },
      };
      await r.start();
      r.s3 = s3Client(r.gw!.gw);
      regions.push(r);
    }
  }, 60_000);
  afterAll(async () => {
    for (const r of regions) {
      r.s3?.destroy();
      await r.gw?.gw.close();
      await r.redis.stop();
      rmSync(r.dataDir, { recursive: true, force: true });
      rmSync(r.metaDir, { recursive: true, force: true });
    }
  });
  return {
    regions,
    region: (name) => {
      const r = regions.find((x) => x.name === name);
      if (!r) throw new Error(`no region ${name}`);
      return r;
    },
  };
}
