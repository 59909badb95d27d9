/**
 * Power loss, which no process-level test can give: the gateway's data dir is on the VM's
 * virtio-blk volume (opened with cache=none, so the host's page cache does not hold its
 * writes), 32 writers PUT objects, and qemu is SIGKILLed — the guest's page cache and every
 * unflushed write die with it. After a cold boot on the same volume every acknowledged object
 * must be whole, and whatever else is listed must be whole too (never a torn body).
 * ERNE_POWER_LOSS_ROUNDS sets the number of kills (default 2; scripts/microvm-power-loss.sh runs 10).
 */
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, expect } from 'vitest';
import { MicroVmDriver } from '../../machines/drivers/microvm/driver.js';
import { s3Client, tempDir } from '../helpers/gateway.js';
import { answers, BOOT_TIMEOUT_MS, gatewaySpec, microvmNeeds, processesMentioning } from '../helpers/microvm.js';
import { describeNeeds, itNeeds } from '../helpers/requires.js';
import { waitFor } from '../helpers/wait.js';

const ROUNDS = Number(process.env.ERNE_POWER_LOSS_ROUNDS ?? 2);
const WRITERS = 32;
const BUCKET = 'power';

const dir = tempDir('erne-microvm-pl-');
const driver = new MicroVmDriver({ stateDir: join(dir, 'driver-state') });

afterAll(async () => {
  for (const m of await driver.list().catch(() => [])) await driver.destroy(m.machineId).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

/** The one body a key may ever have: 1–200 KiB derived from the key, so a torn one shows. */
function bodyFor(key: string): Buffer {
  const seed = createHash('sha256').update(key).digest();
  const size = 1024 + (seed.readUInt32BE(0) % (200 * 1024));
  const out = Buffer.alloc(size);
  for (let at = 0; at < size; at += seed.length) seed.copy(out, at);
  return out;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function readAll(s3: S3Client, key: string): Promise<Buffer> {
  const res = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(await res.Body!.transformToByteArray());
}

async function listAll(s3: S3Client): Promise<{ key: string; size: number }[]> {
  const out: { key: string; size: number }[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: token }));
    for (const o of page.Contents ?? []) out.push({ key: o.Key!, size: o.Size! });
    token = page.NextContinuationToken;
  } while (token);
  return out;
}

async function verify(url: string, acked: Set<string>, attempted: Set<string>): Promise<void> {
  // reads may retry a reset connection (the VM is slow right after boot); what they read must match
  const s3 = s3Client({ url }, undefined, { config: { maxAttempts: 3 } });
  try {
    const listed = await listAll(s3);
    const listedKeys = new Set(listed.map((o) => o.key));
    const lost = [...acked].filter((k) => !listedKeys.has(k));
    expect(lost, 'acknowledged objects missing after the power loss').toEqual([]);
    const unknown = listed.filter((o) => !attempted.has(o.key)).map((o) => o.key);
    expect(unknown, 'objects nobody wrote').toEqual([]);
    for (const o of listed) {
      const want = bodyFor(o.key);
      expect(o.size, `listed size of ${o.key}`).toBe(want.length);
      const got = await readAll(s3, o.key);
      expect(sha(got), `body of ${o.key} (${got.length} of ${want.length} bytes)`).toBe(sha(want));
    }
  } finally {
    s3.destroy();
  }
}

describeNeeds(microvmNeeds)('microvm power loss', () => {
  itNeeds(microvmNeeds)(
    `${ROUNDS}× qemu SIGKILLed under ${WRITERS} writers: every acknowledged object is intact, nothing torn is visible`,
    async () => {
      const spec = await gatewaySpec(dir, 'pl');
      const acked = new Set<string>();
      const attempted = new Set<string>();
      for (let round = 1; round <= ROUNDS + 1; round++) {
        await driver.start(spec);
        await waitFor('the VM gateway to answer', () => answers(spec.url), BOOT_TIMEOUT_MS, 200);
        if (round === 1) {
          const s3 = s3Client({ url: spec.url });
          await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
          s3.destroy();
        } else await verify(spec.url, acked, attempted);
        if (round > ROUNDS) break;

        let killed = false;
        let ackedThisRound = 0;
        const failures: string[] = [];
        const writer = async (w: number) => {
          const s3 = s3Client({ url: spec.url });
          try {
            for (let n = 0; !killed; n++) {
              const key = `r${round}/w${w}/${n}`;
              attempted.add(key);
              try {
                await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: bodyFor(key) }));
              } catch (err) {
                if (killed) return;
                // not acknowledged, so the object may or may not exist: verify accepts both, whole
                failures.push(`${key}: ${(err as Error).name} ${(err as Error).message}`);
                continue;
              }
              acked.add(key);
              ackedThisRound++;
            }
          } finally {
            s3.destroy();
          }
        };
        const writers = Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
        writers.catch(() => undefined);
        await waitFor(`64 acknowledged PUTs in round ${round}`, () => ackedThisRound >= 64, BOOT_TIMEOUT_MS, 20);
        const { pid } = await driver.status('pl');
        killed = true;
        process.kill(pid!, 'SIGKILL'); // power loss, with PUTs in flight
        await writers;
        await waitFor('qemu to be gone', () => processesMentioning(spec.workDir).length === 0, 30_000);
        expect(await driver.status('pl')).toMatchObject({ state: 'exited', exitCode: null, signal: 'SIGKILL' });
        console.log(`power loss round ${round}: ${ackedThisRound} PUTs acknowledged, ${failures.length} failed before the kill${failures.length ? ` (first: ${failures[0]})` : ''}`);
      }
      expect(acked.size).toBeGreaterThanOrEqual(64 * ROUNDS);
      await driver.destroy('pl');
      expect(processesMentioning(spec.workDir)).toEqual([]);
    },
    (ROUNDS + 1) * 2 * BOOT_TIMEOUT_MS,
  );
});
