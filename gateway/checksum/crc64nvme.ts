/**
 * CRC-64/NVME (reflected polynomial 0x9A6C9329AC4BC9B5, init and xorout all ones),
 * slicing-by-8. JavaScript has no fast 64-bit integers, so the register is kept as two
 * 32-bit halves (hi, lo) and each table as a pair of Int32Arrays.
 */
const POLY_HI = 0x9a6c9329 | 0;
const POLY_LO = 0xac4bc9b5 | 0;

function makeTables(): { hi: Int32Array[]; lo: Int32Array[] } {
  const h0 = new Int32Array(256);
  const l0 = new Int32Array(256);
  for (let i = 0; i < 256; i++) {
    let h = 0;
    let l = i;
    for (let k = 0; k < 8; k++) {
      const odd = l & 1;
      l = (l >>> 1) | (h << 31);
      h = h >>> 1;
      if (odd) {
        h ^= POLY_HI;
        l ^= POLY_LO;
      }
    }
    h0[i] = h;
    l0[i] = l;
  }
  const hi = [h0];
  const lo = [l0];
  for (let k = 1; k < 8; k++) {
    const ph = hi[k - 1]!;
    const pl = lo[k - 1]!;
    const th = new Int32Array(256);
    const tl = new Int32Array(256);
    for (let i = 0; i < 256; i++) {
      // one more zero byte: shift the 64-bit value right by 8 and fold the byte shifted out
      const idx = pl[i]! & 0xff;
      th[i] = (ph[i]! >>> 8) ^ h0[idx]!;
      tl[i] = ((pl[i]! >>> 8) | (ph[i]! << 24)) ^ l0[idx]!;
    }
    hi.push(th);
    lo.push(tl);
  }
  return { hi, lo };
}

const tables = makeTables();
type Eight = [Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array];
const [H0, H1, H2, H3, H4, H5, H6, H7] = tables.hi as Eight;
const [L0, L1, L2, L3, L4, L5, L6, L7] = tables.lo as Eight;

/** Incremental CRC-64/NVME. */
export class Crc64Nvme {
  private hi = -1;
  private lo = -1;

  update(buf: Uint8Array): void {
    let h = this.hi;
    let l = this.lo;
    let i = 0;
    const n = buf.length;
    const end8 = n - (n & 7);
    while (i < end8) {
      const a = l ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24));
      const b = h ^ (buf[i + 4]! | (buf[i + 5]! << 8) | (buf[i + 6]! << 16) | (buf[i + 7]! << 24));
      const a0 = a & 0xff, a1 = (a >>> 8) & 0xff, a2 = (a >>> 16) & 0xff, a3 = a >>> 24;
      const b0 = b & 0xff, b1 = (b >>> 8) & 0xff, b2 = (b >>> 16) & 0xff, b3 = b >>> 24;
      h = H7[a0]! ^ H6[a1]! ^ H5[a2]! ^ H4[a3]! ^ H3[b0]! ^ H2[b1]! ^ H1[b2]! ^ H0[b3]!;
      l = L7[a0]! ^ L6[a1]! ^ L5[a2]! ^ L4[a3]! ^ L3[b0]! ^ L2[b1]! ^ L1[b2]! ^ L0[b3]!;
      i += 8;
    }
    while (i < n) {
      const idx = (l ^ buf[i++]!) & 0xff;
      l = ((l >>> 8) | (h << 24)) ^ L0[idx]!;
      h = (h >>> 8) ^ H0[idx]!;
    }
    this.hi = h;
    this.lo = l;
  }

  /** 8 bytes, big-endian, as S3 transmits it (base64 of these bytes). */
  digest(): Buffer {
    const out = Buffer.allocUnsafe(8);
    out.writeUInt32BE(~this.hi >>> 0, 0);
    out.writeUInt32BE(~this.lo >>> 0, 4);
    return out;
  }
}
