/**
 * The built `erne` command run as a user runs it: a separate node process on a temp data
 * dir. Needs `npm run build` first (npm test builds).
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChildGateway } from '../helpers/child.js';
import { ROOT } from '../helpers/gateway.js';
import { canRun, itWhere, program, withoutFdbBinding } from '../helpers/requires.js';

const ERNE_JS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'cli', 'erne.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function erne(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [ERNE_JS, ...args], { env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'erne-cli-'));
  dirs.push(d);
  return d;
}

beforeAll(() => {
  if (!existsSync(ERNE_JS)) throw new Error(`${ERNE_JS} is missing: run 'npm run build' first`);
});

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('erne usage errors', () => {
  it.each([
    [[] as string[], /missing command/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['serve', '--prot', '9000'], /--prot/],
    [['serve', '--port', 'x'], /--port: expected a port number/],
    [['keys', 'delete'], /missing ACCESS_KEY_ID/],
    [['keys', 'create', '--secret-key', 'abcdefghij'], /--secret-key needs --access-key/],
    [['keys', 'create', '--access-key', 'has/slash', '--secret-key', 'abcdefghij'], /--access-key/],
  ])('%j → exit 2 and one line on stderr', async (args, message) => {
    const r = await erne(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^erne: [^\n]*\n$/);
    expect(r.stderr).toMatch(message);
  });

  it.each([[['--help']], [['serve', '--help']], [['keys', '--help']], [['keys', 'create', '--help']]])('%j prints help and exits 0', async (args) => {
    const r = await erne(args);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: erne/);
  });
});

describe('erne keys', () => {
  itWhere(withoutFdbBinding)('on --metadata fdb without the FoundationDB client: exit 1, one line saying what to install', async () => {
    const r = await erne(['keys', 'list', '--data-dir', tempDir(), '--metadata', 'fdb']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^erne: [^\n]*FoundationDB[^\n]*npm install foundationdb[^\n]*\n$/);
  });


  it('create (generated and given), list, delete on a data dir', async () => {
    // the key commands work on a region `erne serve` has made (test/cli/keys-data.test.ts)
    const served = await startChildGateway({ dataDir: tempDir() });
    await served.stop({ keepData: true });
    const dataDir = served.dataDir;
    const rootKey = ROOT.accessKeyId;

    const gen = await erne(['keys', 'create', '--data-dir', dataDir]);
    expect(gen.code, gen.stderr).toBe(0);
    const id = /Access key id:\s+(\S+)/.exec(gen.stdout)?.[1];
    const secret = /Secret access key:\s+(\S+)/.exec(gen.stdout)?.[1];
    expect(id).toMatch(/^EK[A-Z0-9]{18}$/);
    expect(secret).toMatch(/^[A-Za-z0-9+/]{40}$/);

    // the data dir from the environment twin, a given pair, JSON out
    const given = await erne(['keys', 'create', '--access-key', 'MYKEY123', '--secret-key', 'my-secret-value', '--root', '--name', 'ops', '--json'], {
      ERNE_DATA_DIR: dataDir,
    });
    expect(given.code, given.stderr).toBe(0);
    expect(JSON.parse(given.stdout)).toMatchObject({ accessKeyId: 'MYKEY123', secretAccessKey: 'my-secret-value', root: true, name: 'ops' });

    const dup = await erne(['keys', 'create', '--data-dir', dataDir, '--access-key', 'MYKEY123', '--secret-key', 'other-secret']);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/MYKEY123 already exists/);

    const list = await erne(['keys', 'list', '--data-dir', dataDir, '--json']);
    expect(list.code, list.stderr).toBe(0);
    const rows = JSON.parse(list.stdout) as { accessKeyId: string; root: boolean; secretAccessKey?: string }[];
    expect(rows.map((r) => r.accessKeyId).sort()).toEqual([id, 'MYKEY123', rootKey].sort());
    expect(rows.find((r) => r.accessKeyId === 'MYKEY123')?.root).toBe(true);
    // secrets are never listed
    expect(list.stdout).not.toContain(secret);
    expect(list.stdout).not.toContain('my-secret-value');

    const text = await erne(['keys', 'list', '--data-dir', dataDir]);
    expect(text.stdout).toMatch(/MYKEY123\s+root/);

    const del = await erne(['keys', 'delete', id!, '--data-dir', dataDir]);
    expect(del.code, del.stderr).toBe(0);
    const again = await erne(['keys', 'delete', id!, '--data-dir', dataDir]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/no access key/);
    const after = JSON.parse((await erne(['keys', 'list', '--data-dir', dataDir, '--json'])).stdout) as { accessKeyId: string }[];
    expect(after.map((r) => r.accessKeyId).sort()).toEqual(['MYKEY123', rootKey].sort());
  });
});

/** Debian's aws CLI runs the banner's example; without it that step is skipped (CI: fails) */
const awsCli = program('/usr/bin/aws', ['--version'], 'awscli');

describe('erne serve', () => {
  const noAws = awsCli.missing ? ` [the printed aws example is not run: ${awsCli.missing}]` : '';
  it(`prints a working endpoint and credentials, accepts keys made while it runs, exits 0 on SIGTERM${noAws}`, async () => {
    const dataDir = tempDir();
    const proc = spawn(process.execPath, [ERNE_JS, 'serve', '--port', '0', '--data-dir', dataDir, '--region', 'test-1'], {
      env: { ...process.env, ERNE_ROOT_ACCESS_KEY: 'ERNECLITESTROOT00001', ERNE_ROOT_SECRET_KEY: 'cli-test-root-secret-000000000000000001' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 20_000;
      while (!/^Try: .*\n/m.test(out)) {
        if (proc.exitCode !== null) throw new Error(`erne serve exited early:\n${out}`);
        if (Date.now() > deadline) throw new Error(`erne serve printed no endpoint in 20 s:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const url = /serving S3 at (http:\/\/\S+)/.exec(out)?.[1];
      expect(url, out).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(out).toContain('region:            test-1 (sign requests for test-1, us-east-1 or auto)');
      expect(out).toContain('ERNECLITESTROOT00001');
      expect(out).toContain('cli-test-root-secret-000000000000000001');

      const client = (accessKeyId: string, secretAccessKey: string) =>
        new S3Client({ endpoint: url, region: 'test-1', forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } });
      await client('ERNECLITESTROOT00001', 'cli-test-root-secret-000000000000000001').send(new CreateBucketCommand({ Bucket: 'cli-bucket' }));

      // the printed example runs as written (Debian's aws, ahead of any other on PATH)
      if (canRun(awsCli, 'the printed aws example')) {
        const line = /^Try: (.*)$/m.exec(out)![1]!;
        const aws = await new Promise<Run>((resolve) =>
          execFile('bash', ['-c', line], { env: { ...process.env, PATH: `/usr/bin:${process.env['PATH']}` } }, (err, stdout, stderr) =>
            resolve({ code: err ? 1 : 0, stdout: String(stdout), stderr: String(stderr) }),
          ),
        );
        expect(aws.code, aws.stderr).toBe(0);
        expect(aws.stdout).toContain('cli-bucket');
      }

      // a key added by another process while the server runs is usable at once
      const made = await erne(['keys', 'create', '--data-dir', dataDir, '--json']);
      expect(made.code, made.stderr).toBe(0);
      const key = JSON.parse(made.stdout) as { accessKeyId: string; secretAccessKey: string };
      const listed = await client(key.accessKeyId, key.secretAccessKey).send(new ListBucketsCommand({}));
      expect(listed.$metadata.httpStatusCode).toBe(200);

      proc.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL');
      await exited;
    }
  });
});
