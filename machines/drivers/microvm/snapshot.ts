/**
 * A V8 startup snapshot of the CLI, made for the guest's CPU and kept in a variant of the image.
 *
 * Under software emulation most of the gateway's cold start was Node compiling and evaluating
 * the ~800 modules of the CLI. `node --build-snapshot` evaluates them once and saves the heap;
 * `node --snapshot-blob` then starts from it (cli/snapshot-entry.ts says what can and cannot be
 * in it). V8 accepts a snapshot only on a CPU with the same features as the one that made it,
 * and a TCG guest's CPU is not the host's, so the snapshot is made inside a guest: one boot of
 * the image, with the same accelerator and CPU model as the machines that will use it, runs
 * the build and then checks that the result starts (`erne --version`). The blob is appended to
 * a copy of the image at its root (/.erne-snapshot/erne.blob, /.ro/… in the guest), cached
 * beside it by the hash of the image, accelerator, CPU model and QEMU.
 *
 * A machine whose argv runs the image's CLI (`node dist/cli/erne.js …`) boots that variant,
 * with `--snapshot-blob` put before the script; the snapshot's main function drops the script
 * path, so the command is the same. Anything else runs as it is.
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { TCG_CPU, type Accel } from './qemu-args.js';
import { hashOf } from './cache-file.js';
import { QEMU } from './host.js';
import { shQuote } from './init-script.js';
import { run } from './run.js';

/** The bundled snapshot input in the image, under the project root. */
export const SNAPSHOT_ENTRY = join('dist', 'cli', 'erne-snapshot.cjs');
/** lmdb bundled to one file, which the snapshot loads when it runs (bundle.ts bundleLmdb). */
export const SNAPSHOT_LMDB = join('dist', 'cli', 'erne-lmdb.cjs');
const DIR = '.erne-snapshot';
/** The blob as the guest sees it: the image is mounted at /.ro. */
export const GUEST_BLOB = `/.ro/${DIR}/erne.blob`;

/**
 * V8 flags given both when the snapshot is made and when it runs (V8 refuses a snapshot made
 * with other flags). A young generation of 16–32 MB from the start: the restored heap is large
 * and V8's default 1 MB semi-spaces scavenge it over and over while the gateway starts (about
 * 0.6 CPU-seconds of a cold boot under TCG). `ERNE_MICROVM_SNAPSHOT_V8_FLAGS` replaces them.
 */
export const SNAPSHOT_V8_FLAGS = (process.env.ERNE_MICROVM_SNAPSHOT_V8_FLAGS ?? '--min-semi-space-size=16 --max-semi-space-size=32').split(' ').filter(Boolean);

/** `ERNE_MICROVM_SNAPSHOT=0` boots without a snapshot (to compare, or to rule it out). */
export function snapshotsWanted(env = process.env): boolean {
  return env.ERNE_MICROVM_SNAPSHOT !== '0';
}

/**
 * The machine's argv with the snapshot, or undefined when it does not run the image's CLI.
 * Node's profiling flags may come before the script; any other flag could be one of V8's,
 * which must be the same when a snapshot is made and used, so such an argv runs as it is.
 */
export function withSnapshot(argv: string[], node: string, erneJs: string): string[] | undefined {
  // a shell step first (`sh -c 'prepare; exec "$@"' sh node erne.js …`, as erne dev's machines
  // have it): the arguments after its $0 are the command
  if ((argv[0] === '/bin/sh' || argv[0] === 'sh') && argv[1] === '-c' && argv.length > 4) {
    const inner = withSnapshot(argv.slice(4), node, erneJs);
    return inner && [...argv.slice(0, 4), ...inner];
  }
  if (argv[0] !== node) return undefined;
  let i = 1;
  while (argv[i]?.startsWith('--cpu-prof')) i++;
  if (argv[i] !== erneJs) return undefined;
  return [node, ...argv.slice(1, i), ...SNAPSHOT_V8_FLAGS, '--snapshot-blob', GUEST_BLOB, ...argv.slice(i)];
}

/** The guest command that makes the blob at `blob` (on the builder's volume) and checks it starts. */
export function buildCommand(node: string, projectRoot: string, blob: string): string[] {
  const entry = join(projectRoot, SNAPSHOT_ENTRY);
  const erneJs = join(projectRoot, 'dist', 'cli', 'erne.js');
  const q = shQuote;
  const flags = SNAPSHOT_V8_FLAGS.map(q).join(' ');
  return ['/bin/sh', '-c', `${q(node)} ${flags} --snapshot-blob ${q(blob)} --build-snapshot ${q(entry)} && ${q(node)} ${flags} --snapshot-blob ${q(blob)} ${q(erneJs)} --version`];
}

/**
 * The cached image variant's file name: the image, and what decides the guest's CPU features
 * (TCG's CPU model and QEMU's version; under KVM the host's own CPU, which `-cpu host` passes on).
 */
export function snapshotImageName(rootfs: string, accel: Accel, tcgCpu: string | undefined, qemuVersion: string): string {
  const cpu = accel === 'tcg' ? (tcgCpu ?? TCG_CPU) : hostCpu();
  return `snapshot-${hashOf([basename(rootfs), accel, cpu, qemuVersion, SNAPSHOT_V8_FLAGS])}.sqfs`;
}

/** The host CPU's model and feature flags, from /proc/cpuinfo's first processor. */
function hostCpu(): string {
  try {
    const first = readFileSync('/proc/cpuinfo', 'utf8').split('\n\n')[0]!;
    return first.split('\n').filter((l) => /^(vendor_id|model name|flags)\s*:/.test(l)).join('\n');
  } catch {
    return 'host';
  }
}

let qemuVersion: Promise<string> | undefined;
/** `qemu-system-x86_64 --version`, once per process. */
export function qemuVersionLine(): Promise<string> {
  qemuVersion ??= run(QEMU, ['--version']).then((out) => out.split('\n')[0]!.trim());
  return qemuVersion;
}

/** Copies the image to `out` and appends the blob at its root (mksquashfs appends to an existing image). */
export async function appendBlob(rootfs: string, blob: string, out: string, scratch: string): Promise<void> {
  const dir = join(scratch, DIR);
  mkdirSync(dir, { recursive: true });
  cpSync(blob, join(dir, 'erne.blob'));
  cpSync(rootfs, out);
  await run('mksquashfs', [dir, out, '-keep-as-directory', '-all-root', '-no-xattrs', '-no-recovery', '-quiet', '-no-progress']);
}

/** Remembers why a build failed, so later boots do not try again for the same image. */
export function markFailed(cacheDir: string, name: string, reason: string): void {
  writeFileSync(join(cacheDir, failedMarker(name)), `${reason}\n`);
}

export function failedMarker(name: string): string {
  return name.replace(/\.sqfs$/, '.failed');
}
