/**
 * Fly-style health checks: durations in Go's form (table), one run of an HTTP or TCP check
 * against real sockets, and the tracker's grace period and due times.
 */
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkProblem, CheckTracker, flyCheckStatus, runCheck, type CheckConfig, type CheckResult } from '../../machines/checks.js';
import { DurationError, parseDuration } from '../../machines/duration.js';
import { freePort } from '../helpers/child.js';

describe('parseDuration', () => {
  it.each([
    ['10s', 10_000],
    ['500ms', 500],
    ['1m', 60_000],
    ['1m30s', 90_000],
    ['1.5h', 5_400_000],
    ['0', 0],
    ['250us', 0.25],
    [' 2s ', 2000],
    [5, 5000],
  ] as const)('%j is %d ms', (text, ms) => {
    expect(parseDuration(text, 7)).toBe(ms);
  });

  it.each([undefined, null, ''])('%j gives the default', (v) => {
    expect(parseDuration(v, 7)).toBe(7);
  });

  it.each(['10', '10 s', 's', '1x', '-1s', '1s2', 'ten seconds'])('%j is refused', (text) => {
    expect(() => parseDuration(text, 0)).toThrow(DurationError);
  });
});

describe('runCheck', () => {
  let server: http.Server;
  let port: number;
  let hang: http.Server;
  let hangPort: number;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/ok') return void res.end(req.method);
      if (req.url === '/header') return void res.writeHead(req.headers['x-probe'] === 'yes' ? 200 : 400).end();
      res.writeHead(503).end('not ready: metadata');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
    hang = http.createServer(() => undefined); // accepts, never answers
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
    hangPort = (hang.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    hang.closeAllConnections();
    await Promise.all([new Promise((r) => server.close(r)), new Promise((r) => hang.close(r))]);
  });

  const at = { host: '127.0.0.1' };

  it('an HTTP check passes on 2xx with the method asked for, fails otherwise with the answer', async () => {
    expect(await runCheck({ type: 'http', port, path: '/ok' }, at)).toMatchObject({ status: 'passing', message: 'HTTP 200' });
    expect(await runCheck({ type: 'http', port, path: '/ok', method: 'head' }, at)).toMatchObject({ status: 'passing' });
    expect(await runCheck({ type: 'http', port, path: '/down' }, at)).toMatchObject({ status: 'failing', message: 'HTTP 503: not ready: metadata' });
    expect(await runCheck({ type: 'http', port, path: '/header', headers: [{ name: 'x-probe', values: ['yes'] }] }, at)).toMatchObject({ status: 'passing' });
  });

  it('a check against a closed port or a silent server fails, naming why', async () => {
    const closed = await freePort();
    expect(await runCheck({ type: 'http', port: closed }, at)).toMatchObject({ status: 'failing', message: expect.stringContaining('ECONNREFUSED') });
    expect(await runCheck({ type: 'tcp', port: closed }, at)).toMatchObject({ status: 'failing', message: expect.stringContaining('ECONNREFUSED') });
    expect(await runCheck({ type: 'http', port: hangPort, timeout: '200ms' }, at)).toMatchObject({ status: 'failing', message: 'no answer within 200 ms' });
  });

  it('a TCP check passes when the port accepts; the target port overrides the check port', async () => {
    expect(await runCheck({ type: 'tcp', port }, at)).toMatchObject({ status: 'passing' });
    expect(await runCheck({ type: 'tcp', port: 1 }, { host: '127.0.0.1', port })).toMatchObject({ status: 'passing' });
  });

  it('a malformed check fails with the config error, and checkProblem names it', async () => {
    const bad = { type: 'http', port, interval: 'often' } as CheckConfig;
    expect(checkProblem(bad)).toMatch(/not a duration: "often"/);
    expect(checkProblem({ type: 'udp', port } as unknown as CheckConfig)).toMatch(/http or tcp/);
    expect(checkProblem({ type: 'tcp', port: 0 })).toMatch(/port/);
    expect(await runCheck(bad, at)).toMatchObject({ status: 'failing', message: expect.stringMatching(/often/) });
  });
});

describe('CheckTracker', () => {
  const r = (status: CheckResult['status'], at: number): CheckResult => ({ status, message: status, at });
  const checks: Record<string, CheckConfig> = {
    http: { type: 'http', port: 80, interval: '10s', grace_period: '30s' },
    tcp: { type: 'tcp', port: 80, interval: '5s' },
  };

  it('failures inside the grace period do not count; after it they do', () => {
    const t = new CheckTracker(checks, 1000);
    t.record('http', r('failing', 1000 + 29_999));
    expect(t.failingPastGrace()).toEqual([]);
    t.record('http', r('failing', 1000 + 30_000));
    expect(t.failingPastGrace().map((f) => f.name)).toEqual(['http']);
    // a check without a grace period counts from the start
    t.record('tcp', r('failing', 1000));
    expect(t.failingPastGrace().map((f) => f.name).sort()).toEqual(['http', 'tcp']);
    t.record('http', r('passing', 1000 + 40_000));
    t.record('tcp', r('passing', 1000 + 40_000));
    expect(t.failingPastGrace()).toEqual([]);
    expect(t.passing()).toBe(true);
  });

  it('says which checks are due: each at once, then every interval', () => {
    const t = new CheckTracker(checks, 0);
    expect(t.due(0).sort()).toEqual(['http', 'tcp']);
    t.started('http', 0);
    t.started('tcp', 0);
    expect(t.due(4999)).toEqual([]);
    expect(t.due(5000)).toEqual(['tcp']);
    expect(t.due(10_000).sort()).toEqual(['http', 'tcp']);
    expect(t.passing()).toBe(false); // nothing recorded yet
    expect(flyCheckStatus(t.result('http'))).toBe('warning');
    t.record('http', r('failing', 10));
    expect(flyCheckStatus(t.result('http'))).toBe('critical');
  });
});
