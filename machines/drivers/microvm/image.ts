/**
 * The three files every microVM boots from, built at first use and cached under the cache
 * directory by a hash of their inputs (kernel, busybox, init, node, the project): vmlinux,
 * the shared initramfs, and the read-only squashfs. Nothing is downloaded.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cachedFile, hashOf } from './cache-file.js';
import { findKernel, type HostKernel } from './host.js';
import { buildInitramfs, initramfsKey } from './initramfs.js';
import { bundleEntry, bundleLmdb, bundleSnapshotEntry, loadEsbuild } from './bundle.js';
import { SNAPSHOT_ENTRY, SNAPSHOT_LMDB } from './snapshot.js';
import { buildRootfs, planRootfs, rootfsKey } from './rootfs.js';
import { extractVmlinux } from './vmlinux.js';

export interface MicroVmImage {
  kernel: HostKernel;
  vmlinux: string;
  initramfs: string;
  rootfs: string;
  /** image directories bound at the same path in the guest */
  binds: string[];
  projectRoot: string;
  /** the node the image carries (host path = guest path) */
  node: string;
  /** the bundled startup-snapshot input is in the image (snapshot.ts); not without esbuild */
  snapshotEntry: boolean;
}

/** The project this code belongs to (from dist/… when built, from the source under vitest). */
export const PROJECT_ROOT = findProjectRoot(dirname(fileURLToPath(import.meta.url)));

function findProjectRoot(from: string): string {
  for (let dir = from; dirname(dir) !== dir; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'dist'))) return dir;
  }
  return join(from, '..', '..', '..', '..');
}

export function defaultCacheDir(): string {
  if (process.env.ERNE_MICROVM_CACHE) return process.env.ERNE_MICROVM_CACHE;
  const base = process.env.XDG_CACHE_HOME ?? (homedir() ? join(homedir(), '.cache') : tmpdir());
  return join(base, 'erne', 'microvm');
}

export async function ensureImage(cacheDir = defaultCacheDir(), projectRoot = PROJECT_ROOT, log: (line: string) => void = () => undefined): Promise<MicroVmImage> {
  const kernel = findKernel();
  if (!kernel) throw new Error('no kernel with modules found in /boot and /lib/modules (apt-get install linux-image-amd64)');
  const vmlinux = await cachedFile(cacheDir, `vmlinux-${kernel.version}-${hashOf([kernel.vmlinuz, initramfsKey(kernel)[1]])}`, (tmp) => extractVmlinux(kernel.vmlinuz, tmp));
  const initramfs = await cachedFile(cacheDir, `initramfs-${hashOf(initramfsKey(kernel))}.cpio`, async (tmp) => writeFileSync(tmp, buildInitramfs(kernel)));
  const plan = await planRootfs(projectRoot);
  // ERNE_MICROVM_BUNDLE=0 ships the unbundled dist/ (to compare, or to rule the bundle out)
  const esbuild = process.env.ERNE_MICROVM_BUNDLE === '0' ? undefined : await loadEsbuild(projectRoot);
  const bundle = esbuild && (async (erneJs: string) => {
    const modules = await bundleEntry(esbuild, join(projectRoot, 'dist', 'cli', 'erne.js'), erneJs);
    log(`microvm: the image's dist/cli/erne.js is a bundle of ${modules} modules (esbuild ${esbuild.version})`);
    // the input of the startup snapshot, made at the first boot that uses it (snapshot.ts), and
    // lmdb as one file for it to load
    const staged = (rel: string) => join(dirname(erneJs), '..', '..', rel);
    await bundleLmdb(esbuild, projectRoot, staged(SNAPSHOT_LMDB));
    await bundleSnapshotEntry(esbuild, join(projectRoot, 'dist', 'cli', 'snapshot-entry.js'), staged(SNAPSHOT_ENTRY), projectRoot, { lmdb: join(projectRoot, SNAPSHOT_LMDB) });
  });
  const rootfs = await cachedFile(cacheDir, `rootfs-${hashOf([rootfsKey(plan), esbuild ? [esbuild.version, 'snapshot-entry'] : 'unbundled'])}.sqfs`, async (tmp) => {
    if (!esbuild) log(`microvm: ${process.env.ERNE_MICROVM_BUNDLE === '0' ? 'ERNE_MICROVM_BUNDLE=0' : 'esbuild not installed'}: the image runs the unbundled dist/ (a slower start under TCG)`);
    const staging = mkdtempSync(join(cacheDir, 'staging-'));
    try {
      await buildRootfs(plan, staging, tmp, bundle);
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  });
  for (const [what, f] of [['vmlinux', vmlinux], ['initramfs', initramfs], ['image', rootfs]] as const) if (f.built) log(`microvm: built ${what} ${f.path}`);
  if (rootfs.built) pruneImages(cacheDir, KEEP_IMAGES);
  return { kernel, vmlinux: vmlinux.path, initramfs: initramfs.path, rootfs: rootfs.path, binds: plan.binds, projectRoot, node: plan.node, snapshotEntry: esbuild !== undefined };
}

/** Squashfs images kept: each project build makes one (~150 MB), and one with its startup snapshot. */
export const KEEP_IMAGES = 3;

/**
 * Removes all but the newest `keep` squashfs images of each kind (and failed-snapshot markers
 * as old). A running VM keeps its open (unlinked) image; a suspended one whose image is gone
 * boots cold instead of resuming.
 */
export function pruneImages(cacheDir: string, keep: number): void {
  for (const kind of [/^rootfs-[0-9a-f]+\.sqfs$/, /^snapshot-[0-9a-f]+\.(sqfs|failed)$/]) {
    const images = readdirSync(cacheDir)
      .filter((f) => kind.test(f))
      .map((f) => ({ path: join(cacheDir, f), mtime: statSync(join(cacheDir, f)).mtimeMs }))
      .sort((a, b) => b.mtime - a.mtime);
    for (const old of images.slice(keep)) rmSync(old.path, { force: true });
  }
}
