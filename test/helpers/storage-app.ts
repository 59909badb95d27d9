/**
 * `erne storage create` as a user runs it (the built CLI against a gateway's admin API) and
 * the app its output is pasted into (test/cli/fixtures/s3-app.mjs: an S3 client with no
 * settings, so only the environment configures it). Needs `npm run build` first.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'vitest';
import { REPO_ROOT } from './child.js';
import { runErne, type CliRun } from './erne-run.js';
import { ROOT } from './gateway.js';

const APP = join(REPO_ROOT, 'test', 'cli', 'fixtures', 's3-app.mjs');
const ENV_LINE = /^(AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_ENDPOINT_URL_S3|AWS_REGION|BUCKET_NAME)=(\S+)$/;

/** the root key from the AWS_* pair (flags and ERNE_ROOT_* are the other ways) */
export const asRoot = (): Record<string, string> => ({ AWS_ACCESS_KEY_ID: ROOT.accessKeyId, AWS_SECRET_ACCESS_KEY: ROOT.secretAccessKey, ERNE_ROOT_ACCESS_KEY: '', ERNE_ROOT_SECRET_KEY: '' });

export function erneAt(endpoint: string, args: string[], env: Record<string, string> = asRoot()): Promise<CliRun> {
  return runErne([...args, '--endpoint', endpoint], { env });
}

export interface Created {
  /** the printed lines as a table */
  vars: Record<string, string>;
  stdout: string;
  stderr: string;
}

/** `erne storage create` → its KEY=value lines (each checked to be one) */
export async function storageCreate(endpoint: string, args: string[] = []): Promise<Created> {
  const r = await erneAt(endpoint, ['storage', 'create', ...args]);
  expect(r.code, r.stderr).toBe(0);
  const vars: Record<string, string> = {};
  for (const l of r.stdout.trimEnd().split('\n')) {
    const m = ENV_LINE.exec(l);
    expect(m, `not a KEY=value line: ${l}`).not.toBeNull();
    vars[m![1]!] = m![2]!;
  }
  return { vars, stdout: r.stdout, stderr: r.stderr };
}

/** the app, with only the pasted lines (and PATH, and `home` as HOME: no ~/.aws) as its environment */
export function runApp(pasted: string, home: string, other?: string): Promise<Record<string, unknown>> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: home };
  for (const line of pasted.trimEnd().split('\n')) {
    const i = line.indexOf('=');
    env[line.slice(0, i)] = line.slice(i + 1);
  }
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--no-warnings', APP, ...(other ? [other] : [])], { env, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`app failed: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(String(stdout)) as Record<string, unknown>);
    });
  });
}
