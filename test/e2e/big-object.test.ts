/**
 * A 1 GiB object PUT (streamed, aws-chunked with a CRC32 trailer) and GET through
 * @aws-sdk/client-s3 against `erne serve` in a child process, whose peak RSS (VmHWM from
 * /proc) must stay under 300 MB. The body is generated on the fly and hashed on the way
 * back, so neither side holds it. ERNE_BIG_MB changes the size. Needs `npm run build`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, expect, it } from 'vitest';
import { startChildGateway, type ChildGateway } from '../helpers/child.js';
import { s3Client, uniqueBucket } from '../helpers/gateway.js';

const MB = Number(process.env.ERNE_BIG_MB ?? 1024);
const SIZE = MB * 1024 * 1024;
const LIMIT = 300 * 1024 * 1024;

let gw: ChildGateway | undefined;
afterAll(async () => {
  await gw?.stop();
});

/** Peak resident set of a process, in bytes (Linux). */
function peakRss(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** 1 MiB blocks (a random base stamped with the block number), hashed as they are produced. */
function source(size: number, hash: ReturnType<typeof createHash>): Readable {
  const base = randomBytes(1024 * 1024);
  let sent = 0;
  let i = 0;
  return new Readable({
    read() {
      if (sent >= size) return void this.push(null);
      const n = Math.min(base.length, size - sent);
      const chunk = Buffer.from(base.subarray(0, n));
      chunk.writeUInt32BE(i++, 0);
      sent += n;
      hash.update(chunk);
      this.push(chunk);
    },
  });
}

it(`PUT and GET of ${MB} MiB keep the gateway under 300 MB RSS`, async () => {
  gw = await startChildGateway();
  const pid = gw.proc.pid as number;
  const s3 = s3Client(gw);
  const bucket = uniqueBucket('big');
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const before = peakRss(pid);

  const upHash = createHash('md5');
  const t0 = Date.now();
  const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'big.bin', Body: source(SIZE, upHash), ContentLength: SIZE }));
  const putMs = Date.now() - t0;
  const md5 = upHash.digest('hex');
  expect(put.ETag).toBe(`"${md5}"`);
  const afterPut = peakRss(pid);

  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'big.bin' }));
  expect(head.ContentLength).toBe(SIZE);

  const t1 = Date.now();
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big.bin' }));
  const downHash = createHash('md5');
  let n = 0;
  for await (const c of got.Body as Readable) {
    downHash.update(c as Buffer);
    n += (c as Buffer).length;
  }
  const getMs = Date.now() - t1;
  expect(n).toBe(SIZE);
  expect(downHash.digest('hex')).toBe(md5);
  const afterGet = peakRss(pid);
  s3.destroy();

  const mb = (b: number) => (b / 1024 / 1024).toFixed(0);
  console.log(
    `big object ${MB} MiB: PUT ${putMs} ms, GET ${getMs} ms; gateway peak RSS: at start ${mb(before)} MB, after PUT ${mb(afterPut)} MB, after GET ${mb(afterGet)} MB`,
  );
  expect(afterGet).toBeLessThan(LIMIT);
}, 600_000);
