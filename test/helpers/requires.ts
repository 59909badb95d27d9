/**
 * What a test needs from the machine (a client program, root for a tmpfs mount, openssl …).
 * Outside CI a test whose need is missing is skipped, and its title says what is missing. In
 * CI (`CI=true`) the same test FAILS with that message: a green CI run has run every test.
 *
 *   const s3cmd = program('/usr/bin/s3cmd', ['--version'], 's3cmd');
 *   itNeeds(s3cmd)('s3cmd put and get', async () => { … });
 *   describeNeeds(s3cmd)('s3cmd client suite', () => { … });
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';

export const IN_CI = /^(true|1)$/i.test(process.env.CI ?? '');

/** A need: met, or `missing` says what is not there (and how to get it). */
export interface Need {
  readonly missing?: string;
}

type TestBody = () => unknown;

/** A need decided by the caller (e.g. "cannot mount a tmpfs: …"); `missing` undefined when met. */
export function need(missing: string | undefined): Need {
  return { missing };
}

/**
 * A program that exists and runs: `args` (e.g. --version) exits 0. `apt` names the Debian
 * package that provides it, for the message.
 */
export function program(bin: string, args: string[] = ['--version'], apt?: string): Need {
  const hint = apt ? ` (apt-get install ${apt})` : '';
  if (bin.includes('/') && !existsSync(bin)) return need(`${bin} is not installed${hint}`);
  try {
    execFileSync(bin, args, { stdio: 'ignore', timeout: 20_000 });
    return need(undefined);
  } catch {
    return need(`${bin} ${args.join(' ')} does not run${hint}`);
  }
}

/** All of the needs; what is missing is listed together. */
export function allOf(...needs: Need[]): Need {
  const missing = needs.flatMap((n) => (n.missing ? [n.missing] : []));
  return need(missing.length ? missing.join('; ') : undefined);
}

function failure(n: Need): Error {
  return new Error(`cannot run: ${n.missing}. CI=true, so a test that cannot run fails instead of being skipped`);
}

/** `it` for a test that needs `n`: runs when met; otherwise skipped (outside CI) or failing (CI). */
export function itNeeds(n: Need): (title: string, fn: TestBody, timeout?: number) => void {
  return (title, fn, timeout) => {
    if (!n.missing) return void it(title, fn, timeout);
    if (IN_CI)
      return void it(title, () => {
        throw failure(n);
      });
    it.skip(`${title} [skipped: ${n.missing}]`, fn);
  };
}

/** `describe` for a block that needs `n`; when missing, in CI one failing test stands for the block. */
export function describeNeeds(n: Need): (title: string, fn: () => void) => void {
  return (title, fn) => {
    if (!n.missing) return void describe(title, fn);
    if (IN_CI)
      return void describe(title, () => {
        it('can run here', () => {
          throw failure(n);
        });
      });
    describe.skip(`${title} [skipped: ${n.missing}]`, fn);
  };
}

/**
 * Inside a test, for one step that needs `n` (the rest of the test runs anyway): true when
 * met; in CI throws; outside CI warns naming what is missing and returns false.
 */
export function canRun(n: Need, step: string): boolean {
  if (!n.missing) return true;
  if (IN_CI) throw failure(n);
  console.warn(`${step} not checked: ${n.missing}`);
  return false;
}

/**
 * `it` for a test of behaviour that exists only where `n` holds (not a missing tool): where it
 * does not hold the test is skipped, also in CI, and its title says why.
 */
export function itWhere(n: Need): (title: string, fn: TestBody, timeout?: number) => void {
  return (title, fn, timeout) => (n.missing ? void it.skip(`${title} [does not apply: ${n.missing}]`, fn) : void it(title, fn, timeout));
}

/**
 * Where the optional foundationdb package is installed (npm could build it against the
 * FoundationDB client library), choosing the FDB backend reaches for a cluster instead of
 * refusing with one line: the tests of that refusal apply only where it is absent.
 */
export const withoutFdbBinding: Need = need(
  existsSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'node_modules', 'foundationdb'))
    ? 'the optional foundationdb package is installed here, so --metadata fdb reaches for a cluster instead of refusing'
    : undefined,
);
