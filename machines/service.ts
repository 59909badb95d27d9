/**
 * `erne machines serve` as a module: the store under the data directory, the Machines API on
 * HTTP, and the scheduler driving the chosen driver. `close()` stops the API and the
 * scheduler but leaves the machines running, so the next start adopts them.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { MachinesControl } from './api/control.js';
import { machinesRoutes } from './api/routes.js';
import type { MachineDriver } from './drivers/types.js';
import { Scheduler } from './scheduler/scheduler.js';
import type { Probe } from './scheduler/health.js';
import type { Backoff } from './scheduler/restart-policy.js';
import { MachineStore } from './store.js';

export interface MachinesServiceOptions {
  dataDir: string;
  host: string;
  port: number;
  token: string;
  driver: MachineDriver;
  probe: Probe;
  /** the region of a machine whose request names none */
  defaultRegion?: string;
  tickMs?: number;
  backoff?: Backoff;
  log?: (line: string) => void;
}

export interface MachinesService {
  url: string;
  port: number;
  control: MachinesControl;
  scheduler: Scheduler;
  close(): Promise<void>;
}

export async function startMachinesService(o: MachinesServiceOptions): Promise<MachinesService> {
  const store = new MachineStore(o.dataDir);
  const control = new MachinesControl(store, { defaultRegion: o.defaultRegion ?? 'local', driver: o.driver.name });
  const scheduler = new Scheduler({ control, driver: o.driver, dataDir: o.dataDir, probe: o.probe, tickMs: o.tickMs, backoff: o.backoff, log: o.log });
  await scheduler.start();
  const app = machinesRoutes({
    control,
    token: o.token,
    logs: (id, opts) => o.driver.logs(id, opts),
    signal: (id, sig) => o.driver.signal(id, sig),
  });
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port, o.host, () => resolve());
    });
  } catch (err) {
    await scheduler.stop();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    port,
    control,
    scheduler,
    async close() {
      await scheduler.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
