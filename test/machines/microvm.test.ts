/**
 * The microvm driver end to end: a real gateway in a real QEMU microVM, driven through the
 * MachineDriver interface, reached with @aws-sdk/client-s3 through user-mode networking.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, expect } from 'vitest';
import { MicroVmDriver } from '../../machines/drivers/microvm/driver.js';
import { defaultCacheDir } from '../../machines/drivers/microvm/image.js';
import { chooseAccel } from '../../machines/drivers/microvm/accel.js';
import { markFailed, qemuVersionLine, snapshotImageName } from '../../machines/drivers/microvm/snapshot.js';
import { NO_SNAPSHOT_MARK } from '../../machines/drivers/microvm/init-script.js';
import { s3Client, tempDir } from '../helpers/gateway.js';
import { answers, BOOT_TIMEOUT_MS, gatewaySpec, microvmNeeds, processesMentioning, snapshotsExpected } from '../helpers/microvm.js';
import { allOf, describeNeeds, itNeeds } from '../helpers/requires.js';
import { waitFor } from '../helpers/wait.js';

const dir = tempDir('erne-microvm-');
const driver = new MicroVmDriver({ stateDir: join(dir, 'driver-state') });

afterAll(async () => {
  for (const m of await driver.list().catch(() => [])) await driver.destroy(m.machineId).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

async function getText(url: string, bucket: string, key: string): Promise<string> {
  // a fresh client each time: connections made to a qemu that has since stopped are dead
  const s3 = s3Client({ url });
  try {
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return await res.Body!.transformToString();
  } finally {
    s3.destroy();
  }
}

async function put(url: string, bucket: string, key: string, body: string): Promise<void> {
  const s3 = s3Client({ url });
  try {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  } finally {
    s3.destroy();
  }
}

describeNeeds(microvmNeeds)('microvm driver', () => {
  itNeeds(microvmNeeds)(
    'boots a gateway VM, keeps its volume across stop/start, suspends and resumes it, and destroy leaves nothing',
    async () => {
      const spec = await gatewaySpec(dir, 'gw1');
      await driver.start(spec);
      const first = await driver.status('gw1');
      expect(first.state).toBe('running');
      expect(['tcg', 'kvm']).toContain(first.detail?.accel);
      // with esbuild (a devDependency) the image carries the CLI's startup snapshot, made at its first use
      expect(first.detail?.snapshot).toBe(snapshotsExpected.missing ? 'no' : 'yes');
      await waitFor('the VM gateway to answer', () => answers(spec.url), BOOT_TIMEOUT_MS, 200);

      const s3 = s3Client({ url: spec.url });
      await s3.send(new CreateBucketCommand({ Bucket: 'vm-bucket' }));
      s3.destroy();
      await put(spec.url, 'vm-bucket', 'before-stop.txt', 'kept on the volume');
      expect(await getText(spec.url, 'vm-bucket', 'before-stop.txt')).toBe('kept on the volume');

      // stop: the gateway inside gets SIGTERM and exits 0; the guest powers off
      await driver.stop('gw1', { timeoutMs: 60_000 });
      expect(await driver.status('gw1')).toMatchObject({ state: 'exited', exitCode: 0 });
      const log: string[] = [];
      for await (const line of driver.logs('gw1')) log.push(line);
      expect(log.join('\n')).toContain('SIGTERM');
      expect(log.join('\n')).toMatch(/accel (tcg|kvm)/);

      await driver.start(spec);
      await waitFor('the restarted VM gateway to answer', () => answers(spec.url), BOOT_TIMEOUT_MS, 200);
      expect(await getText(spec.url, 'vm-bucket', 'before-stop.txt')).toBe('kept on the volume');

      await put(spec.url, 'vm-bucket', 'before-suspend.txt', 'written before the suspend');
      await driver.suspend!('gw1');
      expect((await driver.status('gw1')).state).toBe('suspended');
      expect(processesMentioning(spec.workDir)).toEqual([]);
      expect(await answers(spec.url, 500)).toBe(false);

      await driver.start(spec);
      expect(await driver.status('gw1')).toMatchObject({ state: 'running', detail: { boot: 'resumed' } });
      // resumed, not rebooted: the first request after cont is served by the same gateway
      await waitFor('the resumed gateway to answer', () => answers(spec.url), 120_000, 50);
      expect(await getText(spec.url, 'vm-bucket', 'before-suspend.txt')).toBe('written before the suspend');
      await put(spec.url, 'vm-bucket', 'after-resume.txt', 'still writable');
      expect(await getText(spec.url, 'vm-bucket', 'after-resume.txt')).toBe('still writable');
      const resumedLog: string[] = [];
      for await (const line of driver.logs('gw1')) resumedLog.push(line);
      expect(resumedLog.join('\n')).toMatch(/resumed in \d+ ms/);
      expect(resumedLog.filter((l) => l.includes('cold boot'))).toHaveLength(2); // not a third

      await driver.destroy('gw1');
      expect(await driver.status('gw1')).toEqual({ state: 'missing' });
      expect(processesMentioning(spec.workDir)).toEqual([]);
      expect(existsSync(spec.workDir)).toBe(false);
      expect(existsSync(spec.volumeDir)).toBe(false);
      expect(readdirSync(join(dir, 'driver-state'))).toEqual([]);
      expect(await driver.list()).toEqual([]);
    },
    4 * BOOT_TIMEOUT_MS,
  );

  itNeeds(microvmNeeds)(
    'a new driver adopts a running VM (list after a restart) and stop reaches it',
    async () => {
      const spec = await gatewaySpec(dir, 'gw2');
      await driver.start(spec);
      const again = new MicroVmDriver({ stateDir: join(dir, 'driver-state') });
      const listed = await again.list();
      expect(listed).toEqual([{ machineId: 'gw2', instanceId: 'v1', status: expect.objectContaining({ state: 'running' }) }]);
      // starting what runs is a no-op: no second qemu
      await again.start(spec);
      expect(processesMentioning(spec.workDir)).toHaveLength(1);
      await again.destroy('gw2');
      expect(processesMentioning(spec.workDir)).toEqual([]);
      expect(await driver.status('gw2')).toEqual({ state: 'missing' });
    },
    BOOT_TIMEOUT_MS,
  );

  const withSnapshots = allOf(microvmNeeds, snapshotsExpected);
  itNeeds(withSnapshots)(
    'boots without the startup snapshot where its build failed before, says why, and does not try again',
    async () => {
      // a cache of its own, holding the same images, and the failure of this image's snapshot
      const image = await driver.prepare();
      const cacheDir = join(dir, 'cache-failed');
      mkdirSync(cacheDir);
      for (const f of readdirSync(defaultCacheDir()).filter((f) => !f.startsWith('snapshot-') && !f.includes('.tmp-') && !f.startsWith('staging-'))) symlinkSync(join(defaultCacheDir(), f), join(cacheDir, f));
      const { accel } = await chooseAccel(cacheDir, image.vmlinux, image.initramfs);
      markFailed(cacheDir, snapshotImageName(image.rootfs, accel, process.env.ERNE_MICROVM_TCG_CPU, await qemuVersionLine()), 'an earlier build exited 1');
      const logs: string[] = [];
      const failing = new MicroVmDriver({ stateDir: join(dir, 'failed-state'), cacheDir, log: (l) => logs.push(l) });
      const spec = await gatewaySpec(dir, 'gw3');
      try {
        await failing.start(spec);
        expect((await failing.status('gw3')).detail?.snapshot).toBe('no');
        expect(logs.join('\n')).toMatch(/boot without a startup snapshot: its build failed before \(an earlier build exited 1; delete .*\.failed to try again\)/);
        await waitFor('the VM gateway to answer', () => answers(spec.url), BOOT_TIMEOUT_MS, 200);
        expect(readdirSync(cacheDir).filter((f) => f.startsWith('snapshot-') && f.endsWith('.sqfs'))).toEqual([]);
      } finally {
        await failing.destroy('gw3');
      }
    },
    BOOT_TIMEOUT_MS,
  );

  itNeeds(withSnapshots)(
    'a machine whose NODE_OPTIONS make node refuse the startup snapshot still starts: the init runs the command without it',
    async () => {
      const spec = await gatewaySpec(dir, 'gw4');
      // a V8 flag changes V8's configuration, and node then refuses a snapshot made without it (exit 14)
      spec.env.NODE_OPTIONS = '--max-old-space-size=256';
      await driver.start(spec);
      try {
        expect((await driver.status('gw4')).detail?.snapshot).toBe('yes');
        await waitFor('the VM gateway to answer', () => answers(spec.url), BOOT_TIMEOUT_MS, 200);
        const s3 = s3Client({ url: spec.url });
        await s3.send(new CreateBucketCommand({ Bucket: 'gw4-bucket' }));
        s3.destroy();
        await put(spec.url, 'gw4-bucket', 'k', 'v');
        expect(await getText(spec.url, 'gw4-bucket', 'k')).toBe('v');
        const log: string[] = [];
        for await (const line of driver.logs('gw4')) log.push(line);
        expect(log.join('\n')).toContain(NO_SNAPSHOT_MARK);
        expect(log.join('\n')).toMatch(/Failed to load the startup snapshot/);
      } finally {
        await driver.destroy('gw4');
      }
    },
    BOOT_TIMEOUT_MS,
  );
});
