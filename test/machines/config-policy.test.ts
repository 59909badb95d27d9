/**
 * The pure parts under the Machines API: a config's checks (known fields checked, unknown ones
 * kept), restart policies as Fly documents them, and the back-off between restarts.
 */
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../machines/api/config.js';
import { ApiError } from '../../machines/api/errors.js';
import { backoffMs, shouldRestart } from '../../machines/scheduler/restart-policy.js';

const run = { init: { exec: ['true'] } };

describe('validateConfig', () => {
  it.each([
    ['not an object', 'x', /config: expected a JSON object/],
    ['nothing to run', {}, /needs image or init.exec/],
    ['exec not strings', { init: { exec: [1] } }, /config.init.exec/],
    ['env with a number', { ...run, env: { A: 1 } }, /config.env/],
    ['cpus of zero', { ...run, guest: { cpus: 0 } }, /config.guest.cpus/],
    ['a service without a port', { ...run, services: [{ protocol: 'tcp' }] }, /internal_port/],
    ['a port too large', { ...run, services: [{ internal_port: 70000 }] }, /internal_port/],
    ['a check without a port or service', { ...run, checks: { c: { type: 'tcp' } } }, /config.checks.c.port/],
    ['a check interval that is no duration', { ...run, checks: { c: { type: 'tcp', port: 80, interval: 'soon' } } }, /config.checks.c.interval/],
    ['a check path without /', { ...run, checks: { c: { type: 'http', port: 80, path: 'health' } } }, /path/],
    ['a negative max_retries', { ...run, restart: { policy: 'on-failure', max_retries: -1 } }, /max_retries/],
    ['mounts not a list', { ...run, mounts: {} }, /config.mounts/],
  ])('refuses %s with a 400 naming the field', (_what, config, message) => {
    let err: unknown;
    try {
      validateConfig(config);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(400);
    expect((err as ApiError).message).toMatch(message);
  });

  it('keeps every field, known or not, and copies the input', () => {
    const input = { image: 'erne:1', init: { cmd: ['serve'], tty: false }, files: [{ guest_path: '/x' }], auto_destroy: false, checks: { h: { type: 'http', port: 9000, path: '/', kind: 'readiness' } } };
    const out = validateConfig(input);
    expect(out).toEqual(input);
    expect(out).not.toBe(input);
    expect(out.checks).not.toBe(input.checks);
  });
});

describe('restart policy', () => {
  it.each([
    ['no', { policy: 'no' }, 1, 1, false],
    ['always, clean exit', { policy: 'always' }, 0, 50, true],
    ['on-failure, clean exit', { policy: 'on-failure' }, 0, 1, false],
    ['on-failure, crash', { policy: 'on-failure' }, 1, 1, true],
    ['on-failure, killed (no exit code)', { policy: 'on-failure' }, null, 1, true],
    ['on-failure, past max_retries', { policy: 'on-failure', max_retries: 2 }, 1, 3, false],
    ['on-failure, at max_retries', { policy: 'on-failure', max_retries: 2 }, 1, 2, true],
    ['none given: on-failure with 10 retries', undefined, 1, 10, true],
    ['none given, the 11th failure', undefined, 1, 11, false],
  ] as const)('%s', (_what, restart, exitCode, failures, again) => {
    expect(shouldRestart(restart ? { restart } : {}, exitCode, failures)).toBe(again);
  });

  it('backs off exponentially, capped', () => {
    const b = { baseMs: 500, maxMs: 30_000 };
    expect([1, 2, 3, 4, 5, 6, 7, 20].map((f) => backoffMs(f, b))).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  });
});
