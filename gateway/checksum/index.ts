/**
 * One incremental hasher interface over every checksum S3 speaks (x-amz-checksum-*),
 * plus the header-name and value-shape helpers the body pipeline needs.
 */
import { createHash, type Hash } from 'node:crypto';
import * as zlib from 'node:zlib';
import type { ChecksumAlgorithm } from '../../metadata/types.js';
import { crc32cUpdate } from './crc32c.js';
import { Crc64Nvme } from './crc64nvme.js';

export type { ChecksumAlgorithm };

export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'];

/** digest length in bytes, which fixes the length of a valid base64 value */
const DIGEST_BYTES: Record<ChecksumAlgorithm, number> = { CRC32: 4, CRC32C: 4, CRC64NVME: 8, SHA1: 20, SHA256: 32 };

export interface Checksum {
  update(buf: Uint8Array): void;
  digest(): Buffer;
  digestBase64(): string;
}

// zlib.crc32 exists from Node 20.15; typed loosely since @types/node may predate it.
const zcrc32 = (zlib as unknown as { crc32(data: Uint8Array, value?: number): number }).crc32;

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}

class Crc32Sum implements Checksum {
  private v = 0;
  update(buf: Uint8Array): void {
    this.v = zcrc32(buf, this.v);
  }
  digest(): Buffer {
    return u32(this.v);
  }
  digestBase64(): string {
    return this.digest().toString('base64');
  }
}

class Crc32cSum implements Checksum {
  private v = -1;
  update(buf: Uint8Array): void {
    this.v = crc32cUpdate(this.v, buf);
  }
  digest(): Buffer {
    return u32(~this.v);
  }
  digestBase64(): string {
    return this.digest().toString('base64');
  }
}

class Crc64Sum extends Crc64Nvme implements Checksum {
  digestBase64(): string {
    return this.digest().toString('base64');
  }
}

class HashSum implements Checksum {
  private readonly h: Hash;
  private out: Buffer | undefined;
  constructor(alg: string) {
    this.h = createHash(alg);
  }
  update(buf: Uint8Array): void {
    this.h.update(buf);
  }
  digest(): Buffer {
    // node's Hash can be digested once; remember the result so digest() is repeatable
    return (this.out ??= this.h.digest());
  }
  digestBase64(): string {
    return this.digest().toString('base64');
  }
}

export function createChecksum(alg: ChecksumAlgorithm): Checksum {
  switch (alg) {
    case 'CRC32':
      return new Crc32Sum();
    case 'CRC32C':
      return new Crc32cSum();
    case 'CRC64NVME':
      return new Crc64Sum();
    case 'SHA1':
      return new HashSum('sha1');
    case 'SHA256':
      return new HashSum('sha256');
  }
}

/** MD5 (for ETag and Content-MD5) with the same interface. */
export function createMd5(): Checksum {
  return new HashSum('md5');
}

/** 'crc32', 'CRC32', 'x-amz-checksum-crc32' → 'CRC32'; anything else → undefined */
export function parseChecksumAlgorithm(name: string): ChecksumAlgorithm | undefined {
  let n = name.trim().toUpperCase();
  if (n.startsWith('X-AMZ-CHECKSUM-')) n = n.slice('X-AMZ-CHECKSUM-'.length);
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(n) ? (n as ChecksumAlgorithm) : undefined;
}

/** 'CRC32' → 'x-amz-checksum-crc32' */
export function checksumHeaderName(alg: ChecksumAlgorithm): string {
  return `x-amz-checksum-${alg.toLowerCase()}`;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** true when value is canonical base64 of exactly the digest length of alg */
export function isValidChecksumValue(alg: ChecksumAlgorithm, value: string): boolean {
  if (!BASE64.test(value) || value.length % 4 !== 0) return false;
  return Buffer.from(value, 'base64').length === DIGEST_BYTES[alg];
}
