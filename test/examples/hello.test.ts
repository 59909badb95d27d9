/**
 * examples/hello.mjs runs as the README says (`node examples/hello.mjs` beside a running
 * `npm start`): a child gateway whose data directory is ./data of the example's working
 * directory, the example as a child process, its output asserted.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, startChildGateway, type ChildGateway } from '../helpers/child.js';
import { runErne } from '../helpers/erne-run.js';
import { ROOT } from '../helpers/gateway.js';

const HELLO = join(REPO_ROOT, 'examples', 'hello.mjs');
/** none of the ways the example finds keys, so each test sets exactly one */
const NO_KEYS = { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_SESSION_TOKEN: '', ERNE_ROOT_ACCESS_KEY: '', ERNE_ROOT_SECRET_KEY: '', ERNE_DATA_DIR: '' };

describe('node examples/hello.mjs', () => {
  let cwd: string;
  let g: ChildGateway;
  beforeAll(async () => {
    cwd = mkdtempSync(join(tmpdir(), 'erne-hello-'));
    // as `npm start` does it: no ERNE_ROOT_*, so the root key is generated into ./data
    g = await startChildGateway({ dataDir: join(cwd, 'data'), env: { ERNE_ROOT_ACCESS_KEY: '', ERNE_ROOT_SECRET_KEY: '' } });
  });
  afterAll(async () => {
    await g?.stop();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('with the keys npm start generated into ./data, twice (the second run finds its bucket)', async () => {
    for (let run = 0; run < 2; run++) {
      const r = await runErne([], { script: HELLO, cwd, env: { ...NO_KEYS, AWS_ENDPOINT_URL: g.url } });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(`wrote s3://hello/hello.txt at ${g.url} and read back: Hello from Erne!\n`);
    }
  });

  it('with keys from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (no ./data where it runs)', async () => {
    const keys = JSON.parse(readFileSync(join(cwd, 'data', 'root-credentials.json'), 'utf8')) as { accessKeyId: string; secretAccessKey: string };
    const env = { ...NO_KEYS, AWS_ENDPOINT_URL: g.url, AWS_ACCESS_KEY_ID: keys.accessKeyId, AWS_SECRET_ACCESS_KEY: keys.secretAccessKey };
    const r = await runErne([], { script: HELLO, cwd: tmpdir(), env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`wrote s3://hello/hello.txt at ${g.url} and read back: Hello from Erne!\n`);
    // keys this gateway does not know are used as given, and refused in one line
    const wrong = await runErne([], { script: HELLO, cwd, env: { ...env, AWS_ACCESS_KEY_ID: ROOT.accessKeyId, AWS_SECRET_ACCESS_KEY: ROOT.secretAccessKey } });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(new RegExp(`^hello: ${g.url}: InvalidAccessKeyId: `, 'm'));
  });

  it('without keys anywhere: one line saying where to put them', async () => {
    const r = await runErne([], { script: HELLO, cwd: tmpdir(), env: { ...NO_KEYS, AWS_ENDPOINT_URL: g.url } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^hello: no keys: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to the keys npm start printed/m);
  });
});
