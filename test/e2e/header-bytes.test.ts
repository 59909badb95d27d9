/**
 * Non-ASCII header values through the JS SDK and presigned URLs (boto3: clients/boto3-unicode.test.ts).
 * Node's http client sends a header value's characters as UTF-8 when the body is a string and
 * as single latin-1 bytes otherwise, and cannot send characters beyond U+00FF at all; the SDK
 * signs their UTF-8 form either way. Presigned URLs carry metadata and response-* overrides in
 * the query, percent-encoded UTF-8. What comes back must be the bytes the client meant.
 */
import { CopyObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { describe, expect, it } from 'vitest';
import { useGateway } from '../helpers/gateway.js';

const erne = useGateway({ bucket: true });

/** a response header as bytes read as UTF-8 (Node and fetch give header bytes as latin-1 characters) */
const utf8 = (v: string | null | undefined) => Buffer.from(v ?? '', 'latin1').toString('utf8');

describe('through the JS SDK', () => {
  it('metadata sent as UTF-8 (a string body) verifies and comes back as the same bytes', async () => {
    await erne.s3.send(new PutObjectCommand({ Bucket: erne.bucket, Key: 'sdk/utf8.txt', Body: 'x', Metadata: { city: 'Zürich' } }));
    const h = await erne.s3.send(new HeadObjectCommand({ Bucket: erne.bucket, Key: 'sdk/utf8.txt' }));
    expect(utf8(h.Metadata?.['city'])).toBe('Zürich');
  });

  // passed before the change to signing the bytes sent, and must keep passing (canonical-request.ts)
  it('metadata Node sends as latin-1 bytes (no string body) still verifies, and comes back as sent', async () => {
    await erne.s3.send(new PutObjectCommand({ Bucket: erne.bucket, Key: 'sdk/latin1.txt', Body: Buffer.from('x'), Metadata: { city: 'Zürich' } }));
    await erne.s3.send(
      new CopyObjectCommand({ Bucket: erne.bucket, Key: 'sdk/latin1-copy.txt', CopySource: `${erne.bucket}/sdk/latin1.txt`, MetadataDirective: 'REPLACE', Metadata: { city: 'Genève' } }),
    );
    expect((await erne.s3.send(new HeadObjectCommand({ Bucket: erne.bucket, Key: 'sdk/latin1.txt' }))).Metadata).toEqual({ city: 'Zürich' });
    expect((await erne.s3.send(new HeadObjectCommand({ Bucket: erne.bucket, Key: 'sdk/latin1-copy.txt' }))).Metadata).toEqual({ city: 'Genève' });
  });

  it('the 2 KB metadata limit counts the bytes sent: 1000 × ü (2000 bytes) fits, 1030 × ü does not', async () => {
    const put = (n: number) => erne.s3.send(new PutObjectCommand({ Bucket: erne.bucket, Key: 'sdk/big-meta.txt', Body: 'x', Metadata: { city: 'ü'.repeat(n) } }));
    await put(1000);
    await expect(put(1030)).rejects.toMatchObject({ name: 'MetadataTooLarge', $metadata: { httpStatusCode: 400 } });
  });
});

describe('through presigned URLs', () => {
  it('x-amz-meta-* in the query (UTF-8) is stored and returned as UTF-8 bytes, CJK included', async () => {
    const url = await getSignedUrl(erne.s3, new PutObjectCommand({ Bucket: erne.bucket, Key: 'pre/meta.txt', Metadata: { city: 'Zürich', town: '東京' } }), {
      expiresIn: 300,
    });
    expect(url).toContain('x-amz-meta-town=');
    const put = await fetch(url, { method: 'PUT', body: '' });
    expect(put.status, await put.text()).toBe(200);
    const h = await erne.s3.send(new HeadObjectCommand({ Bucket: erne.bucket, Key: 'pre/meta.txt' }));
    expect({ city: utf8(h.Metadata?.['city']), town: utf8(h.Metadata?.['town']) }).toEqual({ city: 'Zürich', town: '東京' });
  });

  it('response-content-disposition with a UTF-8 file name is sent back as those bytes', async () => {
    await erne.s3.send(new PutObjectCommand({ Bucket: erne.bucket, Key: 'pre/doc.txt', Body: 'doc' }));
    const disposition = 'attachment; filename="東京 Zürich.txt"';
    const url = await getSignedUrl(erne.s3, new GetObjectCommand({ Bucket: erne.bucket, Key: 'pre/doc.txt', ResponseContentDisposition: disposition }), { expiresIn: 300 });
    const res = await fetch(url);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(utf8(res.headers.get('content-disposition'))).toBe(disposition);
    expect(await res.text()).toBe('doc');
  });
});
