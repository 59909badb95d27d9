/**
 * The uncompressed kernel: QEMU's microvm board boots an ELF vmlinux directly (PVH entry),
 * which skips the bzImage's self-decompression — seconds under TCG. Debian ships only the
 * bzImage, so the xz stream inside it is found by its magic bytes and unpacked with xz.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, openSync, readFileSync, readSync, closeSync } from 'node:fs';
import { once } from 'node:events';

const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

async function unxzFrom(data: Buffer, offset: number, out: string): Promise<boolean> {
  const xz = spawn('xz', ['-dc', '--single-stream'], { stdio: ['pipe', 'pipe', 'ignore'] });
  const sink = createWriteStream(out);
  xz.stdout.pipe(sink);
  xz.stdin.on('error', () => undefined); // xz stops reading at the end of its stream
  xz.stdin.end(data.subarray(offset));
  await Promise.all([once(xz, 'close'), once(sink, 'close')]);
  const fd = openSync(out, 'r');
  const head = Buffer.alloc(4);
  const n = readSync(fd, head, 0, 4, 0);
  closeSync(fd);
  return n === 4 && head.equals(ELF_MAGIC);
}

/** Writes the ELF kernel found in `vmlinuz` to `out`; throws if none is found. */
export async function extractVmlinux(vmlinuz: string, out: string): Promise<void> {
  const data = readFileSync(vmlinuz);
  for (let at = data.indexOf(XZ_MAGIC); at >= 0; at = data.indexOf(XZ_MAGIC, at + 1)) {
    if (await unxzFrom(data, at, out)) return;
  }
  throw new Error(`no xz-compressed ELF kernel found in ${vmlinuz} (is xz-utils installed?)`);
}
