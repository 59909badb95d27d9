/**
 * The LMDB store across processes, for real: several processes transacting on one environment
 * stay serializable, and a SIGKILLed writer loses no acknowledged transaction and leaves no
 * half of one. The children run metadata/lmdb.ts compiled by tsc into a scratch folder.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openLmdb } from '../../metadata/lmdb.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// inside node_modules so the compiled code finds the lmdb package
const OUT = join(ROOT, 'node_modules', '.cache', `erne-kv-test-${process.pid}`);
const dirs: string[] = [];

beforeAll(async () => {
  execFileSync(
    process.execPath,
    [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '--ignoreConfig', '--outDir', OUT, '--module', 'nodenext',
      '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', '--types', 'node', join(ROOT, 'metadata', 'lmdb.ts')],
    { cwd: ROOT, stdio: 'pipe' },
  );
  await writeFile(join(OUT, 'package.json'), '{"type":"module"}');
});
afterAll(async () => {
  await rm(OUT, { recursive: true, force: true });
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tempDir() {
  const d = await mkdtemp(join(tmpdir(), 'erne-kvproc-'));
  dirs.push(d);
  return d;
}

/** runs `body` in a child with `kv` open on `dir`; lines it prints are passed to onLine */
function child(dir: string, body: string, onLine: (line: string) => void = () => {}) {
  const code = `import { openLmdb } from ${JSON.stringify(join(OUT, 'lmdb.js'))};
const kv = await openLmdb(${JSON.stringify(dir)});
const enc = (s) => Buffer.from(String(s));
${body}
await kv.close();`;
  const proc = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
  let buf = '';
  let err = '';
  proc.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null; err: string }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal, err })),
  );
  return { proc, exited };
}

it('two processes incrementing one counter on one environment end with the exact total', async () => {
  const dir = await tempDir();
  const body = `
const key = enc('counter');
let next = 0;
await Promise.all(Array.from({ length: 8 }, async () => {
  while (next < 100) {
    next++;
    await kv.transact(async (tx) => {
      const v = await tx.get(key);
      await new Promise((r) => setImmediate(r));
      tx.set(key, enc((v ? Number(Buffer.from(v).toString()) : 0) + 1));
    }, { maxAttempts: 10000 });
  }
}));`;
  const runs = await Promise.all([child(dir, body).exited, child(dir, body).exited]);
  for (const r of runs) expect(r, r.err).toMatchObject({ code: 0 });
  const kv = await openLmdb(dir);
  try {
    expect(Buffer.from((await kv.read((tx) => tx.get(Buffer.from('counter'))))!).toString()).toBe('200');
  } finally {
    await kv.close();
  }
});

it('a SIGKILLed writer loses no acknowledged transaction and leaves none half-applied', async () => {
  const dir = await tempDir();
  const acked = new Set<number>();
  let resolveEnough!: () => void;
  const enough = new Promise<void>((r) => (resolveEnough = r));
  const body = `
let i = 0;
await Promise.all(Array.from({ length: 16 }, async () => {
  for (;;) {
    const n = i++;
    await kv.transact(async (tx) => {
      tx.set(enc('a' + n), enc(n));
      tx.set(enc('b' + n), Buffer.alloc(1024, n % 256));
    });
    process.stdout.write('ack ' + n + '\\n');
  }
}));`;
  const c = child(dir, body, (line) => {
    const m = /^ack (\d+)$/.exec(line);
    if (m) acked.add(Number(m[1]));
    if (acked.size >= 300) resolveEnough();
  });
  await Promise.race([enough, c.exited.then((r) => Promise.reject(new Error(`child exited early: ${r.err}`)))]);
  c.proc.kill('SIGKILL');
  expect((await c.exited).signal).toBe('SIGKILL');

  const kv = await openLmdb(dir);
  try {
    const as = await kv.read((tx) => tx.getRange(Buffer.from('a'), Buffer.from('b')));
    const bs = await kv.read((tx) => tx.getRange(Buffer.from('b'), Buffer.from('c')));
    const aKeys = new Set(as.map((p) => Number(Buffer.from(p.key).toString().slice(1))));
    const bKeys = new Set(bs.map((p) => Number(Buffer.from(p.key).toString().slice(1))));
    for (const n of acked) expect(aKeys.has(n), `acknowledged ${n} is missing`).toBe(true);
    // both writes of a transaction, or neither
    expect([...aKeys].sort()).toEqual([...bKeys].sort());
    for (const p of bs) expect(p.value.length).toBe(1024);
  } finally {
    await kv.close();
  }
});

it('a commit by another process is seen by the next transaction here, even before any timer tick', async () => {
  const dir = await tempDir();
  const kv = await openLmdb(dir);
  try {
    const k = Buffer.from('raw-key');
    await kv.transact(async (tx) => tx.set(k, Buffer.from('1')));
    const read = () => kv.read(async (tx) => (await tx.get(k))?.toString());
    expect(await read()).toBe('1');
    // the other process commits and exits while this one's event loop stands still (no timer
    // can renew the snapshot), like a second worker answering a PUT just before this one
    // serves the client's next GET
    const code = `import { openLmdb } from ${JSON.stringify(join(OUT, 'lmdb.js'))};
const kv = await openLmdb(${JSON.stringify(dir)});
await kv.transact(async (tx) => tx.set(Buffer.from('raw-key'), Buffer.from('2')));
await kv.close();`;
    const seen = await Promise.resolve().then(() => {
      execFileSync(process.execPath, ['--input-type=module', '-e', code], { stdio: 'pipe' });
      return read();
    });
    expect(seen).toBe('2');
    expect(await kv.transact(async (tx) => (await tx.get(k))?.toString())).toBe('2');
  } finally {
    await kv.close();
  }
});
