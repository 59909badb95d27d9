/**
 * The fly driver speaks the Fly Machines REST API; here it drives Erne's own Machines API,
 * which answers the same way (the remote runs real processes under its process driver):
 * create → wait started → update → stop → start → destroy, every change under a lease of the
 * driver's own, and a lease someone else holds honoured (the driver's change waits for it).
 * Needs `npm run build`.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlyDriver } from '../../machines/drivers/fly/driver.js';
import type { LaunchSpec } from '../../machines/drivers/types.js';
import type { Machine } from '../../machines/api/types.js';
import { freePort } from '../helpers/child.js';
import { MACHINES_TOKEN, httpServer, startTestMachines, type TestMachines } from '../helpers/machines.js';
import { waitFor } from '../helpers/wait.js';

let remote: TestMachines;
let driver: FlyDriver;
const APP = 'erne-on-fly';

async function answers(port: number): Promise<boolean> {
  try {
    return (await (await fetch(`http://127.0.0.1:${port}/`)).text()) === 'ok';
  } catch {
    return false;
  }
}

beforeAll(async () => {
  remote = await startTestMachines();
  driver = new FlyDriver({ endpoint: remote.url, token: MACHINES_TOKEN, app: APP, leaseWaitMs: 15_000, waitTimeoutS: 30 });
});

afterAll(async () => {
  await remote?.stop();
});

describe('fly driver against Erne’s Machines API', () => {
  let port: number;
  let spec: LaunchSpec;
  let remoteMachine: () => Promise<Machine>;

  it('start creates the machine on the remote and waits until it is started', async () => {
    port = await freePort();
    spec = {
      machineId: 'local-1',
      instanceId: 'v1',
      app: 'erne',
      region: 'fra',
      argv: httpServer(port),
      env: { ROLE: 'gateway', FLY_REGION: 'not-passed-on' },
      volumeDir: join(remote.dataDir, 'unused-volume'),
      workDir: join(remote.dataDir, 'unused-work'),
      ports: [{ internal: port, host: port, protocol: 'tcp' }],
      guest: { cpus: 1, memoryMb: 256 },
    };
    await driver.start(spec);
    const all = await remote.client.list(APP);
    expect(all).toHaveLength(1);
    const m = all[0]!;
    remoteMachine = () => remote.client.get(APP, m.id);
    expect(m.state).toBe('started');
    expect(m.region).toBe('fra');
    expect(m.config.init?.exec).toEqual(spec.argv);
    expect(m.config.env).toEqual({ ROLE: 'gateway' });
    expect(m.config.metadata).toMatchObject({ erne_machine_id: 'local-1', erne_instance_id: 'v1' });
    expect(await driver.status('local-1')).toMatchObject({ state: 'running', detail: { fly_machine_id: m.id } });
    expect(await driver.list()).toEqual([expect.objectContaining({ machineId: 'local-1', instanceId: 'v1' })]);
    await waitFor('the machine to answer', () => answers(port));
    // the driver released its lease when done
    await expect(remote.client.getLease(APP, m.id)).rejects.toMatchObject({ status: 404 });
  });

  it('a new instance is an update of the same remote machine (a new version), waited for', async () => {
    const before = await remoteMachine();
    spec = { ...spec, instanceId: 'v2', env: { ROLE: 'gateway', VERSION: '2' } };
    await driver.start(spec);
    const after = await remoteMachine();
    expect(after.id).toBe(before.id);
    expect(after.instance_id).not.toBe(before.instance_id);
    expect(after.state).toBe('started');
    expect(after.config.env).toEqual({ ROLE: 'gateway', VERSION: '2' });
    expect(after.events.some((e) => e.type === 'update')).toBe(true);
    await waitFor('the new version to answer', () => answers(port));
  });

  it('stop waits for stopped; a lease held by someone else is honoured: the stop waits until it is released', async () => {
    const m = await remoteMachine();
    const held = await remote.client.acquireLease(APP, m.id, { ttl: 60, description: 'an operator' });
    const busy: string[] = [];
    const patient = new FlyDriver({ endpoint: remote.url, token: MACHINES_TOKEN, app: APP, leaseWaitMs: 30_000, onLeaseBusy: (_id, msg) => busy.push(msg) });
    let stopped = false;
    const stopping = patient.stop('local-1', { signal: 'SIGTERM', timeoutMs: 5_000 }).then(() => (stopped = true));
    // the driver was refused the lease (twice, so it is waiting, not failing) and touched nothing
    await waitFor('the driver to wait for the lease', () => busy.length >= 2);
    expect(busy[0]).toMatch(/already has a lease, held by/);
    expect(stopped).toBe(false);
    expect((await remoteMachine()).state).toBe('started');
    await remote.client.releaseLease(APP, m.id, held.data.nonce);
    await stopping;
    expect((await remoteMachine()).state).toBe('stopped');
    expect(await driver.status('local-1')).toMatchObject({ state: 'exited' });
    expect(await answers(port)).toBe(false);
  });

  it('a lease held past the driver’s patience fails its change with the API’s 409, changing nothing', async () => {
    const m = await remoteMachine();
    const held = await remote.client.acquireLease(APP, m.id, { ttl: 60 });
    const impatient = new FlyDriver({ endpoint: remote.url, token: MACHINES_TOKEN, app: APP, leaseWaitMs: 300 });
    await expect(impatient.start(spec)).rejects.toMatchObject({ status: 409 });
    expect((await remoteMachine()).state).toBe('stopped');
    await remote.client.releaseLease(APP, m.id, held.data.nonce);
  });

  it('start of the same instance starts the stopped machine again', async () => {
    const before = await remoteMachine();
    await driver.start(spec);
    const after = await remoteMachine();
    expect(after.state).toBe('started');
    expect(after.instance_id).toBe(before.instance_id);
    await waitFor('it to answer again', () => answers(port));
  });

  it('destroy removes the remote machine and waits for destroyed', async () => {
    const m = await remoteMachine();
    await driver.destroy('local-1');
    expect((await remote.client.get(APP, m.id)).state).toBe('destroyed');
    expect(await remote.client.list(APP)).toEqual([]);
    expect(await driver.status('local-1')).toEqual({ state: 'missing' });
    expect(await driver.list()).toEqual([]);
    expect(await answers(port)).toBe(false);
  });
});
