/**
 * The initramfs: busybox-static, the kernel modules the guest needs (virtio-mmio devices,
 * network, squashfs, ext4), /dev/console and the init. The machine's own settings go in a
 * second small archive appended per machine (the kernel unpacks concatenated archives).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { cpioArchive, type CpioEntry } from './cpio.js';
import { GUEST_MODULES, INIT_SCRIPT, machineScript, type GuestSettings } from './init-script.js';
import type { HostKernel } from './host.js';

export const BUSYBOX = '/bin/busybox';

function modulePaths(kernel: HostKernel): Map<string, string> {
  const paths = new Map<string, string>();
  for (const line of readFileSync(join(kernel.modulesDir, 'modules.dep'), 'utf8').split('\n')) {
    const rel = line.split(':')[0];
    if (!rel) continue;
    const name = rel.split('/').at(-1)!.replace(/\.ko(\..*)?$/, '');
    paths.set(name.replace(/-/g, '_'), join(kernel.modulesDir, rel));
  }
  return paths;
}

const SIG_MAGIC = Buffer.from('~Module signature appended~\n');

/**
 * The module without its appended signature. The kernel then skips the check (it is not
 * enforced: CONFIG_MODULE_SIG_FORCE is off, only a taint flag is set), which under TCG costs a
 * SHA-256 over every module at insmod: ~0.1 s for ext4.ko's 2 MB alone. Trailer layout: the
 * signature, struct module_signature (12 bytes, big-endian sig_len last), the magic string.
 */
export function withoutSignature(ko: Buffer): Buffer {
  if (ko.length < SIG_MAGIC.length + 12 || !ko.subarray(ko.length - SIG_MAGIC.length).equals(SIG_MAGIC)) return ko;
  const info = ko.length - SIG_MAGIC.length - 12;
  const end = info - ko.readUInt32BE(info + 8);
  if (end <= 0) throw new Error('malformed module signature trailer');
  return ko.subarray(0, end);
}

export function initramfsKey(kernel: HostKernel): unknown[] {
  const s = statSync(BUSYBOX);
  return [kernel.version, statSync(kernel.vmlinuz).mtimeMs, [s.size, s.mtimeMs], GUEST_MODULES, INIT_SCRIPT, 'unsigned modules'];
}

export function buildInitramfs(kernel: HostKernel): Buffer {
  const paths = modulePaths(kernel);
  const modules: CpioEntry[] = GUEST_MODULES.map((m) => {
    const p = paths.get(m);
    if (!p) throw new Error(`kernel module ${m} not found in ${kernel.modulesDir}`);
    if (!p.endsWith('.ko')) throw new Error(`kernel module ${p} is compressed; busybox insmod needs a plain .ko`);
    return { path: `modules/${m}.ko`, kind: 'file', data: withoutSignature(readFileSync(p)) };
  });
  // busybox's applets as links in /bin (what `busybox --install -s /bin` would do at boot)
  const applets = execFileSync(BUSYBOX, ['--list']).toString().split('\n').filter((a) => /^[\w.[-]+$/.test(a) && a !== 'busybox');
  return cpioArchive([
    { path: 'bin', kind: 'dir' },
    { path: 'bin/busybox', kind: 'file', data: readFileSync(BUSYBOX), mode: 0o755 },
    ...applets.map((a): CpioEntry => ({ path: `bin/${a}`, kind: 'symlink', target: 'busybox' })),
    ...['dev', 'etc', 'proc', 'sys', 'tmp', 'run', 'root', '.ro', 'modules'].map((d): CpioEntry => ({ path: d, kind: 'dir' })),
    { path: 'dev/console', kind: 'chardev', major: 5, minor: 1 },
    ...modules,
    { path: 'init', kind: 'file', data: Buffer.from(INIT_SCRIPT), mode: 0o755 },
  ]);
}

/** `/a/b/c` → `a`, `a/b`, `a/b/c`: a cpio archive names each directory before its contents. */
function withParents(paths: string[]): string[] {
  const all = new Set<string>();
  for (const p of paths) {
    const parts = posix.normalize(p).split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) all.add(parts.slice(0, i).join('/'));
  }
  return [...all].sort();
}

/**
 * The per-machine archive appended to the shared one: the settings, and the mount points the
 * init would otherwise make (the image's binds, the volume), with /lib and /lib64 linked into
 * the bound /usr unless the image binds them itself.
 */
export function machineArchive(settings: GuestSettings): Buffer {
  const bound = (d: string) => settings.binds.some((b) => d === b || d.startsWith(`${b}/`) || b.startsWith(`${d}/`));
  return cpioArchive([
    { path: 'etc', kind: 'dir' },
    { path: 'etc/erne-machine.sh', kind: 'file', data: Buffer.from(machineScript(settings)) },
    ...withParents([...settings.binds, settings.volumePath]).map((d): CpioEntry => ({ path: d, kind: 'dir' })),
    ...['lib', 'lib64'].filter((l) => !bound(`/${l}`)).map((l): CpioEntry => ({ path: l, kind: 'symlink', target: `usr/${l}` })),
  ]);
}
