/**
 * A writer for the kernel's initramfs format (cpio "newc"). Written by hand so that device
 * nodes (/dev/console) can go in without root, and so no cpio program is needed.
 */

export type CpioEntry =
  | { path: string; kind: 'file'; data: Buffer; mode?: number }
  | { path: string; kind: 'dir'; mode?: number }
  | { path: string; kind: 'symlink'; target: string }
  | { path: string; kind: 'chardev'; major: number; minor: number; mode?: number };

const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

function header(fields: number[], name: string): Buffer {
  const hex = fields.map((f) => f.toString(16).padStart(8, '0')).join('');
  const head = Buffer.from(`070701${hex}`, 'ascii');
  const nameBuf = Buffer.from(`${name}\0`, 'utf8');
  return Buffer.concat([head, nameBuf, Buffer.alloc(pad4(head.length + nameBuf.length))]);
}

function record(ino: number, name: string, mode: number, data: Buffer, rdev: [number, number] = [0, 0]): Buffer[] {
  // ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check
  const h = header([ino, mode, 0, 0, 1, 0, data.length, 0, 0, rdev[0], rdev[1], Buffer.byteLength(name) + 1, 0], name);
  return [h, data, Buffer.alloc(pad4(data.length))];
}

/** One archive, padded to 512 bytes so that archives can be concatenated (the kernel reads all). */
export function cpioArchive(entries: CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  for (const e of entries) {
    const name = e.path.replace(/^\/+/, '');
    switch (e.kind) {
      case 'file':
        parts.push(...record(ino++, name, S_IFREG | (e.mode ?? 0o644), e.data));
        break;
      case 'dir':
        parts.push(...record(ino++, name, S_IFDIR | (e.mode ?? 0o755), Buffer.alloc(0)));
        break;
      case 'symlink':
        parts.push(...record(ino++, name, S_IFLNK | 0o777, Buffer.from(e.target)));
        break;
      case 'chardev':
        parts.push(...record(ino++, name, S_IFCHR | (e.mode ?? 0o600), Buffer.alloc(0), [e.major, e.minor]));
        break;
    }
  }
  parts.push(...record(0, 'TRAILER!!!', 0, Buffer.alloc(0)));
  const body = Buffer.concat(parts);
  return Buffer.concat([body, Buffer.alloc((512 - (body.length % 512)) % 512)]);
}
