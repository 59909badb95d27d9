/**
 * Item 20 of issue 9: an upload cut off leaves no temp file behind. A dropped client and a
 * SIGTERM mid-PUT remove the upload's temp file before the request (or the process) ends; a
 * SIGKILL cannot, and the next start removes the file of the dead process whatever its age.
 * `erne serve` in child processes (built dist/), large PUTs held open half-way.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startChildGateway, type ChildGateway } from '../helpers/child.js';
import { holdRequest, type HeldRequest } from '../helpers/held-body.js';
import { rawRequest } from '../helpers/raw.js';

const TOTAL = 256 * 1024 * 1024;
const PIECE = Buffer.alloc(1024 * 1024, 1);

const tmpFiles = (gw: ChildGateway): string[] => {
  const dir = join(gw.dataDir, 'volume', 'tmp');
  return existsSync(dir) ? readdirSync(dir) : [];
};

async function until(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** starts a 256 MB PUT, sends 8 MB of it, and waits for its temp file */
async function halfPut(gw: ChildGateway, bucket: string): Promise<HeldRequest> {
  expect((await rawRequest(gw, { method: 'PUT', path: `/${bucket}` })).status).toBe(200);
  const req = holdRequest(gw, { method: 'PUT', path: `/${bucket}/big`, contentLength: TOTAL });
  for (let i = 0; i < 8; i++) await req.write(PIECE);
  await until('a temp file for the upload', () => tmpFiles(gw).length === 1);
  return req;
}

describe('temp files of cut-off uploads', () => {
  const started: ChildGateway[] = [];
  const start = async (o: Parameters<typeof startChildGateway>[0] = {}) => {
    const gw = await startChildGateway(o);
    started.push(gw);
    return gw;
  };
  afterEach(async () => {
    for (const gw of started.splice(0)) await gw.stop();
  });

  it('a client dropped mid-PUT: the temp file goes when the request ends', async () => {
    const gw = await start();
    const req = await halfPut(gw, 'tmp-drop');
    req.destroy();
    await until('the temp file removed', () => tmpFiles(gw).length === 0);
  }, 60_000);

  it('SIGTERM mid-PUT: the process removes the temp file before it exits', async () => {
    const gw = await start({ env: { ERNE_SHUTDOWN_GRACE_MS: '100' } });
    const req = await halfPut(gw, 'tmp-term');
    const exited = new Promise((r) => gw.proc.once('exit', r));
    gw.proc.kill('SIGTERM');
    await exited;
    req.destroy();
    expect(tmpFiles(gw)).toEqual([]);
  }, 60_000);

  it('SIGKILL mid-PUT leaves a temp file named for the dead process; the next start removes it', async () => {
    const first = await start();
    const req = await halfPut(first, 'tmp-kill');
    await first.kill();
    req.destroy();
    expect(tmpFiles(first)).toEqual([expect.stringMatching(new RegExp(`^[0-9a-f]{24}\\.${first.proc.pid}$`))]);
    const second = await start({ dataDir: first.dataDir });
    expect(tmpFiles(second)).toEqual([]);
  }, 60_000);
});
