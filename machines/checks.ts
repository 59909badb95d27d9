/**
 * Health checks as a Fly machine config declares them:
 *
 *   checks: { alive: { type: 'http', port: 9000, path: '/.erne/health', interval: '10s',
 *                      timeout: '2s', grace_period: '5s', method: 'get' } }
 *
 * runCheck() runs one check once against where the machine's port is reached and says
 * passing or failing with a message; a CheckTracker keeps each check's last result and says
 * which checks are due and which are failing past the grace period (failures while a machine
 * is still starting do not count). The scheduler owns the loop and decides what a failure
 * leads to (a replacement); nothing here sleeps or keeps a timer.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { parseDuration } from './duration.js';

export interface CheckConfig {
  type: 'http' | 'tcp';
  /** the machine's (internal) port */
  port: number;
  interval?: string;
  timeout?: string;
  grace_period?: string;
  /** http: GET by default */
  method?: string;
  /** http: "/" by default */
  path?: string;
  protocol?: 'http' | 'https';
  tls_skip_verify?: boolean;
  headers?: { name: string; values: string[] }[];
  /** unknown fields are kept (Fly's configs grow) */
  [field: string]: unknown;
}

export const CHECK_DEFAULTS = { intervalMs: 15_000, timeoutMs: 2_000, graceMs: 0 };

export interface CheckResult {
  status: 'passing' | 'failing';
  message: string;
  /** when the result was taken (ms since epoch) */
  at: number;
}

export interface CheckTiming {
  intervalMs: number;
  timeoutMs: number;
  graceMs: number;
}

/** the check's durations in ms; throws DurationError on a malformed one */
export function checkTiming(c: CheckConfig): CheckTiming {
  return {
    intervalMs: parseDuration(c.interval, CHECK_DEFAULTS.intervalMs),
    timeoutMs: parseDuration(c.timeout, CHECK_DEFAULTS.timeoutMs),
    graceMs: parseDuration(c.grace_period, CHECK_DEFAULTS.graceMs),
  };
}

/** a config error (unknown type, no port) as one line, or undefined when the check can run */
export function checkProblem(c: CheckConfig): string | undefined {
  if (c.type !== 'http' && c.type !== 'tcp') return `check type must be http or tcp, not ${JSON.stringify(c.type)}`;
  if (!Number.isInteger(c.port) || c.port < 1 || c.port > 65535) return `check port must be 1-65535, not ${JSON.stringify(c.port)}`;
  try {
    checkTiming(c);
  } catch (err) {
    return (err as Error).message;
  }
  return undefined;
}

/**
 * Runs the check once. `target.host` is where the machine is reached (127.0.0.1, or its
 * region's address); `target.port` overrides the check's port (a published port mapping).
 */
export async function runCheck(c: CheckConfig, target: { host: string; port?: number }, now: () => number = Date.now): Promise<CheckResult> {
  const problem = checkProblem(c);
  if (problem) return { status: 'failing', message: problem, at: now() };
  const { timeoutMs } = checkTiming(c);
  const port = target.port ?? c.port;
  const done = (status: CheckResult['status'], message: string): CheckResult => ({ status, message, at: now() });
  if (c.type === 'tcp') {
    return new Promise((resolve) => {
      const s = net.connect({ host: target.host, port });
      const end = (r: CheckResult) => (s.destroy(), resolve(r));
      s.setTimeout(timeoutMs, () => end(done('failing', `no connection to ${target.host}:${port} within ${timeoutMs} ms`)));
      s.once('connect', () => end(done('passing', `connected to ${target.host}:${port}`)));
      s.once('error', (err) => end(done('failing', `cannot connect to ${target.host}:${port}: ${err.message}`)));
    });
  }
  const secure = c.protocol === 'https';
  const headers: Record<string, string[]> = {};
  for (const h of c.headers ?? []) headers[h.name] = h.values;
  return new Promise((resolve) => {
    const req = (secure ? https : http).request({
      host: target.host,
      port,
      method: (c.method ?? 'GET').toUpperCase(),
      path: c.path ?? '/',
      headers,
      agent: false,
      ...(secure ? { rejectUnauthorized: !c.tls_skip_verify } : {}),
    });
    let settled = false;
    const end = (r: CheckResult) => {
      if (settled) return;
      settled = true;
      req.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => end(done('failing', `no answer within ${timeoutMs} ms`)), timeoutMs);
    req.once('error', (err) => (clearTimeout(timer), end(done('failing', err.message))));
    req.once('response', (res) => {
      const code = res.statusCode ?? 0;
      let body = '';
      res.setEncoding('utf8');
      // a little of the body explains a failure; the rest is not read
      res.on('data', (d: string) => {
        body += d;
        if (body.length >= 200) res.destroy();
      });
      const finish = () => {
        clearTimeout(timer);
        const ok = code >= 200 && code < 300;
        end(done(ok ? 'passing' : 'failing', ok ? `HTTP ${code}` : `HTTP ${code}: ${body.slice(0, 200).trim()}`));
      };
      res.once('end', finish);
      res.once('close', finish);
    });
    req.end();
  });
}

/** Fly reports a failing check as "critical" */
export function flyCheckStatus(r: CheckResult | undefined): 'passing' | 'critical' | 'warning' {
  return !r ? 'warning' : r.status === 'passing' ? 'passing' : 'critical';
}

/** the checks of one machine run (reset it when the machine starts again) */
export class CheckTracker {
  private readonly timing = new Map<string, CheckTiming>();
  private readonly last = new Map<string, CheckResult>();
  private readonly ran = new Map<string, number>();

  constructor(
    readonly checks: Record<string, CheckConfig>,
    /** when the machine (this run of it) started */
    readonly startedAt: number,
  ) {
    for (const [name, c] of Object.entries(checks)) this.timing.set(name, checkTiming(c));
  }

  /** the checks whose time has come: the first run right away, then every interval after the last */
  due(now: number): string[] {
    return [...this.timing].filter(([name, t]) => {
      const last = this.ran.get(name);
      return last === undefined || now - last >= t.intervalMs;
    }).map(([name]) => name);
  }

  /** call when a run begins (so a slow check is not started twice) and with its result */
  started(name: string, at: number): void {
    this.ran.set(name, at);
  }

  record(name: string, result: CheckResult): void {
    if (!this.ran.has(name)) this.ran.set(name, result.at);
    this.last.set(name, result);
  }

  result(name: string): CheckResult | undefined {
    return this.last.get(name);
  }

  /** the checks whose latest result, taken after the grace period, is failing */
  failingPastGrace(): { name: string; result: CheckResult }[] {
    const out: { name: string; result: CheckResult }[] = [];
    for (const [name, t] of this.timing) {
      const r = this.last.get(name);
      if (r?.status === 'failing' && r.at >= this.startedAt + t.graceMs) out.push({ name, result: r });
    }
    return out;
  }

  /** every check passes (and each has run at least once) */
  passing(): boolean {
    return [...this.timing.keys()].every((name) => this.last.get(name)?.status === 'passing');
  }
}
