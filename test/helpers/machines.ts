/**
 * An Erne Machines API with its scheduler and the process driver, in this process, on a free
 * loopback port, with a client of it. `stop()` destroys every machine the driver made (no
 * process is left) and removes the data directory; `restart()` stops only the API and the
 * scheduler and starts them again on the same data (the machines keep running: adoption).
 * Needs `npm run build` (the machine supervisor runs from dist/).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { MachinesClient } from '../../machines/client.js';
import { ProcessDriver, type ProcessDriverOptions } from '../../machines/drivers/process/index.js';
import type { LaunchSpec } from '../../machines/drivers/types.js';
import { runProbe } from '../../machines/scheduler/probe.js';
import { startMachinesService, type MachinesService } from '../../machines/service.js';
import { tempDir } from './gateway.js';

export const MACHINES_TOKEN = 'erne-machines-test-token';

export interface TestMachines {
  dataDir: string;
  service: MachinesService;
  client: MachinesClient;
  driver: ProcessDriver;
  url: string;
  /** the API and the scheduler stop and start again on the same data and port */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** `driver`: more settings of the process driver (a network mode, a namespace prefix …) */
export async function startTestMachines(o: { tickMs?: number; driver?: Omit<ProcessDriverOptions, 'root'> } = {}): Promise<TestMachines> {
  const dataDir = tempDir('erne-machines-');
  const open = async (port = 0) => {
    const driver = new ProcessDriver({ ...o.driver, root: join(dataDir, 'driver') });
    const service = await startMachinesService({
      dataDir,
      host: '127.0.0.1',
      port,
      token: MACHINES_TOKEN,
      driver,
      probe: runProbe,
      defaultRegion: 'iad',
      tickMs: o.tickMs ?? 100,
      backoff: { baseMs: 200, maxMs: 2_000 },
    });
    return { driver, service };
  };
  let cur = await open();
  const t: TestMachines = {
    dataDir,
    service: cur.service,
    driver: cur.driver,
    url: cur.service.url,
    client: new MachinesClient({ endpoint: cur.service.url, token: MACHINES_TOKEN }),
    async restart() {
      await cur.service.close();
      await cur.driver.close();
      cur = await open(cur.service.port);
      t.service = cur.service;
      t.driver = cur.driver;
    },
    async stop() {
      await cur.service.close();
      await cur.driver.destroyAll();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return t;
}

/** a node program given as source text, as a machine's init.exec */
export const nodeExec = (src: string) => [process.execPath, '-e', src];

/** a tiny HTTP server on `port` answering 200 "ok" (what most machines here run) */
export const httpServer = (port: number) => nodeExec(`require('http').createServer((q, r) => r.end('ok')).listen(${port}, '127.0.0.1', () => console.log('listening on ${port}'))`);

/** a LaunchSpec for driver tests: `argv` run as machine `machineId` of app erne-test, its volume under `root` */
export function testLaunchSpec(
  driver: ProcessDriver,
  root: string,
  m: { machineId: string; instanceId: string; region: string; argv: string[] },
  extra: Partial<LaunchSpec> = {},
): LaunchSpec {
  return {
    ...m,
    app: 'erne-test',
    env: {},
    volumeDir: join(root, 'volumes', m.machineId),
    workDir: driver.workDirFor(m.machineId),
    ports: [],
    guest: { cpus: 1, memoryMb: 256 },
    ...extra,
  };
}
