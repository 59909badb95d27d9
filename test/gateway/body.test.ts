import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { AuthContext } from '../../gateway/auth/types.js';
import { openBody, type BodyDigest } from '../../gateway/body.js';
import { createChecksum } from '../../gateway/checksum/index.js';
import { piecewise, signedBody, signingKeyFor, unsignedTrailerBody } from './auth/chunked-fixtures.js';
import { SECRET } from './auth/helpers.js';

const unsigned: AuthContext = { accessKeyId: 'AKID', root: true, payload: { kind: 'unsigned' }, presigned: false };
const payload = Buffer.from('The quick brown fox jumps over the lazy dog');
const md5 = (b: Buffer) => createHash('md5').update(b).digest();
const b64 = (alg: 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256', b: Buffer) => {
  const c = createChecksum(alg);
  c.update(b);
  return c.digestBase64();
};

/** Consume the body like a blob store would; records whether 'end' came before an error. */
async function consume(r: { stream: Readable; digest(): BodyDigest }): Promise<{ data: Buffer; digest: BodyDigest }> {
  const parts: Buffer[] = [];
  let ended = false;
  r.stream.on('end', () => (ended = true));
  try {
    for await (const c of r.stream) parts.push(c as Buffer);
  } catch (err) {
    expect(ended, 'error must come before end').toBe(false);
    throw err;
  }
  return { data: Buffer.concat(parts), digest: r.digest() };
}

function open(ctx: AuthContext, body: Buffer | Readable, headers: Record<string, string>, opts?: { maxSize?: number }) {
  const src = Buffer.isBuffer(body) ? piecewise(body, [1, 7, 20].filter((c) => c < body.length)) : body;
  return openBody(ctx, src, headers, opts);
}

describe('plain bodies', () => {
  const cl = { 'content-length': String(payload.length) };

  it('passes the bytes through and digests size and MD5', async () => {
    const { data, digest } = await consume(open(unsigned, payload, cl));
    expect(data.equals(payload)).toBe(true);
    expect(digest).toEqual({ size: payload.length, md5Hex: md5(payload).toString('hex'), checksums: {} });
  });

  it('Transfer-Encoding: chunked without Content-Length is accepted', async () => {
    const { digest } = await consume(open(unsigned, payload, { 'transfer-encoding': 'chunked' }));
    expect(digest.size).toBe(payload.length);
  });

  it('a body shorter than Content-Length → IncompleteBody', async () => {
    await expect(consume(open(unsigned, payload.subarray(0, 10), cl))).rejects.toMatchObject({ code: 'IncompleteBody' });
  });

  it('a client that disconnects → IncompleteBody', async () => {
    const src = new Readable({ read() {} });
    const r = open(unsigned, src, cl);
    src.push(payload.subarray(0, 5));
    setImmediate(() => src.destroy(new Error('socket hang up')));
    await expect(consume(r)).rejects.toMatchObject({ code: 'IncompleteBody' });
  });

  it.each([
    ['correct', md5(payload).toString('base64'), undefined],
    ['wrong', md5(Buffer.from('x')).toString('base64'), 'BadDigest'],
  ])('Content-MD5 %s', async (_n, value, code) => {
    const p = consume(open(unsigned, payload, { ...cl, 'content-md5': value }));
    if (code) await expect(p).rejects.toMatchObject({ code });
    else await expect(p).resolves.toBeTruthy();
  });

  it.each(['', 'abc', 'AAAAAAAAAAAAAAAAAAAAAA'])('malformed Content-MD5 %j → InvalidDigest (thrown before reading)', (value) => {
    expect(() => open(unsigned, payload, { ...cl, 'content-md5': value })).toThrow(expect.objectContaining({ code: 'InvalidDigest' }));
  });

  it.each(['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const)('x-amz-checksum-%s header verified and returned', async (alg) => {
    const header = `x-amz-checksum-${alg.toLowerCase()}`;
    const good = await consume(open(unsigned, payload, { ...cl, [header]: b64(alg, payload) }));
    expect(good.digest.checksums).toEqual({ [alg]: b64(alg, payload) });
    await expect(consume(open(unsigned, payload, { ...cl, [header]: b64(alg, Buffer.from('other')) }))).rejects.toMatchObject({
      code: 'BadDigest',
      message: `The ${alg} you specified did not match the calculated checksum.`,
    });
  });

  it('matches zlib for CRC32', async () => {
    const want = Buffer.alloc(4);
    want.writeUInt32BE(zlib.crc32(payload));
    const { digest } = await consume(open(unsigned, payload, { ...cl, 'x-amz-checksum-crc32': want.toString('base64') }));
    expect(digest.checksums.CRC32).toBe(want.toString('base64'));
  });

  it('malformed checksum value → InvalidRequest', () => {
    expect(() => open(unsigned, payload, { ...cl, 'x-amz-checksum-crc32': 'nope' })).toThrow(expect.objectContaining({ code: 'InvalidRequest' }));
  });

  it('two checksum headers → InvalidRequest', () => {
    const h = { ...cl, 'x-amz-checksum-crc32': b64('CRC32', payload), 'x-amz-checksum-sha1': b64('SHA1', payload) };
    expect(() => open(unsigned, payload, h)).toThrow(expect.objectContaining({ code: 'InvalidRequest' }));
  });

  it('x-amz-sdk-checksum-algorithm without a value: computed, not an error', async () => {
    const { digest } = await consume(open(unsigned, payload, { ...cl, 'x-amz-sdk-checksum-algorithm': 'CRC32C' }));
    expect(digest.checksums).toEqual({ CRC32C: b64('CRC32C', payload) });
  });

  it('an unknown x-amz-sdk-checksum-algorithm is ignored', async () => {
    await expect(consume(open(unsigned, payload, { ...cl, 'x-amz-sdk-checksum-algorithm': 'XXHASH64' }))).resolves.toBeTruthy();
  });

  it('extra checksums requested by the gateway', async () => {
    const r = openBody(unsigned, piecewise(payload), cl, { extraChecksums: ['CRC64NVME'] });
    expect((await consume(r)).digest.checksums).toEqual({ CRC64NVME: b64('CRC64NVME', payload) });
  });

  it('sha256 payload hash verified', async () => {
    const hex = createHash('sha256').update(payload).digest('hex');
    const ctx: AuthContext = { ...unsigned, payload: { kind: 'sha256', hex } };
    await expect(consume(open(ctx, payload, cl))).resolves.toBeTruthy();
    const bad: AuthContext = { ...unsigned, payload: { kind: 'sha256', hex: '0'.repeat(64) } };
    await expect(consume(open(bad, payload, cl))).rejects.toMatchObject({ code: 'XAmzContentSHA256Mismatch' });
  });

  it('maxSize: declared too large → EntityTooLarge at once', () => {
    expect(() => open(unsigned, payload, cl, { maxSize: 10 })).toThrow(expect.objectContaining({ code: 'EntityTooLarge' }));
  });

  it('maxSize: undeclared body stops with EntityTooLarge as soon as it is exceeded', async () => {
    let pulled = 0;
    const endless = new Readable({
      read() {
        pulled += 1024;
        this.push(Buffer.alloc(1024));
      },
    });
    await expect(consume(open(unsigned, endless, {}, { maxSize: 64 * 1024 }))).rejects.toMatchObject({ code: 'EntityTooLarge' });
    expect(pulled).toBeLessThan(2 * 1024 * 1024);
  });

  it('digest() before the end is a programming error', () => {
    expect(() => open(unsigned, payload, cl).digest()).toThrow();
  });
});

describe('aws-chunked bodies', () => {
  const chunks = [payload.subarray(0, 20), payload.subarray(20)];
  const decoded = { 'x-amz-decoded-content-length': String(payload.length), 'content-encoding': 'aws-chunked' };
  const trailerCtx: AuthContext = { ...unsigned, payload: { kind: 'streaming-unsigned-trailer' }, trailerChecksum: 'CRC32' };

  it('unsigned trailer: decoded, CRC32 trailer verified and returned', async () => {
    const body = unsignedTrailerBody(chunks, [['x-amz-checksum-crc32', b64('CRC32', payload)]]);
    const { data, digest } = await consume(open(trailerCtx, body, decoded));
    expect(data.equals(payload)).toBe(true);
    expect(digest).toEqual({ size: payload.length, md5Hex: md5(payload).toString('hex'), checksums: { CRC32: b64('CRC32', payload) } });
  });

  it('unsigned trailer: wrong trailer checksum → BadDigest', async () => {
    const body = unsignedTrailerBody(chunks, [['x-amz-checksum-crc32', b64('CRC32', Buffer.from('x'))]]);
    await expect(consume(open(trailerCtx, body, decoded))).rejects.toMatchObject({
      code: 'BadDigest',
      message: 'The CRC32 you specified did not match the calculated checksum.',
    });
  });

  it('unsigned trailer: malformed trailer checksum → InvalidRequest', async () => {
    const body = unsignedTrailerBody(chunks, [['x-amz-checksum-crc32', '!!']]);
    await expect(consume(open(trailerCtx, body, decoded))).rejects.toMatchObject({ code: 'InvalidRequest' });
  });

  it('unsigned trailer: declared trailer never sent → IncompleteBody', async () => {
    const body = unsignedTrailerBody(chunks, []);
    await expect(consume(open(trailerCtx, body, decoded))).rejects.toMatchObject({ code: 'IncompleteBody' });
  });

  it('decoded length differs from x-amz-decoded-content-length → IncompleteBody', async () => {
    const body = unsignedTrailerBody(chunks, [['x-amz-checksum-crc32', b64('CRC32', payload)]]);
    await expect(consume(open(trailerCtx, body, { ...decoded, 'x-amz-decoded-content-length': '100' }))).rejects.toMatchObject({ code: 'IncompleteBody' });
    await expect(consume(open(trailerCtx, body, { ...decoded, 'x-amz-decoded-content-length': '10' }))).rejects.toMatchObject({ code: 'IncompleteBody' });
  });

  it('truncated at any offset → an error, never a clean end', async () => {
    const body = unsignedTrailerBody(chunks, [['x-amz-checksum-crc32', b64('CRC32', payload)]]);
    for (let len = 0; len < body.length; len++) {
      await expect(consume(open(trailerCtx, body.subarray(0, len), decoded)), `length ${len}`).rejects.toMatchObject({ code: 'IncompleteBody' });
    }
  });

  const signing = {
    seedSignature: 'c'.repeat(64),
    signingKey: signingKeyFor(SECRET, '20240115', 'us-east-1'),
    amzDate: '20240115T120000Z',
    scope: '20240115/us-east-1/s3/aws4_request',
  };

  it('signed chunks with a signed SHA256 trailer', async () => {
    const ctx: AuthContext = { ...unsigned, payload: { kind: 'streaming-signed', trailer: true }, signing, trailerChecksum: 'SHA256' };
    const body = signedBody(chunks, signing, [['x-amz-checksum-sha256', b64('SHA256', payload)]]);
    const { data, digest } = await consume(open(ctx, body, decoded));
    expect(data.equals(payload)).toBe(true);
    expect(digest.checksums).toEqual({ SHA256: b64('SHA256', payload) });
  });

  it('signed chunks with a Content-MD5 header and x-amz-checksum-crc32c header', async () => {
    const ctx: AuthContext = { ...unsigned, payload: { kind: 'streaming-signed', trailer: false }, signing };
    const h = { ...decoded, 'content-md5': md5(payload).toString('base64'), 'x-amz-checksum-crc32c': b64('CRC32C', payload) };
    const { digest } = await consume(open(ctx, signedBody(chunks, signing), h));
    expect(digest.checksums).toEqual({ CRC32C: b64('CRC32C', payload) });
  });

  it('signed chunks: one payload byte flipped → SignatureDoesNotMatch', async () => {
    const ctx: AuthContext = { ...unsigned, payload: { kind: 'streaming-signed', trailer: false }, signing };
    const body = signedBody(chunks, signing);
    body[body.indexOf('quick')] ^= 1;
    await expect(consume(open(ctx, body, decoded))).rejects.toMatchObject({ code: 'SignatureDoesNotMatch' });
  });
});
