/**
 * The streaming multipart/form-data reader: any split of the same form into chunks gives the
 * same fields and file bytes (property), and malformed forms are refused (table).
 */
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formBoundary, readPostForm } from '../../gateway/post-form.js';

function form(boundary: string, fields: [string, string][], file: Buffer, after = ''): Buffer {
  const parts: Buffer[] = [];
  for (const [n, v] of fields) parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${n}"\r\n\r\n${v}\r\n`));
  parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="f.bin"\r\nContent-Type: application/x-test\r\n\r\n`));
  parts.push(file);
  parts.push(Buffer.from(`\r\n--${boundary}${after}--\r\n`));
  return Buffer.concat(parts);
}

function chunked(data: Buffer, cuts: number[]): Readable {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let prev = 0;
  for (const p of [...points, data.length]) {
    if (p > prev) chunks.push(data.subarray(prev, p));
    prev = Math.max(prev, p);
  }
  return Readable.from(chunks);
}

async function collect(r: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of r) out.push(c as Buffer);
  return Buffer.concat(out);
}

describe('readPostForm', () => {
  it('reads the same form whatever the chunking (property)', async () => {
    const boundary = '----WebKitFormBoundaryABC123';
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/), fc.string({ maxLength: 40 }).filter((s) => !s.includes('\r\n--'))), { maxLength: 5 }),
        // file bytes that contain pieces of the delimiter
        fc.array(fc.oneof(fc.uint8Array({ maxLength: 50 }), fc.constant(Buffer.from('\r\n--' + boundary.slice(0, 10))), fc.constant(Buffer.from('\r\n-'))), { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        async (rawFields, fileParts, cuts) => {
          const fields = new Map<string, string>();
          for (const [n, v] of rawFields) if (n !== 'file' && !fields.has(n)) fields.set(n, v);
          const file = Buffer.concat(fileParts.map((p) => Buffer.from(p)));
          const data = form(boundary, [...fields], file);
          const parsed = await readPostForm(chunked(data, cuts), boundary, { maxFieldBytes: 64 * 1024 });
          expect(parsed.fields).toEqual(fields);
          expect(parsed.file.filename).toBe('f.bin');
          expect(parsed.file.contentType).toBe('application/x-test');
          expect((await collect(parsed.file.stream)).equals(file)).toBe(true);
          await parsed.done;
        },
      ),
      { numRuns: 200 },
    );
  });

  it('ignores fields after the file', async () => {
    const b = 'bnd';
    const data = Buffer.concat([form(b, [['key', 'k']], Buffer.from('DATA')).subarray(0, -4), Buffer.from(`\r\nContent-Disposition: form-data; name="late"\r\n\r\nx\r\n--${b}--\r\n`)]);
    const parsed = await readPostForm(Readable.from([data]), b, { maxFieldBytes: 1024 });
    expect((await collect(parsed.file.stream)).toString()).toBe('DATA');
    expect([...parsed.fields.keys()]).toEqual(['key']);
  });

  it.each([
    ['no file field', '--b\r\nContent-Disposition: form-data; name="key"\r\n\r\nk\r\n--b--\r\n', 'InvalidArgument'],
    ['a part without a name', '--b\r\nContent-Disposition: form-data\r\n\r\nk\r\n--b--\r\n', 'MalformedPOSTRequest'],
    ['a part without Content-Disposition', '--b\r\nContent-Type: text/plain\r\n\r\nk\r\n--b--\r\n', 'MalformedPOSTRequest'],
    ['a body cut before the boundary', '--b\r\nContent-Disposition: form-data; name="key"\r\n\r\nk', 'MalformedPOSTRequest'],
    ['fields over the limit', `--b\r\nContent-Disposition: form-data; name="big"\r\n\r\n${'x'.repeat(3000)}\r\n--b--\r\n`, 'MaxMessageLengthExceeded'],
    ['a field given twice', '--b\r\nContent-Disposition: form-data; name="key"\r\n\r\n1\r\n--b\r\nContent-Disposition: form-data; name="Key"\r\n\r\n2\r\n--b--\r\n', 'InvalidArgument'],
  ])('refuses %s', async (_n, body, code) => {
    await expect(readPostForm(Readable.from([Buffer.from(body)]), 'b', { maxFieldBytes: 2048 })).rejects.toMatchObject({ code });
  });

  it('errors the file stream when the form is cut inside the file', async () => {
    const data = form('b', [], Buffer.from('0123456789')).subarray(0, -12);
    const parsed = await readPostForm(Readable.from([data]), 'b', { maxFieldBytes: 1024 });
    await expect(collect(parsed.file.stream)).rejects.toMatchObject({ code: 'MalformedPOSTRequest' });
    await expect(parsed.done).rejects.toBeDefined();
  });
});

describe('formBoundary', () => {
  it.each([
    ['multipart/form-data; boundary=abc', 'abc'],
    ['Multipart/Form-Data; charset=utf-8; boundary="a b"', 'a b'],
    ['multipart/mixed; boundary=abc', undefined],
    ['application/x-www-form-urlencoded', undefined],
    ['multipart/form-data', undefined],
    [undefined, undefined],
  ])('%s → %s', (ct, want) => {
    expect(formBoundary(ct)).toBe(want);
  });
});
