/**
 * KVM when /dev/kvm can boot the guest kernel, TCG otherwise. Having /dev/kvm is not enough:
 * on this kind of host it is PVM, where `-cpu host` aborts and the stock kernel does not boot.
 * So a short probe boot (init prints a mark and powers off) decides, and the answer is kept in
 * the cache directory per kernel and QEMU so that later drivers do not probe again.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROBE_MARK } from './init-script.js';
import { QEMU, tscKhz } from './host.js';
import { kernelCommandLine, type Accel } from './qemu-args.js';

export interface AccelChoice {
  accel: Accel;
  /** why, for the machine's log */
  reason: string;
}

function kvmBoots(vmlinux: string, initramfs: string, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const args = ['-M', 'microvm', '-accel', 'kvm', '-cpu', 'host', '-m', '256M', '-nodefaults', '-no-user-config', '-nographic', '-no-reboot',
      '-kernel', vmlinux, '-initrd', initramfs, '-append', kernelCommandLine({ tscKhz: tscKhz(), append: ['erne.probe'] }), '-serial', 'stdio'];
    const child = spawn(QEMU, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const done = (problem: string | undefined) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve(problem);
    };
    const timer = setTimeout(() => done(`no probe answer within ${timeoutMs} ms`), timeoutMs);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes(PROBE_MARK)) done(undefined);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (e) => done(e.message));
    child.on('close', () => done(out.trim().split('\n').at(-1) || 'qemu exited'));
  });
}

export async function chooseAccel(cacheDir: string, vmlinux: string, initramfs: string, want = process.env.ERNE_MICROVM_ACCEL): Promise<AccelChoice> {
  if (want === 'tcg') return { accel: 'tcg', reason: 'asked for (ERNE_MICROVM_ACCEL=tcg)' };
  if (want === 'kvm') return { accel: 'kvm', reason: 'asked for (ERNE_MICROVM_ACCEL=kvm)' };
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return { accel: 'tcg', reason: existsSync('/dev/kvm') ? '/dev/kvm is not usable by this user' : 'no /dev/kvm' };
  }
  const memo = join(cacheDir, `accel-${vmlinux.split('/').at(-1)}`);
  if (existsSync(memo)) return JSON.parse(readFileSync(memo, 'utf8')) as AccelChoice;
  const problem = await kvmBoots(vmlinux, initramfs, 4000);
  const choice: AccelChoice = problem ? { accel: 'tcg', reason: `KVM probe failed: ${problem.slice(0, 200)}` } : { accel: 'kvm', reason: 'KVM probe booted' };
  writeFileSync(memo, JSON.stringify(choice));
  return choice;
}
