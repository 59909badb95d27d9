/**
 * `erne machines serve`: the Machines API and its scheduler in this process until SIGINT or
 * SIGTERM. Stopping it leaves the machines running; the next `serve` on the same data
 * directory adopts them.
 */
import { resolve } from 'node:path';
import { DriverSettingsError, openDriver } from '../../machines/drivers/open.js';
import type { NetworkChoice } from '../../machines/drivers/process/network.js';
import { ProcessDriver } from '../../machines/drivers/process/index.js';
import { runProbe } from '../../machines/scheduler/probe.js';
import { startMachinesService } from '../../machines/service.js';
import type { FlagValues } from '../args.js';
import { lockDataDir } from '../data-lock.js';
import { CommandError } from '../keys.js';
import { prepareDataDir, probeListen } from '../start-checks.js';

export interface ServeDeps {
  out: (s: string) => void;
  err: (s: string) => void;
  exit: (code: number) => void;
}

export async function machinesServe(flags: FlagValues, deps: ServeDeps): Promise<void> {
  const token = flags['token'];
  if (typeof token !== 'string' || token.length < 8) throw new CommandError('machines serve needs an API token of 8 characters or more: --token or ERNE_MACHINES_TOKEN');
  const network = String(flags['network']);
  if (network !== 'loopback' && network !== 'netns' && network !== 'auto') throw new CommandError(`--network: loopback, netns or auto, not ${JSON.stringify(network)}`);
  const latencyMs = Number(flags['latency']);
  if (!Number.isInteger(latencyMs) || latencyMs < 0) throw new CommandError(`--latency: a whole number of milliseconds, not ${JSON.stringify(flags['latency'])}`);
  const dataDir = resolve(String(flags['data-dir']));
  const host = String(flags['host']);
  const port = Number(flags['port']);
  let driver;
  try {
    driver = openDriver({
      kind: String(flags['driver']),
      dataDir,
      network: network as NetworkChoice,
      latencyMs,
      fly: { endpoint: flags['fly-endpoint'] as string | undefined, token: flags['fly-token'] as string | undefined, app: flags['fly-app'] as string | undefined, image: flags['fly-image'] as string | undefined },
    });
  } catch (err) {
    if (err instanceof DriverSettingsError) throw new CommandError(err.message);
    // --network netns where namespaces cannot be made: RegionNetwork's one line
    if (err instanceof Error && err.message.startsWith('cannot use network namespaces')) throw new CommandError(err.message);
    throw err;
  }
  if (driver instanceof ProcessDriver && network === 'auto' && driver.network.mode === 'loopback') deps.err(`erne machines: --network auto: machines share the host's loopback network (${driver.network.reason})\n`);
  await probeListen(host, port);
  await prepareDataDir(dataDir);
  const lock = lockDataDir(dataDir);
  let service;
  try {
    service = await startMachinesService({ dataDir, host, port, token, driver, probe: runProbe,
      // each pass asks the driver for every machine's status: a remote API is asked less often
      tickMs: driver.name === 'fly' ? 2_000 : 250,
      defaultRegion: String(flags['region']), log: (l) => deps.err(`erne machines: ${l}\n`) });
  } catch (err) {
    lock.release();
    throw err;
  }
  const net = driver instanceof ProcessDriver ? `, network ${driver.network.mode}` : '';
  deps.out(`Erne Machines API at ${service.url}/v1 (driver ${driver.name}${net}, data ${dataDir})\n`);
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return deps.exit(signal === 'SIGINT' ? 130 : 143);
    stopping = true;
    deps.err(`erne machines: ${signal}: stopping the API; the machines keep running\n`);
    service
      .close()
      .then(() => driver.close?.())
      .then(
        () => (lock.release(), deps.exit(0)),
        (e: unknown) => (deps.err(`erne: ${(e as Error).message}\n`), lock.release(), deps.exit(1)),
      );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
