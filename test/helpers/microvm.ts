/**
 * A gateway as a microVM for tests: what the machine must have (qemu, a Debian kernel with
 * modules, busybox-static, squashfs-tools, e2fsprogs, xz), a LaunchSpec running
 * `erne serve` with its data dir on the VM's volume, and readiness polled with short request
 * timeouts (a connection made before the guest's network is up is accepted and hangs).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadEsbuild } from '../../machines/drivers/microvm/bundle.js';
import { findKernel } from '../../machines/drivers/microvm/host.js';
import { PROJECT_ROOT } from '../../machines/drivers/microvm/image.js';
import type { LaunchSpec } from '../../machines/drivers/types.js';
import { answersAt, ERNE_JS, freePort } from './child.js';
import { REGION, ROOT } from './gateway.js';
import { allOf, need, program, type Need } from './requires.js';

export const microvmNeeds: Need = allOf(
  program('qemu-system-x86_64', ['--version'], 'qemu-system-x86 --no-install-recommends'),
  need(findKernel() ? undefined : 'no kernel in /boot with modules in /lib/modules (apt-get install linux-image-amd64)'),
  need(existsSync('/bin/busybox') ? undefined : '/bin/busybox is not installed (apt-get install busybox-static)'),
  program('mksquashfs', ['-version'], 'squashfs-tools'),
  program('mkfs.ext4', ['-V'], 'e2fsprogs'),
  program('xz', ['--version'], 'xz-utils'),
  need(existsSync(ERNE_JS) ? undefined : `${ERNE_JS} is missing (npm run build)`),
);

/**
 * Machines that run the CLI boot from the image's startup snapshot: met where esbuild (a
 * devDependency) is there to make it and ERNE_MICROVM_SNAPSHOT=0 does not turn it off.
 */
export const snapshotsExpected: Need = process.env.ERNE_MICROVM_SNAPSHOT === '0'
  ? need('ERNE_MICROVM_SNAPSHOT=0')
  : need((await loadEsbuild(PROJECT_ROOT)) ? undefined : 'esbuild (a devDependency: without it the image has no startup snapshot)');

/** A cold boot under TCG on a busy shared machine can take minutes: readiness is polled this long. */
export const BOOT_TIMEOUT_MS = Number(process.env.ERNE_MICROVM_BOOT_TIMEOUT_MS ?? 600_000);

export async function gatewaySpec(dir: string, machineId: string, instanceId = 'v1'): Promise<LaunchSpec & { url: string }> {
  const port = await freePort();
  const volumeDir = join(dir, `${machineId}-volume`);
  return {
    machineId,
    instanceId,
    app: 'erne',
    region: REGION,
    // the guest's own loopback is not what hostfwd reaches: listen on all its addresses
    argv: [process.execPath, ERNE_JS, 'serve', '--host', '0.0.0.0', '--port', '9000', '--data-dir', volumeDir, '--region', REGION],
    env: { ERNE_ROOT_ACCESS_KEY: ROOT.accessKeyId, ERNE_ROOT_SECRET_KEY: ROOT.secretAccessKey },
    volumeDir,
    workDir: join(dir, `${machineId}-work`),
    ports: [{ internal: 9000, host: port, protocol: 'tcp' }],
    guest: { cpus: 1, memoryMb: 512 },
    url: `http://127.0.0.1:${port}`,
  };
}

/** One GET / with a short timeout: true once the gateway answers anything. */
export const answers = answersAt;

/** Pids of processes whose command line mentions `path` (a machine's work dir): leaked qemus. */
export function processesMentioning(path: string): number[] {
  const pids: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(path)) pids.push(Number(p));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}
