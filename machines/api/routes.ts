/**
 * The Machines API over HTTP, in Fly's shape: JSON under /v1, `Authorization: Bearer <token>`,
 * refusals as `{"error": "…"}` with Fly's status codes. Besides Fly's routes, one of Erne's own:
 * GET …/machines/{id}/logs (text lines; `?follow=true` keeps the response open).
 */
import { timingSafeEqual } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { stream } from 'hono/streaming';
import { ApiError, badRequest } from './errors.js';
import type { MachinesControl } from './control.js';
import { NONCE_HEADER, acquireLease, getLease, releaseLease } from './leases.js';

export interface RoutesDeps {
  control: MachinesControl;
  token: string;
  /** the machine's log lines (its driver's); with follow, until the signal aborts */
  logs(id: string, opts: { follow: boolean; signal: AbortSignal }): AsyncIterable<string>;
  /** sends a signal to a running machine */
  signal(id: string, signal: NodeJS.Signals): Promise<void>;
}

function authorized(header: string | undefined, token: string): boolean {
  const m = /^Bearer (.+)$/i.exec(header ?? '');
  if (!m) return false;
  const a = Buffer.from(m[1]!.trim());
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function jsonBody(c: Context): Promise<Record<string, unknown>> {
  const text = await c.req.text();
  if (text.trim() === '') return {};
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    return v as Record<string, unknown>;
  } catch {
    throw badRequest('the request body is not a JSON object');
  }
}

export function machinesRoutes(deps: RoutesDeps): Hono {
  const { control } = deps;
  const app = new Hono();
  const nonce = (c: Context) => c.req.header(NONCE_HEADER) || undefined;

  app.onError((err, c) => {
    if (err instanceof ApiError) return c.json({ error: err.message }, err.status);
    return c.json({ error: `internal error: ${err.message}` }, 500);
  });
  app.notFound((c) => c.json({ error: `no such endpoint: ${c.req.method} ${c.req.path}` }, 404));
  app.use('/v1/*', async (c, next) => {
    if (!authorized(c.req.header('authorization'), deps.token)) return c.json({ error: 'unauthorized: send Authorization: Bearer <token>' }, 401);
    await next();
  });

  app.get('/v1/apps', (c) => c.json(control.listApps()));
  app.post('/v1/apps', async (c) => c.json(control.createApp(await jsonBody(c)), 201));
  app.get('/v1/apps/:app', (c) => c.json(control.getApp(c.req.param('app'))));
  app.delete('/v1/apps/:app', (c) => {
    control.deleteApp(c.req.param('app'));
    return c.body(null, 202);
  });

  const M = '/v1/apps/:app/machines';
  app.get(M, (c) => c.json(control.list(c.req.param('app'), { region: c.req.query('region'), includeDeleted: c.req.query('include_deleted') === 'true' })));
  app.post(M, async (c) => c.json(control.create(c.req.param('app'), await jsonBody(c))));
  app.get(`${M}/:id`, (c) => c.json(control.get(c.req.param('app'), c.req.param('id'))));
  app.post(`${M}/:id`, async (c) => c.json(control.update(c.req.param('app'), c.req.param('id'), await jsonBody(c), nonce(c))));
  app.delete(`${M}/:id`, (c) => {
    control.destroy(c.req.param('app'), c.req.param('id'), /^(true|1)$/.test(c.req.query('force') ?? c.req.query('kill') ?? ''), nonce(c));
    return c.json({ ok: true });
  });
  app.post(`${M}/:id/start`, (c) => c.json(control.start(c.req.param('app'), c.req.param('id'), nonce(c))));
  app.post(`${M}/:id/stop`, async (c) => {
    control.stop(c.req.param('app'), c.req.param('id'), await jsonBody(c), nonce(c));
    return c.json({ ok: true });
  });
  app.post(`${M}/:id/restart`, (c) => {
    control.restart(c.req.param('app'), c.req.param('id'), { signal: c.req.query('signal'), timeout: c.req.query('timeout') }, nonce(c));
    return c.json({ ok: true });
  });
  app.post(`${M}/:id/suspend`, (c) => {
    control.suspend(c.req.param('app'), c.req.param('id'), nonce(c));
    return c.json({ ok: true });
  });
  app.post(`${M}/:id/signal`, async (c) => {
    const m = control.record(c.req.param('app'), c.req.param('id'));
    const body = await jsonBody(c);
    const sig = String(body['signal'] ?? '').toUpperCase();
    if (!/^SIG[A-Z0-9]+$/.test(sig)) throw badRequest('signal: a signal name such as SIGHUP');
    if (m.state !== 'started') throw new ApiError(412, `machine ${m.id} is ${m.state}, not started`);
    await deps.signal(m.id, sig as NodeJS.Signals);
    return c.json({ ok: true });
  });
  app.get(`${M}/:id/wait`, async (c) => {
    const q = { state: c.req.query('state'), timeout: c.req.query('timeout'), instance_id: c.req.query('instance_id') };
    if (await control.wait(c.req.param('app'), c.req.param('id'), q)) return c.json({ ok: true });
    return c.json({ error: `deadline_exceeded: machine did not reach state ${q.state ?? 'started'} in time` }, 408);
  });
  app.post(`${M}/:id/lease`, async (c) => {
    const m = control.record(c.req.param('app'), c.req.param('id'));
    const body = await jsonBody(c);
    if (c.req.query('ttl') !== undefined) body['ttl'] = c.req.query('ttl');
    return c.json(acquireLease(control.store, m, body, nonce(c), 'api'));
  });
  app.get(`${M}/:id/lease`, (c) => c.json(getLease(control.record(c.req.param('app'), c.req.param('id')))));
  app.delete(`${M}/:id/lease`, (c) => {
    releaseLease(control.store, control.record(c.req.param('app'), c.req.param('id')), nonce(c));
    return c.json({ ok: true });
  });
  app.get(`${M}/:id/events`, (c) => c.json(control.events(c.req.param('app'), c.req.param('id'))));
  app.get(`${M}/:id/logs`, (c) => {
    const m = control.record(c.req.param('app'), c.req.param('id'));
    const follow = c.req.query('follow') === 'true';
    c.header('content-type', 'text/plain; charset=utf-8');
    return stream(c, async (s) => {
      const ac = new AbortController();
      s.onAbort(() => ac.abort());
      for await (const line of deps.logs(m.id, { follow, signal: ac.signal })) await s.write(line.endsWith('\n') ? line : `${line}\n`);
    });
  });
  return app;
}
