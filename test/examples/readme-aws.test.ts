/**
 * The README's aws CLI walk-through runs as written against a fresh `npm start`-like gateway
 * (no ERNE_ROOT_*, data under ./data of the working directory): the block is read from
 * README.md, only the port and the path of Debian's aws CLI v2 are substituted.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, startChildGateway, type ChildGateway } from '../helpers/child.js';
import { describeNeeds, program } from '../helpers/requires.js';

const AWS = '/usr/bin/aws';

function walkThrough(): string {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const block = /### With the aws CLI\n[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error('README.md has no aws CLI walk-through');
  return block;
}

describeNeeds(program(AWS, ['--version'], 'awscli'))(`the README's aws CLI walk-through (${AWS})`, () => {
  let cwd: string;
  let g: ChildGateway;
  beforeAll(async () => {
    cwd = mkdtempSync(join(tmpdir(), 'erne-readme-'));
    g = await startChildGateway({ dataDir: join(cwd, 'data'), env: { ERNE_ROOT_ACCESS_KEY: '', ERNE_ROOT_SECRET_KEY: '' } });
  });
  afterAll(async () => {
    await g?.stop();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('runs as written with the keys npm start generated', async () => {
    const script = walkThrough().replaceAll('http://127.0.0.1:9000', g.url).replace(/^aws /gm, `${AWS} `);
    writeFileSync(join(cwd, 'cat.jpg'), Buffer.alloc(3000, 0xca));
    const env: Record<string, string | undefined> = { ...process.env, PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' };
    for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_ENDPOINT_URL']) delete env[k];
    const run = await new Promise<{ code: number; out: string }>((resolve) =>
      execFile('bash', ['-e', '-c', script], { cwd, env }, (err, stdout, stderr) => resolve({ code: err ? 1 : 0, out: `${stdout}${stderr}` })),
    );
    expect(run.code, run.out).toBe(0);
    expect(run.out).toMatch(/2026\/cat\.jpg/);
    expect(readFileSync(join(cwd, 'cat-copy.jpg')).equals(readFileSync(join(cwd, 'cat.jpg')))).toBe(true);
  });
});
