/**
 * The README's `erne storage` walk-through runs as written beside a fresh `npm start`-like
 * gateway (data under ./data of the working directory, no ERNE_ROOT_*): the block is read
 * from README.md; only the paths of the built CLI and of the example are made absolute, and
 * ERNE_S3_ENDPOINT tells the apps the test gateway's port instead of 9000.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERNE_JS, REPO_ROOT, startChildGateway, type ChildGateway } from '../helpers/child.js';

function walkThrough(): string {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const block = /### From nothing to an app with a bucket\n[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error('README.md has no storage walk-through');
  return block;
}

describe("the README's erne storage walk-through", () => {
  let cwd: string;
  let g: ChildGateway;
  beforeAll(async () => {
    cwd = mkdtempSync(join(tmpdir(), 'erne-readme-storage-'));
    g = await startChildGateway({ dataDir: join(cwd, 'data'), env: { ERNE_ROOT_ACCESS_KEY: '', ERNE_ROOT_SECRET_KEY: '' } });
  });
  afterAll(async () => {
    await g?.stop();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('runs as written: the app uses the bucket with the printed lines, and destroy removes it', async () => {
    const script = walkThrough().replaceAll('node dist/cli/erne.js', `node ${ERNE_JS}`).replaceAll('examples/storage-app.mjs', join(REPO_ROOT, 'examples', 'storage-app.mjs'));
    const env: Record<string, string> = { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, HOME: cwd, ERNE_S3_ENDPOINT: g.url };
    const run = await new Promise<{ code: number; out: string }>((resolve) =>
      execFile('bash', ['-e', '-c', script], { cwd, env }, (err, stdout, stderr) => resolve({ code: err ? 1 : 0, out: `${stdout}${stderr}` })),
    );
    expect(run.code, run.out).toBe(0);
    expect(run.out).toMatch(/^AWS_ACCESS_KEY_ID=EK[A-Z0-9]{18}$/m);
    expect(run.out).toContain(`AWS_ENDPOINT_URL_S3=${g.url}\nAWS_REGION=auto\nBUCKET_NAME=photos\n`);
    expect(run.out).toMatch(/read back from photos: hello from storage-app at /);
    expect(run.out).toContain('photos holds: hello.txt');
    expect(run.out).toContain('Objects:    1 (');
    expect(run.out).toContain('bucket photos: public, locations global');
    expect(run.out).toMatch(/destroyed bucket photos \(1 object\(s\) deleted\)\ndeleted its key EK/);
  });
});
