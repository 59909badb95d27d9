/**
 * What the host gives a microVM: the Debian kernel, its modules, the TSC frequency the guest
 * is told (the emulated TSC cannot be calibrated reliably under TCG), the programs we run.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface HostKernel {
  version: string;
  /** /boot/vmlinuz-<version> (bzImage with xz-compressed payload) */
  vmlinuz: string;
  /** /lib/modules/<version> */
  modulesDir: string;
}

export const QEMU = process.env.ERNE_MICROVM_QEMU ?? 'qemu-system-x86_64';

/** The newest kernel in /boot that has its modules installed (Debian's linux-image-amd64). */
export function findKernel(boot = '/boot', modules = '/lib/modules'): HostKernel | undefined {
  if (!existsSync(boot)) return undefined;
  const versions = readdirSync(boot)
    .filter((f) => f.startsWith('vmlinuz-'))
    .map((f) => f.slice('vmlinuz-'.length))
    .filter((v) => existsSync(join(modules, v, 'modules.dep')))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const version = versions.at(-1);
  if (!version) return undefined;
  return { version, vmlinuz: join(boot, `vmlinuz-${version}`), modulesDir: join(modules, version) };
}

/**
 * The host's TSC in kHz. The guest gets it as tsc_early_khz= (and lpj=4× it, HZ=250): without
 * them the guest's own calibration under TCG hangs some boots ("could not calculate TSC khz").
 */
export function tscKhz(): number {
  try {
    const m = /^cpu MHz\s*:\s*([\d.]+)/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return Math.round(Number(m[1]) * 1000);
  } catch {
    // not Linux: fall through
  }
  return 2_000_000;
}
