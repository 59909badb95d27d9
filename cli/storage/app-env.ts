/**
 * Setting env variables on an app's machines through a Machines API in Fly's shape (Fly's own
 * at api.machines.dev, or Erne's: machines/api): list the app's machines, then one machine at
 * a time take its lease, update it with its config's env extended (a new machine version, the
 * old one replaced), wait for the new version to be started when the old one was, and give
 * the lease back. `check` is the part that changes nothing: it refuses an app that has no
 * machines or already sets any of the names.
 */
import { MachinesApiError, MachinesClient } from '../../machines/client.js';
import type { Machine } from '../../machines/api/types.js';

export interface MachinesApi {
  endpoint: string;
  token: string;
}

export class MachinesError extends Error {
  override readonly name = 'MachinesError';
}

/** seconds: Fly's wait takes at most 60 per call */
const WAIT_SECONDS = 60;

/** a refusal of the API as one line naming the step */
async function step<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof MachinesApiError) throw new MachinesError(err.status === 0 ? err.message : `Machines API: ${what} answered ${err.status}: ${err.message}`);
    throw err;
  }
}

/** the app's machines (not destroyed); refuses, changing nothing, when there is none or a name is taken */
export async function checkApp(api: MachinesApi, app: string, names: readonly string[]): Promise<Machine[]> {
  const client = new MachinesClient(api);
  const all = await step(`listing the machines of ${app}`, () => client.list(app));
  const machines = all.filter((m) => m.state !== 'destroyed' && m.state !== 'destroying');
  if (machines.length === 0) throw new MachinesError(`app ${app} has no machines to give the variables to`);
  const taken = new Set<string>();
  for (const m of machines) for (const n of names) if (m.config.env && Object.hasOwn(m.config.env, n)) taken.add(n);
  if (taken.size > 0) {
    throw new MachinesError(`app ${app} already sets ${[...taken].sort().join(', ')} on its machines: nothing was changed (remove them first, or use another app)`);
  }
  return machines;
}

/**
 * Rolls the env onto each machine in turn. `done` is told of each machine once its new
 * version runs (or, for one that was not running, once it is updated).
 */
export async function rollEnv(api: MachinesApi, app: string, machines: Machine[], env: Record<string, string>, done: (id: string) => void = () => undefined): Promise<void> {
  const client = new MachinesClient(api);
  for (const m of machines) {
    const lease = await step(`leasing machine ${m.id}`, () => client.acquireLease(app, m.id, { ttl: 120, description: 'erne storage create: setting env' }));
    const nonce = lease?.data?.nonce;
    try {
      // the whole config goes back (fields this client does not know included), env extended
      const config = { ...m.config, env: { ...(m.config.env ?? {}), ...env } };
      const updated = await step(`updating machine ${m.id}`, () => client.update(app, m.id, { config, region: m.region }, nonce));
      // a machine that was running runs its new version before the next one is touched
      if (m.state === 'started') {
        const up = await step(`waiting for machine ${m.id}`, () => client.wait(app, m.id, 'started', { timeoutS: WAIT_SECONDS, instanceId: updated?.instance_id }));
        if (!up) throw new MachinesError(`machine ${m.id} did not start its new version within ${WAIT_SECONDS} s`);
      }
    } finally {
      if (nonce) await client.releaseLease(app, m.id, nonce).catch(() => undefined);
    }
    done(m.id);
  }
}
