/**
 * The Machines API as a Fly client sees it, over HTTP with real machines (small node HTTP
 * servers under the process driver): apps, machine states and transitions, update to a new
 * version, stop / start / restart / destroy, wait, leases and their nonce, events, unknown
 * config fields kept, and refusals in Fly's `{"error": "…"}` shape with Fly's statuses.
 * Needs `npm run build`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Machine } from '../../machines/api/types.js';
import { freePort } from '../helpers/child.js';
import { MACHINES_TOKEN, httpServer, nodeExec, startTestMachines, type TestMachines } from '../helpers/machines.js';
import { waitFor } from '../helpers/wait.js';

let t: TestMachines;

async function call(method: string, path: string, o: { body?: unknown; nonce?: string; token?: string | null } = {}): Promise<{ status: number; json: any }> {
  const headers: Record<string, string> = {};
  if (o.token !== null) headers['authorization'] = `Bearer ${o.token ?? MACHINES_TOKEN}`;
  if (o.nonce) headers['fly-machine-lease-nonce'] = o.nonce;
  if (o.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${t.url}/v1${path}`, { method, headers, body: o.body === undefined ? undefined : typeof o.body === 'string' ? o.body : JSON.stringify(o.body) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

async function answers(port: number): Promise<string | undefined> {
  try {
    return await (await fetch(`http://127.0.0.1:${port}/`)).text();
  } catch {
    return undefined;
  }
}

beforeAll(async () => {
  t = await startTestMachines();
  expect((await call('POST', '/apps', { body: { app_name: 'web', org_slug: 'personal' } })).status).toBe(201);
});

afterAll(async () => {
  await t?.stop();
});

describe('apps', () => {
  it.each([
    ['no token', 'GET', '/apps', { token: null }, 401],
    ['a wrong token', 'GET', '/apps', { token: 'not-the-token' }, 401],
    ['an app that does not exist', 'GET', '/apps/nope', {}, 404],
    ['machines of an app that does not exist', 'GET', '/apps/nope/machines', {}, 404],
    ['an app created twice', 'POST', '/apps', { body: { app_name: 'web' } }, 409],
    ['an app name with capitals', 'POST', '/apps', { body: { app_name: 'Web' } }, 400],
    ['a body that is not JSON', 'POST', '/apps', { body: '{nope' }, 400],
    ['a machine without a config', 'POST', '/apps/web/machines', { body: { region: 'iad' } }, 400],
    ['a config that runs nothing', 'POST', '/apps/web/machines', { body: { config: { env: {} } } }, 400],
    ['a check of an unknown type', 'POST', '/apps/web/machines', { body: { config: { init: { exec: ['true'] }, checks: { c: { type: 'udp', port: 1 } } } } }, 400],
    ['a restart policy that does not exist', 'POST', '/apps/web/machines', { body: { config: { init: { exec: ['true'] }, restart: { policy: 'sometimes' } } } }, 400],
    ['a machine that does not exist', 'GET', '/apps/web/machines/00000000000000', {}, 404],
    ['a wait for a state that cannot be waited for', 'GET', '/apps/web/machines/00000000000000/wait?state=starting', {}, 400],
  ] as const)('%s → %i with {"error"}', async (_what, method, path, o, status) => {
    const r = await call(method, path, o as never);
    expect(r.status).toBe(status);
    expect(Object.keys(r.json)).toEqual(['error']);
    expect(typeof r.json.error).toBe('string');
  });

  it('creates, gets, lists and deletes an app', async () => {
    expect((await call('POST', '/apps', { body: { app_name: 'scratch' } })).json).toMatchObject({ name: 'scratch', organization: { slug: 'personal' } });
    expect((await call('GET', '/apps/scratch')).json).toMatchObject({ name: 'scratch', machine_count: 0 });
    const list = (await call('GET', '/apps?org_slug=personal')).json;
    expect(list.apps.map((a: { name: string }) => a.name)).toEqual(expect.arrayContaining(['web', 'scratch']));
    expect(list.total_apps).toBe(list.apps.length);
    expect((await call('DELETE', '/apps/scratch')).status).toBe(202);
    expect((await call('GET', '/apps/scratch')).status).toBe(404);
  });
});

describe('a machine through its life', () => {
  let port: number;
  let m: Machine;

  it('is created with its config kept whole, unknown fields included, and starts', async () => {
    port = await freePort();
    const config = {
      init: { exec: httpServer(port) },
      env: { GREETING: 'hi' },
      guest: { cpus: 1, memory_mb: 128, cpu_kind: 'shared' },
      services: [{ internal_port: port, protocol: 'tcp', ports: [{ port, handlers: ['http'] }], autostop: 'off' }],
      checks: { alive: { type: 'http', port, path: '/', interval: '1s', timeout: '1s', grace_period: '5s' } },
      restart: { policy: 'always' },
      metadata: { role: 'web' },
      dns: { skip_registration: true },
      future_field: { nested: [1, 2, 3] },
    };
    const r = await call('POST', '/apps/web/machines', { body: { region: 'fra', name: 'web-1', config } });
    expect(r.status).toBe(200);
    m = r.json;
    expect(m).toMatchObject({ name: 'web-1', region: 'fra', state: 'created', config });
    expect(m.instance_id).toMatch(/^[0-9A-Z]{20,}$/);
    expect((await call('GET', `/apps/web/machines/${m.id}/wait?state=started&timeout=30`)).json).toEqual({ ok: true });
    await waitFor('the program to answer', async () => (await answers(port)) === 'ok');
    const got = (await call('GET', `/apps/web/machines/${m.id}`)).json as Machine;
    expect(got.state).toBe('started');
    expect(got.config).toEqual(config);
    await waitFor('its check to pass', async () => ((await call('GET', `/apps/web/machines/${m.id}`)).json as Machine).checks.some((c) => c.name === 'alive' && c.status === 'passing'));
  });

  it('is listed, and filtered by region', async () => {
    expect((await call('GET', '/apps/web/machines')).json.map((x: Machine) => x.id)).toContain(m.id);
    expect((await call('GET', '/apps/web/machines?region=fra')).json.map((x: Machine) => x.id)).toEqual([m.id]);
    expect((await call('GET', '/apps/web/machines?region=sin')).json).toEqual([]);
  });

  it('update makes a new version and replaces the old one', async () => {
    const before = (await call('GET', `/apps/web/machines/${m.id}`)).json as Machine;
    const config = { ...before.config, env: { GREETING: 'hello' } };
    const r = await call('POST', `/apps/web/machines/${m.id}`, { body: { config } });
    expect(r.status).toBe(200);
    expect(r.json.instance_id).not.toBe(before.instance_id);
    expect(r.json.state).toBe('replacing');
    // the old version is gone, the new one runs
    expect((await call('GET', `/apps/web/machines/${m.id}/wait?state=stopped&instance_id=${before.instance_id}&timeout=30`)).json).toEqual({ ok: true });
    expect((await call('GET', `/apps/web/machines/${m.id}/wait?state=started&instance_id=${r.json.instance_id}&timeout=30`)).json).toEqual({ ok: true });
    const after = (await call('GET', `/apps/web/machines/${m.id}`)).json as Machine;
    expect(after.config.env).toEqual({ GREETING: 'hello' });
    expect(after.erne?.pid).not.toBe(before.erne?.pid);
    await waitFor('the program to answer', async () => (await answers(port)) === 'ok');
    m = after;
  });

  it('leases: the nonce is needed while one is held (409 without, 412 wrong), refreshed with it, released', async () => {
    const lease = await call('POST', `/apps/web/machines/${m.id}/lease`, { body: { ttl: 60, description: 'deploy' } });
    expect(lease.status).toBe(200);
    expect(lease.json).toMatchObject({ status: 'success', data: { description: 'deploy' } });
    const nonce = lease.json.data.nonce as string;
    expect(lease.json.data.expires_at).toBeGreaterThan(Date.now() / 1000 + 50);
    expect((await call('GET', `/apps/web/machines/${m.id}/lease`)).json.data.nonce).toBe(nonce);
    // someone else cannot take it, nor change the machine
    expect((await call('POST', `/apps/web/machines/${m.id}/lease`, { body: { ttl: 60 } })).status).toBe(409);
    const noNonce = await call('POST', `/apps/web/machines/${m.id}/stop`, { body: {} });
    expect(noNonce.status).toBe(409);
    expect(noNonce.json.error).toMatch(/leased/);
    expect((await call('POST', `/apps/web/machines/${m.id}/stop`, { body: {}, nonce: 'wrong' })).status).toBe(412);
    expect((await call('POST', `/apps/web/machines/${m.id}`, { body: { config: m.config } })).status).toBe(409);
    expect((await call('DELETE', `/apps/web/machines/${m.id}?force=true`)).status).toBe(409);
    expect((await call('DELETE', `/apps/web/machines/${m.id}/lease`, { nonce: 'wrong' })).status).toBe(412);
    // refused calls changed nothing
    expect(((await call('GET', `/apps/web/machines/${m.id}`)).json as Machine).state).toBe('started');
    // the holder refreshes it with its nonce
    const again = await call('POST', `/apps/web/machines/${m.id}/lease`, { body: { ttl: 120 }, nonce });
    expect(again.json.data.nonce).toBe(nonce);
    expect(again.json.data.expires_at).toBeGreaterThan(lease.json.data.expires_at);
    // and the holder may stop and start it
    expect((await call('POST', `/apps/web/machines/${m.id}/stop`, { body: { signal: 'SIGTERM', timeout: '5s' }, nonce })).json).toEqual({ ok: true });
    expect((await call('GET', `/apps/web/machines/${m.id}/wait?state=stopped&timeout=30`)).json).toEqual({ ok: true });
    expect(await answers(port)).toBeUndefined();
    const start = await call('POST', `/apps/web/machines/${m.id}/start`, { nonce });
    expect(start.json).toMatchObject({ previous_state: 'stopped' });
    expect((await call('GET', `/apps/web/machines/${m.id}/wait?state=started&timeout=30`)).json).toEqual({ ok: true });
    expect((await call('DELETE', `/apps/web/machines/${m.id}/lease`, { nonce })).status).toBe(200);
    expect((await call('GET', `/apps/web/machines/${m.id}/lease`)).status).toBe(404);
  });

  it('restart runs a new process of the same version', async () => {
    const before = (await call('GET', `/apps/web/machines/${m.id}`)).json as Machine;
    expect((await call('POST', `/apps/web/machines/${m.id}/restart?signal=SIGTERM`)).json).toEqual({ ok: true });
    const after = await waitFor('a new process', async () => {
      const x = (await call('GET', `/apps/web/machines/${m.id}`)).json as Machine;
      return x.state === 'started' && x.erne?.pid && x.erne.pid !== before.erne?.pid ? x : undefined;
    });
    expect(after!.instance_id).toBe(before.instance_id);
    await waitFor('the program to answer', async () => (await answers(port)) === 'ok');
  });

  it('wait answers 408 when the state is not reached in time', async () => {
    const r = await call('GET', `/apps/web/machines/${m.id}/wait?state=stopped&timeout=1`);
    expect(r.status).toBe(408);
    expect(r.json.error).toMatch(/deadline_exceeded/);
  });

  it('a started machine is destroyed only with force (412 without); then it is destroyed and gone from the list', async () => {
    const refused = await call('DELETE', `/apps/web/machines/${m.id}`);
    expect(refused.status).toBe(412);
    expect(((await call('GET', `/apps/web/machines/${m.id}`)).json as Machine).state).toBe('started');
    expect((await call('DELETE', `/apps/web/machines/${m.id}?force=true`)).json).toEqual({ ok: true });
    expect((await call('GET', `/apps/web/machines/${m.id}/wait?state=destroyed&timeout=30`)).json).toEqual({ ok: true });
    expect(await answers(port)).toBeUndefined();
    expect((await call('GET', '/apps/web/machines')).json.map((x: Machine) => x.id)).not.toContain(m.id);
    expect((await call('POST', `/apps/web/machines/${m.id}/start`)).status).toBe(412);
  });

  it('its events say what happened, newest first', async () => {
    const events = (await call('GET', `/apps/web/machines/${m.id}/events`)).json as { type: string; status: string; timestamp: number }[];
    const types = events.map((e) => `${e.type}:${e.status}`);
    expect(types[0]).toBe('destroy:destroyed');
    expect(types).toEqual(expect.arrayContaining(['launch:created', 'start:started', 'update:replacing', 'stop:stopping', 'exit:stopped', 'restart:stopping']));
    expect(events.map((e) => e.timestamp)).toEqual([...events.map((e) => e.timestamp)].sort((a, b) => b - a));
  });
});

describe('restart policies', () => {
  it('on-failure restarts a program that fails, with back-off, and stops after max_retries', async () => {
    const r = await call('POST', '/apps/web/machines', { body: { config: { init: { exec: nodeExec('process.exit(3)') }, restart: { policy: 'on-failure', max_retries: 2 } } } });
    const id = r.json.id as string;
    const m = await waitFor('it to give up', async () => {
      const x = (await call('GET', `/apps/web/machines/${id}`)).json as Machine;
      return x.state === 'stopped' ? x : undefined;
    });
    const exits = m!.events.filter((e) => e.type === 'exit');
    expect(exits.length).toBe(3);
    expect(exits.every((e) => e.request?.['exit_code'] === 3)).toBe(true);
    // back-off: each wait before a start is longer than the one before
    const times = m!.events.filter((e) => e.type === 'exit' || e.type === 'start').map((e) => e.timestamp).reverse();
    expect(times.length).toBe(6);
    expect(times[4]! - times[3]!).toBeGreaterThan(times[2]! - times[1]!);
    await call('DELETE', `/apps/web/machines/${id}?force=true`);
  });

  it('on-failure does not restart a program that exits 0; no does not restart at all', async () => {
    const clean = (await call('POST', '/apps/web/machines', { body: { config: { init: { exec: nodeExec('process.exit(0)') }, restart: { policy: 'on-failure' } } } })).json.id;
    const never = (await call('POST', '/apps/web/machines', { body: { config: { init: { exec: nodeExec('process.exit(1)') }, restart: { policy: 'no' } } } })).json.id;
    for (const id of [clean, never]) {
      expect((await call('GET', `/apps/web/machines/${id}/wait?state=stopped&timeout=30`)).json).toEqual({ ok: true });
      const m = (await call('GET', `/apps/web/machines/${id}`)).json as Machine;
      expect(m.events.filter((e) => e.type === 'start').length).toBe(1);
      await call('DELETE', `/apps/web/machines/${id}`);
    }
  });
});
