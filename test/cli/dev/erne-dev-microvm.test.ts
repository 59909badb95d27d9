/**
 * `erne dev --regions iad,fra --driver microvm --latency 25ms` (a child process of
 * dist/cli/erne.js; `npm run build` first): each region's gateway is a QEMU microVM with its
 * data on its volume, reaching Redis and the other region (through its latency proxy) via the
 * host, 10.0.2.2 in the guest. An object written through iad's VM is read through fra's; iad's
 * qemu SIGKILLed is booted again by the scheduler, which says so, and the object written
 * before is still there (the volume kept it); Ctrl-C leaves no process it started, qemu
 * included. Cold boots under TCG on a busy machine are slow: the waits are long
 * (ERNE_MICROVM_BOOT_TIMEOUT_MS), the assertions are not about time. Images are built at first
 * use in ERNE_MICROVM_CACHE (default ~/.cache/erne/microvm).
 */
import { rmSync } from 'node:fs';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { commandOf, descendants, startErneDev, type ErneDev } from '../../helpers/erne-dev.js';
import { bodyBytes, tempDir, uniqueBucket } from '../../helpers/gateway.js';
import { BOOT_TIMEOUT_MS, microvmNeeds, processesMentioning, snapshotsExpected } from '../../helpers/microvm.js';
import { describeNeeds } from '../../helpers/requires.js';
import { waitFor } from '../../helpers/wait.js';

let dataDir: string;
let dev: ErneDev | undefined;
const bucket = uniqueBucket('dev-microvm');
const body = Buffer.from('written through a VM in iad '.repeat(500));

function region(name: string) {
  const r = dev!.summary.regions.find((x) => x.name === name);
  if (!r) throw new Error(`no region ${name} in ${JSON.stringify(dev!.summary)}`);
  return r;
}

async function readThrough(name: string): Promise<Buffer> {
  const s3 = dev!.client(region(name));
  return waitFor(
    `${bucket}/vm.txt through ${name}`,
    async () => bodyBytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'vm.txt' }))).Body),
    120_000,
    250,
  );
}

describeNeeds(microvmNeeds)('erne dev --regions iad,fra --driver microvm', () => {
  beforeAll(async () => {
    dataDir = tempDir('erne-dev-microvm-');
    dev = await startErneDev(['--regions', 'iad,fra', '--driver', 'microvm', '--latency', '25ms', '--data-dir', dataDir], {}, { readyMs: BOOT_TIMEOUT_MS + 60_000 });
  }, BOOT_TIMEOUT_MS + 90_000);

  afterAll(async () => {
    if (dev && dev.proc.exitCode === null) {
      const left = descendants(dev.proc.pid!);
      await dev.stop('SIGTERM');
      for (const pid of left) if (commandOf(pid)) process.kill(pid, 'SIGKILL');
    }
    if (dataDir) {
      for (const pid of processesMentioning(dataDir)) process.kill(pid, 'SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('each gateway is a qemu microvm; an object written through iad is read through fra', async () => {
    expect(dev!.summary.machines?.driver).toBe('microvm');
    for (const r of dev!.summary.regions) expect(commandOf(r.gatewayPid!)).toMatch(/^qemu-system-x86_64 -M microvm/);
    const iad = dev!.client(region('iad'));
    await iad.send(new CreateBucketCommand({ Bucket: bucket }));
    await iad.send(new PutObjectCommand({ Bucket: bucket, Key: 'vm.txt', Body: body }));
    expect((await readThrough('fra')).equals(body)).toBe(true);
    // the guest kernel's console lines stay in the machine's log, out of erne dev's output
    expect(dev!.output()).not.toMatch(/^\[(iad|fra) gateway\] \[\s*\d+\.\d+\] /m);
    // the gateways start from the image's startup snapshot, through erne dev's shell step
    if (!snapshotsExpected.missing) expect(dev!.output().match(/cold boot, accel \w+ .*, startup snapshot/g)).toHaveLength(2);
  }, 300_000);

  it("iad's qemu SIGKILLed is booted again by the scheduler, and its volume still holds the object", async () => {
    const iad = region('iad');
    const from = dev!.output().length;
    process.kill(iad.gatewayPid!, 'SIGKILL');
    await dev!.waitFor(new RegExp(`erne dev: iad gateway \\(machine ${iad.machineId}, pid ${iad.gatewayPid}\\) died \\(SIGKILL\\); the scheduler restarts it`), from, 60_000);
    const back = await dev!.waitFor(new RegExp(`erne dev: iad gateway \\(machine ${iad.machineId}\\) is back \\(pid (\\d+)\\)\\n`), from, BOOT_TIMEOUT_MS);
    expect(commandOf(Number(back[1]))).toMatch(/^qemu-system-x86_64 -M microvm/);
    expect((await readThrough('iad')).equals(body)).toBe(true);
  }, BOOT_TIMEOUT_MS + 180_000);

  it('Ctrl-C (SIGINT) stops every process it started, every qemu too', async () => {
    const started = descendants(dev!.proc.pid!);
    expect(started.map((pid) => commandOf(pid) ?? '').filter((c) => c.startsWith('qemu-system-x86_64 '))).toHaveLength(2);
    expect(await dev!.stop('SIGINT')).toBe(0);
    expect(started.filter((pid) => commandOf(pid) !== undefined).map((pid) => `${pid} ${commandOf(pid)}`)).toEqual([]);
    expect(processesMentioning(dataDir)).toEqual([]);
  }, 120_000);
});
