/**
 * The microvm driver under the Machines API and its scheduler: a gateway machine (its data dir
 * on the machine's volume through ERNE_DATA_DIR) is created, stopped and started (the data is
 * kept), suspended and started again (resumed, not rebooted), its qemu SIGKILLed (the
 * scheduler starts it again by its restart policy, data intact), and destroyed, leaving no
 * qemu and no files.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, expect } from 'vitest';
import { MachinesClient } from '../../machines/client.js';
import { MicroVmDriver } from '../../machines/drivers/microvm/driver.js';
import { machineDirs } from '../../machines/scheduler/launch-spec.js';
import { runProbe } from '../../machines/scheduler/probe.js';
import { startMachinesService, type MachinesService } from '../../machines/service.js';
import { ERNE_JS, freePort } from '../helpers/child.js';
import { REGION, ROOT, s3Client, tempDir } from '../helpers/gateway.js';
import { answers, BOOT_TIMEOUT_MS, microvmNeeds, processesMentioning } from '../helpers/microvm.js';
import { describeNeeds, itNeeds } from '../helpers/requires.js';
import { waitFor } from '../helpers/wait.js';

const TOKEN = 'erne-microvm-api-token';
const dataDir = tempDir('erne-microvm-api-');
const driver = new MicroVmDriver({ stateDir: join(dataDir, 'driver-microvm') });
let service: MachinesService | undefined;

afterAll(async () => {
  await service?.close();
  for (const m of await driver.list().catch(() => [])) await driver.destroy(m.machineId).catch(() => undefined);
  rmSync(dataDir, { recursive: true, force: true });
});

async function roundTrip(url: string, key: string, body?: string): Promise<string> {
  const s3 = s3Client({ url }); // fresh: connections to a stopped qemu are dead
  try {
    if (body !== undefined) await s3.send(new PutObjectCommand({ Bucket: 'api-vm', Key: key, Body: body }));
    return await (await s3.send(new GetObjectCommand({ Bucket: 'api-vm', Key: key }))).Body!.transformToString();
  } finally {
    s3.destroy();
  }
}

describeNeeds(microvmNeeds)('microvm driver under the Machines API', () => {
  itNeeds(microvmNeeds)(
    'create, stop/start, suspend/resume, qemu SIGKILLed and restarted by the scheduler, destroy',
    async () => {
      service = await startMachinesService({ dataDir, host: '127.0.0.1', port: 0, token: TOKEN, driver, probe: runProbe, defaultRegion: 'iad', tickMs: 200 });
      const client = new MachinesClient({ endpoint: service.url, token: TOKEN });
      await client.createApp('erne');
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const created = await client.create('erne', {
        region: 'iad',
        config: {
          init: { exec: [process.execPath, ERNE_JS, 'serve', '--host', '0.0.0.0', '--port', String(port), '--region', REGION] },
          env: { ERNE_ROOT_ACCESS_KEY: ROOT.accessKeyId, ERNE_ROOT_SECRET_KEY: ROOT.secretAccessKey },
          guest: { cpus: 1, memory_mb: 512 },
          services: [{ internal_port: port, protocol: 'tcp', ports: [{ port, handlers: ['http'] }] }],
          restart: { policy: 'always' },
          stop_config: { signal: 'SIGTERM', timeout: '60s' },
          mounts: [{ path: '/data', name: 'data' }],
        },
      });
      const id = created.id;
      const { workDir, volumeDir } = machineDirs(dataDir, id);
      const started = async (what: string) => {
        expect(await client.wait('erne', id, 'started', { timeoutS: 60 })).toBe(true);
        await waitFor(what, () => answers(url), BOOT_TIMEOUT_MS, 200);
      };
      await started('the gateway machine to answer');
      expect((await driver.status(id)).detail?.accel).toMatch(/^(tcg|kvm)$/);
      const s3 = s3Client({ url });
      await s3.send(new CreateBucketCommand({ Bucket: 'api-vm' }));
      s3.destroy();
      expect(await roundTrip(url, 'a.txt', 'through the API')).toBe('through the API');

      await client.stop('erne', id);
      expect(await client.wait('erne', id, 'stopped', { timeoutS: 60 })).toBe(true);
      await client.start('erne', id);
      await started('the gateway to answer after start');
      expect(await roundTrip(url, 'a.txt')).toBe('through the API');

      await roundTrip(url, 'b.txt', 'before the suspend');
      await client.request('POST', `/apps/erne/machines/${id}/suspend`, {});
      expect(await client.wait('erne', id, 'suspended', { timeoutS: 60 })).toBe(true);
      expect(processesMentioning(workDir)).toEqual([]);
      await client.start('erne', id);
      await started('the resumed gateway to answer');
      expect(await driver.status(id)).toMatchObject({ state: 'running', detail: { boot: 'resumed' } });
      expect(await roundTrip(url, 'b.txt')).toBe('before the suspend');

      // power cut: the scheduler sees the machine exit and starts it again (restart: always)
      const killed = (await driver.status(id)).pid!;
      process.kill(killed, 'SIGKILL');
      await waitFor('a new qemu for the machine', async () => {
        const st = await driver.status(id);
        return st.state === 'running' && st.pid !== killed;
      }, BOOT_TIMEOUT_MS, 200);
      await started('the restarted gateway to answer');
      expect(await roundTrip(url, 'a.txt')).toBe('through the API');
      expect(await roundTrip(url, 'b.txt')).toBe('before the suspend');

      await client.destroy('erne', id, true);
      expect(await client.wait('erne', id, 'destroyed', { timeoutS: 120 })).toBe(true);
      await waitFor('the machine files to be removed', () => !existsSync(workDir) && !existsSync(volumeDir), 60_000);
      expect(processesMentioning(workDir)).toEqual([]);
      expect(readdirSync(join(dataDir, 'driver-microvm'))).toEqual([]);
    },
    6 * BOOT_TIMEOUT_MS,
  );
});
