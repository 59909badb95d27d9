/**
 * `erne dev` as people run it (a child process of dist/cli/erne.js; `npm run build` first):
 * three regions, each with its own redis-server and gateway process, driven by
 * @aws-sdk/client-s3 through the printed endpoints and key; a SIGKILLed redis-server and
 * gateway come back and say so; Ctrl-C leaves no process running; a second run keeps the keys.
 */
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CreateBucketCommand, GetObjectCommand, ListBucketsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisPing } from '../../../cli/dev/redis.js';
import { ORPHAN_GUARD } from '../../../cli/dev/supervisor.js';
import { loadTopology } from '../../../replication/topology.js';
import { ERNE_JS } from '../../helpers/child.js';
import { commandOf, descendants, startErneDev, type ErneDev } from '../../helpers/erne-dev.js';
import { bodyBytes, tempDir, uniqueBucket } from '../../helpers/gateway.js';
import { canRun, program } from '../../helpers/requires.js';

const LATENCY = 25;

let dataDir: string;
let dev: ErneDev;
/** what each region holds: written through its own endpoint */
const written = new Map<string, { bucket: string; body: Buffer }>();

beforeAll(async () => {
  dataDir = tempDir('erne-dev-');
  dev = await startErneDev(['--regions', 'iad,fra,sin', '--latency', `${LATENCY}ms`, '--data-dir', dataDir]);
});

afterAll(async () => {
  if (dev && dev.proc.exitCode === null) {
    const left = descendants(dev.proc.pid!);
    await dev.stop('SIGTERM');
    for (const pid of left) if (commandOf(pid)) process.kill(pid, 'SIGKILL');
  }
  rmSync(dataDir, { recursive: true, force: true });
});

function region(name: string) {
  const r = dev.summary.regions.find((x) => x.name === name);
  if (!r) throw new Error(`no region ${name} in ${JSON.stringify(dev.summary)}`);
  return r;
}

/** status and time of an anonymous GET / */
function timedGet(url: string): Promise<{ status: number; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    http
      .get(url + '/', { agent: false }, (res) => {
        res.resume();
        res.once('end', () => resolve({ status: res.statusCode!, ms: performance.now() - t0 }));
      })
      .once('error', reject);
  });
}

/** one inline Redis command's reply line (e.g. "+OK", ":0") */
function redisCommand(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => s.write(`${command}\r\n`));
    let reply = '';
    s.on('data', (d: Buffer) => {
      reply += d.toString();
      if (reply.includes('\r\n')) {
        s.destroy();
        resolve(reply.split('\r\n')[0]!);
      }
    });
    s.once('error', reject);
  });
}

describe('erne dev --regions iad,fra,sin --latency 25ms', () => {
  it('prints every region with its endpoint, the one key and the control region', () => {
    const s = dev.summary;
    expect(s.regions.map((r) => r.name)).toEqual(['iad', 'fra', 'sin']);
    expect(s.control).toBe('iad');
    expect(s.latencyMs).toBe(LATENCY);
    expect(s.replication).toBe(true);
    expect(new Set(s.regions.map((r) => r.endpoint)).size).toBe(3);
    // the keys are the ones kept for the next run
    const kept = JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8')) as { accessKeyId: string; secretAccessKey: string };
    expect([kept.accessKeyId, kept.secretAccessKey]).toEqual([s.accessKeyId, s.secretAccessKey]);
  });

  it('each region serves S3 with the one printed key', async () => {
    for (const r of dev.summary.regions) {
      const s3 = dev.client(r);
      const bucket = uniqueBucket(`dev-${r.name}`);
      const body = Buffer.from(`written in ${r.name} `.repeat(1000));
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'hello.txt', Body: body }));
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'hello.txt' }));
      expect(got.ETag).toBe(put.ETag);
      expect((await bodyBytes(got.Body)).equals(body)).toBe(true);
      const listed = await s3.send(new ListBucketsCommand({}));
      expect(listed.Buckets?.map((b) => b.Name)).toContain(bucket);
      written.set(r.name, { bucket, body });
    }
  });

  it('writes a cluster file every gateway can load, its internal URLs behind the latency proxies', async () => {
    const secret = (JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8')) as { clusterSecret: string }).clusterSecret;
    for (const r of dev.summary.regions) {
      const t = loadTopology(dev.summary.clusterFile, r.name, { ERNE_CLUSTER_SECRET: secret });
      expect(t.control).toBe('iad');
      expect(t.regions.map((x) => x.internal[0])).toEqual(dev.summary.regions.map((x) => x.internal));
      expect(r.internal).not.toBe(r.endpoint);
      // through the proxy: the same gateway, a round trip later
      const direct = await timedGet(r.endpoint);
      const proxied = await timedGet(r.internal);
      expect(proxied.status).toBe(direct.status);
      expect(proxied.ms).toBeGreaterThanOrEqual(2 * LATENCY);
    }
  });

  it(
    'an object written in one region is read in the others',
    async () => {
      const iad = written.get('iad')!;
      for (const name of ['fra', 'sin']) {
        const s3 = dev.client(region(name));
        const deadline = Date.now() + 30_000;
        for (;;) {
          const got = await s3.send(new GetObjectCommand({ Bucket: iad.bucket, Key: 'hello.txt' })).catch(() => undefined);
          if (got) {
            expect((await bodyBytes(got.Body)).equals(iad.body)).toBe(true);
            break;
          }
          if (Date.now() > deadline) throw new Error(`the object written in iad never reached ${name}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    },
  );

  it('a second erne dev on the same data directory is one line naming the one running', async () => {
    const second = await new Promise<{ code: number | null; stderr: string }>((resolve) =>
      execFile(process.execPath, [ERNE_JS, 'dev', '--data-dir', dataDir], { timeout: 30_000 }, (err, _out, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stderr: String(stderr) }),
      ),
    );
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(new RegExp(`^erne: --data-dir .* is already served by process ${dev.proc.pid} .*\\n$`));
  });

  it("restarts fra's SIGKILLed redis-server on its port, empty, and says so", async () => {
    const fra = region('fra');
    const port = Number(new URL(fra.redisUrl).port);
    expect(await redisCommand(port, 'SET erne-dev-probe 1')).toBe('+OK');
    const from = dev.output().length;
    process.kill(fra.redisPid!, 'SIGKILL');
    await dev.waitFor(new RegExp(`erne dev: fra redis-server \\(pid ${fra.redisPid}\\) died \\(SIGKILL\\); restarting it in [\\d.]+ s\\n`), from);
    const back = await dev.waitFor(/erne dev: fra redis-server is back \(pid (\d+)\)\n/, from);
    expect(Number(back[1])).not.toBe(fra.redisPid);
    expect(commandOf(Number(back[1]))).toMatch(new RegExp(`^redis-server 127\\.0\\.0\\.1:${port}`));
    expect(await redisPing(port)).toBe(true);
    // nothing kept on disk: it comes back empty, as a region's Redis does by default
    expect(await redisCommand(port, 'EXISTS erne-dev-probe')).toBe(':0');
  });

  it("restarts sin's SIGKILLed gateway on its port, which then serves what it held", async () => {
    const sin = region('sin');
    const from = dev.output().length;
    process.kill(sin.gatewayPid!, 'SIGKILL');
    await dev.waitFor(new RegExp(`erne dev: sin gateway \\(pid ${sin.gatewayPid}\\) died \\(SIGKILL\\); restarting it in [\\d.]+ s\\n`), from);
    await dev.waitFor(/erne dev: sin gateway is back \(pid \d+\)\n/, from);
    const { bucket, body } = written.get('sin')!;
    const got = await dev.client(sin).send(new GetObjectCommand({ Bucket: bucket, Key: 'hello.txt' }));
    expect((await bodyBytes(got.Body)).equals(body)).toBe(true);
  });

  it('Ctrl-C (SIGINT) stops every process it started: none is left running', async () => {
    const started = descendants(dev.proc.pid!);
    const commands = started.map((pid) => commandOf(pid) ?? '');
    expect(commands.filter((c) => c.startsWith('redis-server '))).toHaveLength(3);
    expect(commands.filter((c) => c.includes(' serve --region '))).toHaveLength(3);
    expect(await dev.stop('SIGINT')).toBe(0);
    expect(dev.output()).toMatch(/erne dev: SIGINT: stopping every process it started\n/);
    const left = started.filter((pid) => commandOf(pid) !== undefined);
    expect(left.map((pid) => `${pid} ${commandOf(pid)}`)).toEqual([]);
    // nothing was restarted while stopping
    expect(dev.output()).not.toMatch(/died \((SIGTERM|exit code 0)\)/);
  });

  it(`a second run on the same data directory prints the same key, a pastable aws line, and finds the data${ORPHAN_GUARD ? '; SIGKILLed, it takes its children along' : ''}`, async () => {
    const again = await new Promise<{ text: string; proc: import('node:child_process').ChildProcess }>((resolve, reject) => {
      const proc = execFile(process.execPath, [ERNE_JS, 'dev', '--regions', 'iad,fra,sin', '--data-dir', dataDir]);
      let text = '';
      proc.stdout!.on('data', (d: Buffer) => {
        text += d.toString();
        if (text.includes('Ctrl-C stops')) resolve({ text, proc });
      });
      proc.once('exit', (code) => reject(new Error(`erne dev exited (${code}): ${text}`)));
    });
    const children = descendants(again.proc.pid!);
    try {
      expect(again.text).toContain(`access key id:     ${dev.summary.accessKeyId}`);
      expect(again.text).toContain(`secret access key: ${dev.summary.secretAccessKey}`);
      const endpoint = /^ {2}iad {2}S3 (http:\/\/\S+)/m.exec(again.text)![1]!;
      const try_ = /^Try: (.*)$/m.exec(again.text)![1]!;
      expect(try_).toContain(`--endpoint-url ${endpoint} --region iad s3 ls`);
      const aws = program('/usr/bin/aws', ['--version'], 'awscli');
      if (canRun(aws, 'the printed aws line')) {
        // pasted into a shell, with Debian's aws v2 (a pyenv v1 comes first on PATH here)
        const listed = await new Promise<string>((resolve, reject) =>
          execFile('/bin/sh', ['-c', try_.replace(' aws ', ' /usr/bin/aws ')], (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout))),
        );
        expect(listed).toContain(written.get('iad')!.bucket);
      }
    } finally {
      // with a parent-death signal (Linux, setpriv), even a SIGKILLed erne dev leaves nothing
      again.proc.kill(ORPHAN_GUARD ? 'SIGKILL' : 'SIGTERM');
      await new Promise((r) => again.proc.once('exit', r));
    }
    expect(children).toHaveLength(6);
    const deadline = Date.now() + 10_000;
    while (children.some((pid) => commandOf(pid) !== undefined) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(children.filter((pid) => commandOf(pid) !== undefined).map((pid) => `${pid} ${commandOf(pid)}`)).toEqual([]);
  });

  it('a Ctrl-C while it is still starting stops what had started, and nothing is left', async () => {
    const dir = tempDir('erne-dev-early-');
    const proc = execFile(process.execPath, [ERNE_JS, 'dev', '--data-dir', dir]);
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    try {
      // as soon as the first redis-server serves, before the endpoints are printed
      const deadline = Date.now() + 20_000;
      const serving = (pid: number) => /^redis-server 127\.0\.0\.1:\d+/.test(commandOf(pid) ?? '');
      let seen: number[] = [];
      while (!(seen = descendants(proc.pid!)).some(serving) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      expect(seen.some(serving), out).toBe(true);
      proc.kill('SIGINT');
      expect(await exited, out).toBe(0);
      expect(out).not.toContain('Ctrl-C stops every process');
      const all = [...new Set([...seen, ...descendants(proc.pid!)])];
      expect(all.filter((pid) => commandOf(pid) !== undefined).map((pid) => `${pid} ${commandOf(pid)}`)).toEqual([]);
    } finally {
      proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
