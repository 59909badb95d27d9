/**
 * Object checksums of a multipart upload, from its parts' checksums (never re-reading bytes):
 *
 * - COMPOSITE: the algorithm over the concatenated binary part checksums, reported as
 *   "<base64>-<part count>";
 * - FULL_OBJECT (CRCs only): the CRC of the whole object, combined from the parts' CRCs and
 *   lengths. For a CRC whose initial value and final xor are both all ones (CRC-32, CRC-32C,
 *   CRC-64/NVME), crc(A‖B) = crc(A)·x^(8·|B|) mod P ⊕ crc(B), computed here in the reflected
 *   bit order the CRCs use, with x^(8n) built from a table of x^(2^k) squares.
 */
import type { ChecksumAlgorithm } from '../../metadata/types.js';
import { createChecksum, type Checksum } from '../checksum/index.js';

const CRCS: Partial<Record<ChecksumAlgorithm, { width: number; poly: bigint }>> = {
  CRC32: { width: 32, poly: 0xedb88320n },
  CRC32C: { width: 32, poly: 0x82f63b78n },
  CRC64NVME: { width: 64, poly: 0x9a6c9329ac4bc9b5n },
};

export function isCrc(alg: ChecksumAlgorithm): boolean {
  return CRCS[alg] !== undefined;
}

/** GF(2) polynomial arithmetic modulo one CRC's polynomial, reflected representation */
class CrcField {
  private readonly one: bigint;
  /** squares[k] = x^(2^k) mod P */
  private readonly squares: bigint[] = [];
  private readonly byLength = new Map<number, bigint>();

  constructor(
    private readonly width: number,
    private readonly poly: bigint,
  ) {
    this.one = 1n << BigInt(width - 1);
    let p = this.one >> 1n; // x^1
    for (let k = 0; k < 64; k++) {
      this.squares.push(p);
      p = this.mul(p, p);
    }
  }

  mul(a: bigint, b: bigint): bigint {
    let m = this.one;
    let p = 0n;
    for (let i = 0; i < this.width; i++) {
      if (a & m) p ^= b;
      m >>= 1n;
      b = b & 1n ? (b >> 1n) ^ this.poly : b >> 1n;
    }
    return p;
  }

  /** x^(8·bytes) mod P, cached: most parts of an upload have the same length */
  shiftFor(bytes: number): bigint {
    let r = this.byLength.get(bytes);
    if (r !== undefined) return r;
    r = this.one;
    let n = BigInt(bytes) * 8n;
    for (let k = 0; n > 0n; k++, n >>= 1n) if (n & 1n) r = this.mul(this.squares[k]!, r);
    this.byLength.set(bytes, r);
    return r;
  }
}

const fields = new Map<ChecksumAlgorithm, CrcField>();
function fieldFor(alg: ChecksumAlgorithm): CrcField {
  let f = fields.get(alg);
  if (!f) {
    const spec = CRCS[alg];
    if (!spec) throw new RangeError(`${alg} is not a CRC`);
    f = new CrcField(spec.width, spec.poly);
    fields.set(alg, f);
  }
  return f;
}

function toBig(b64: string): bigint {
  return BigInt('0x' + (Buffer.from(b64, 'base64').toString('hex') || '0'));
}

function fromBig(v: bigint, width: number): string {
  return Buffer.from(v.toString(16).padStart(width / 4, '0'), 'hex').toString('base64');
}

/** Combines part CRCs, in order, into the CRC of the whole object. */
export class CrcCombiner {
  private readonly field: CrcField;
  private readonly width: number;
  private crc = 0n;
  private started = false;

  constructor(alg: ChecksumAlgorithm) {
    this.field = fieldFor(alg);
    this.width = CRCS[alg]!.width;
  }

  add(partCrcBase64: string, partSize: number): void {
    const c = toBig(partCrcBase64);
    this.crc = this.started ? this.field.mul(this.crc, this.field.shiftFor(partSize)) ^ c : c;
    this.started = true;
  }

  /** base64 of the combined CRC (of zero parts: the CRC of nothing, 0) */
  digestBase64(): string {
    return fromBig(this.crc, this.width);
  }
}

/** The COMPOSITE checksum: alg over the concatenated binary part checksums, then "-N". */
export class CompositeChecksum {
  private readonly h: Checksum;
  private n = 0;

  constructor(alg: ChecksumAlgorithm) {
    this.h = createChecksum(alg);
  }

  add(partChecksumBase64: string): void {
    this.h.update(Buffer.from(partChecksumBase64, 'base64'));
    this.n++;
  }

  value(): string {
    return `${this.h.digestBase64()}-${this.n}`;
  }
}
