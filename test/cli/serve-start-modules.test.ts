/**
 * `erne serve` (one region, no --cluster) starts without loading Node's fetch implementation
 * (undici) or node:http2. Both come with an HTTP framework's Node adaptor (@hono/node-server
 * imports node:http2 and makes a Response when it loads); together they cost ~0.5 s of a
 * microVM's cold start under TCG, where the gateway must answer within 5 s. Node records each
 * of its own modules it loads in process.moduleLoadList: a preload writes it out at exit.
 */
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, startChildGateway } from '../helpers/child.js';
import { tempDir } from '../helpers/gateway.js';
import { rawRequest } from '../helpers/raw.js';

const dir = tempDir('erne-modules-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const preload = join(dir, 'module-list.mjs');
writeFileSync(
  preload,
  "import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => writeFileSync(process.env.ERNE_TEST_MODULE_LIST, JSON.stringify(process.moduleLoadList)));\n",
);

/** the environment that makes a node process write its module list to `out` at exit */
const listingTo = (out: string) => ({ NODE_OPTIONS: `--import ${pathToFileURL(preload).href}`, ERNE_TEST_MODULE_LIST: out });

const readList = (file: string): string[] => JSON.parse(readFileSync(file, 'utf8')) as string[];
const slowToLoad = (list: string[]) => list.filter((m) => /undici|http2/.test(m));

describe('erne serve at start', () => {
  it('loads neither undici (fetch, Request, Response) nor http2', async () => {
    const out = join(dir, 'serve.json');
    const gw = await startChildGateway({ env: listingTo(out) });
    // an S3 request is served too, not only the start
    const res = await rawRequest(gw, { method: 'GET', path: '/' });
    expect(res.status).toBe(200);
    await gw.stop();
    const list = readList(out);
    // the list is the server's: node:http and the gateway's own crypto are in it
    expect(list).toContain('NativeModule http');
    expect(list).toContain('NativeModule crypto');
    expect(slowToLoad(list)).toEqual([]);
  });

  it('(the check sees them: loading the framework adaptor lists both)', async () => {
    const out = join(dir, 'adaptor.json');
    await new Promise<void>((resolve, reject) =>
      execFile(process.execPath, ['--input-type=module', '-e', "await import('@hono/node-server')"], { cwd: REPO_ROOT, env: { ...process.env, ...listingTo(out) } }, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
    const found = slowToLoad(readList(out));
    expect(found).toContain('NativeModule internal/deps/undici/undici');
    expect(found).toContain('NativeModule http2');
  });
});
