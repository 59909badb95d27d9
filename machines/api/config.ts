/**
 * Checks a machine config as the API receives it. Known fields must have the right shape
 * (else 400 naming the field); every other field is kept as given and returned, as Fly does.
 */
import { parseDuration } from '../duration.js';
import { badRequest } from './errors.js';
import type { MachineConfig } from './types.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
const isPort = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535;

export function validateConfig(raw: unknown): MachineConfig {
  if (!isObject(raw)) throw badRequest('config: expected a JSON object');
  // a copy: the stored config never aliases the request
  const c = structuredClone(raw) as MachineConfig;
  const init = c.init;
  if (init !== undefined) {
    if (!isObject(init)) throw badRequest('config.init: expected an object');
    for (const k of ['exec', 'entrypoint', 'cmd'] as const) if (init[k] !== undefined && !isStrings(init[k])) throw badRequest(`config.init.${k}: expected an array of strings`);
  }
  if (c.image !== undefined && typeof c.image !== 'string') throw badRequest('config.image: expected a string');
  const runs = (init?.exec?.length ?? 0) + (init?.entrypoint?.length ?? 0) + (init?.cmd?.length ?? 0) > 0;
  if (!runs && !c.image) throw badRequest('config: needs image or init.exec / init.cmd (what the machine runs)');
  if (c.env !== undefined && (!isObject(c.env) || !Object.values(c.env).every((v) => typeof v === 'string'))) throw badRequest('config.env: expected an object of strings');
  if (c.metadata !== undefined && (!isObject(c.metadata) || !Object.values(c.metadata).every((v) => typeof v === 'string'))) throw badRequest('config.metadata: expected an object of strings');
  if (c.guest !== undefined) {
    if (!isObject(c.guest)) throw badRequest('config.guest: expected an object');
    for (const k of ['cpus', 'memory_mb'] as const) {
      const v = c.guest[k];
      if (v !== undefined && (!Number.isInteger(v) || (v as number) < 1)) throw badRequest(`config.guest.${k}: expected a whole number ≥ 1`);
    }
  }
  if (c.services !== undefined) {
    if (!Array.isArray(c.services)) throw badRequest('config.services: expected an array');
    c.services.forEach((s, i) => {
      if (!isObject(s) || !isPort(s.internal_port)) throw badRequest(`config.services[${i}].internal_port: expected a port 1..65535`);
      if (s.protocol !== undefined && s.protocol !== 'tcp' && s.protocol !== 'udp') throw badRequest(`config.services[${i}].protocol: tcp or udp`);
      if (s.ports !== undefined && !Array.isArray(s.ports)) throw badRequest(`config.services[${i}].ports: expected an array`);
    });
  }
  if (c.checks !== undefined) {
    if (!isObject(c.checks)) throw badRequest('config.checks: expected an object of named checks');
    for (const [name, ck] of Object.entries(c.checks)) {
      if (!isObject(ck) || (ck.type !== 'http' && ck.type !== 'tcp')) throw badRequest(`config.checks.${name}.type: http or tcp`);
      if (ck.port !== undefined && !isPort(ck.port)) throw badRequest(`config.checks.${name}.port: expected a port 1..65535`);
      if (ck.port === undefined && !c.services?.length) throw badRequest(`config.checks.${name}.port: needed when the config has no services`);
      for (const k of ['interval', 'timeout', 'grace_period'] as const) {
        try {
          if (ck[k] !== undefined && typeof ck[k] !== 'string' && typeof ck[k] !== 'number') throw new Error(`not a duration: ${JSON.stringify(ck[k])}`);
          parseDuration(ck[k] as string | number | undefined, 0);
        } catch (err) {
          throw badRequest(`config.checks.${name}.${k}: ${(err as Error).message}`);
        }
      }
      if (ck.path !== undefined && (typeof ck.path !== 'string' || !ck.path.startsWith('/'))) throw badRequest(`config.checks.${name}.path: expected a path starting with /`);
    }
  }
  if (c.restart !== undefined) {
    if (!isObject(c.restart)) throw badRequest('config.restart: expected an object');
    if (c.restart.policy !== undefined && !['no', 'on-failure', 'always'].includes(c.restart.policy)) throw badRequest('config.restart.policy: no, on-failure or always');
    if (c.restart.max_retries !== undefined && (!Number.isInteger(c.restart.max_retries) || c.restart.max_retries < 0)) throw badRequest('config.restart.max_retries: expected a whole number ≥ 0');
  }
  if (c.mounts !== undefined && (!Array.isArray(c.mounts) || !c.mounts.every(isObject))) throw badRequest('config.mounts: expected an array of objects');
  return c;
}
