/**
 * The initramfs: busybox-static, the kernel modules the guest needs (virtio-mmio devices,
 * network, squashfs, ext4), /dev/console and the init. The machine's own settings go in a
 * second small archive appended per machine (the kernel unpacks concatenated archives).
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
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
  return cpioArchive([
    { path: 'bin', kind: 'dir' },
    { path: 'bin/busybox', kind: 'file', data: readFileSync(BUSYBOX), mode: 0o755 },
    { path: 'bin/sh', kind: 'symlink', target: 'busybox' },
    { path: 'dev', kind: 'dir' },
    { path: 'dev/console', kind: 'chardev', major: 5, minor: 1 },
    { path: 'etc', kind: 'dir' },
    { path: 'modules', kind: 'dir' },
    ...modules,
    { path: 'modules/order', kind: 'file', data: Buffer.from(GUEST_MODULES.join('\n') + '\n') },
    { path: 'init', kind: 'file', data: Buffer.from(INIT_SCRIPT), mode: 0o755 },
  ]);
}

/** The per-machine archive appended to the shared one. */
export function machineArchive(settings: GuestSettings): Buffer {
  return cpioArchive([
    { path: 'etc', kind: 'dir' },
    { path: 'etc/erne-machine.sh', kind: 'file', data: Buffer.from(machineScript(settings)) },
  ]);
}
