/** The scheduler's probe: one run of a check (machines/checks.ts) at the machine's address. */
import { runCheck, type CheckConfig } from '../checks.js';
import type { Probe } from './health.js';

export const runProbe: Probe = async (check, target, timeoutMs) => {
  const r = await runCheck({ ...check, port: target.port, timeout: `${timeoutMs}ms` } as CheckConfig, target);
  return { ok: r.status === 'passing', output: r.message };
};
