/**
 * The QEMU command line for one microVM. A pure function of its inputs, so that a suspended
 * VM can be resumed by a qemu with exactly the same devices (saved beside the state file).
 */
import type { PortMapping } from '../types.js';

export type Accel = 'kvm' | 'tcg';

export interface QemuPlan {
  accel: Accel;
  cpus: number;
  memoryMb: number;
  vmlinux: string;
  initrd: string;
  /** the read-only squashfs (the guest's /dev/vda) */
  rootfs: string;
  /** the machine's volume, raw ext4 (the guest's /dev/vdb) */
  volume: string;
  /** none/directsync bypass the host page cache (O_DIRECT); writethrough where O_DIRECT fails */
  volumeCache: 'none' | 'directsync' | 'writethrough';
  consoleLog: string;
  /** abstract unix socket names (no file to clean up, no 108-byte path limit); tight=off
   *  because Node pads abstract addresses to the full sun_path */
  consoleSocket: string;
  qmpSocket: string;
  ports: PortMapping[];
  /** the host address the forwarded ports listen on */
  hostAddress: string;
  tscKhz: number;
  /** the CPU model TCG emulates (default TCG_CPU) */
  tcgCpu?: string;
  /** extra kernel arguments (the KVM probe adds erne.probe) */
  append?: string[];
}

function opt(s: string): string {
  // QEMU's option syntax: a comma inside a value is written twice
  return s.replace(/,/g, ',,');
}

/**
 * Kernel arguments that shorten the boot under TCG (measured with bench/microvm-phases.ts and
 * initcall_debug; the README's microVM section has the figures):
 * - noreplace-smp: with one vCPU the kernel would rewrite every LOCK prefix of its text (and of
 *   each module's) one text_poke at a time, ~0.1 s under TCG
 * - cryptomgr.notests: the crypto self-tests at late_initcall, ~0.2 s
 * - rodata=off: skips write-protecting the kernel and its W+X page-table walk, ~0.1 s
 * - init_on_alloc=0: Debian's default zeroes every page the kernel allocates (page cache too)
 * - initcall_blacklist: the kprobe-events tracefs files, a KDF self-test and /dev/cpu/N/msr,
 *   which no guest program uses: ~0.15 s
 * The last two are hardening against attacks from the guest's own userspace on the guest's
 * kernel; the guest runs one program, as root, which can load kernel modules anyway.
 */
export const FAST_BOOT_ARGS = [
  'noreplace-smp',
  'cryptomgr.notests',
  'rodata=off',
  'init_on_alloc=0',
  'initcall_blacklist=init_kprobe_trace,crypto_kdf108_init,msr_init',
];

export function kernelCommandLine(p: Pick<QemuPlan, 'tscKhz' | 'append'>): string {
  return ['console=ttyS0', 'quiet', 'panic=-1', `tsc_early_khz=${p.tscKhz}`, `lpj=${p.tscKhz * 4}`, ...FAST_BOOT_ARGS, ...(p.append ?? [])].join(' ');
}

/**
 * TCG's CPU: `max` without ERMS/FSRM. With them the guest's kernel (memcpy, copy to and from
 * user space, clear_page) and glibc pick `rep movsb`/`rep stosb`, which TCG runs one byte per
 * iteration: in the guest, 256 MB from /dev/zero to /dev/null took 0.46 s with them and 0.09 s
 * without (rep movsq and plain loops instead).
 */
export const TCG_CPU = 'max,-erms,-fsrm';

export function qemuArgs(p: QemuPlan): string[] {
  const fwd = p.ports.map((m) => `,hostfwd=${m.protocol}:${p.hostAddress}:${m.host}-:${m.internal}`).join('');
  return [
    '-M', 'microvm,rtc=on',
    ...(p.accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg', '-cpu', p.tcgCpu ?? TCG_CPU]),
    '-smp', String(p.cpus),
    '-m', `${p.memoryMb}M`,
    '-nodefaults', '-no-user-config', '-nographic', '-no-reboot',
    '-kernel', p.vmlinux,
    '-initrd', p.initrd,
    '-append', kernelCommandLine(p),
    '-chardev', `socket,id=con,path=${opt(p.consoleSocket)},abstract=on,tight=off,server=on,wait=off,logfile=${opt(p.consoleLog)},logappend=on`,
    '-serial', 'chardev:con',
    '-chardev', `socket,id=qmp,path=${opt(p.qmpSocket)},abstract=on,tight=off,server=on,wait=off`,
    '-mon', 'chardev=qmp,mode=control',
    '-drive', `id=root,file=${opt(p.rootfs)},format=raw,if=none,readonly=on`,
    '-device', 'virtio-blk-device,drive=root',
    '-drive', `id=vol,file=${opt(p.volume)},format=raw,if=none,cache=${p.volumeCache}`,
    '-device', 'virtio-blk-device,drive=vol',
    '-netdev', `user,id=net0${fwd}`,
    '-device', 'virtio-net-device,netdev=net0',
  ];
}
