/**
 * A streaming multipart/form-data reader for browser POST uploads. The small fields before
 * the `file` field are read into memory (bounded); the file itself is handed out as a stream
 * with back-pressure and is never held whole. Fields after the file are ignored, as on S3.
 */
import { PassThrough, type Readable } from 'node:stream';
import { S3Error, toS3Error } from './errors.js';
import { sendContinue } from './continue.js';

export interface FormFile {
  /** the part's filename parameter ('' when none) */
  filename: string;
  /** the part's own Content-Type: the uploader's choice, never the stored object's (see post-object.ts) */
  contentType?: string;
  /** the file's bytes; errors with MalformedPOSTRequest if the form is cut short */
  stream: Readable;
}

export interface PostForm {
  /** fields before the file, names lower-case (S3 matches form field names case-insensitively) */
  fields: Map<string, string>;
  file: FormFile;
  /** settles when the whole request has been read (after the file stream ended) */
  done: Promise<void>;
}

export interface FormLimits {
  /** bytes of all fields and part headers before the file */
  maxFieldBytes: number;
}

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

function malformed(message?: string): S3Error {
  return new S3Error('MalformedPOSTRequest', message);
}

/** The boundary of a multipart/form-data Content-Type, or undefined when it is something else. */
export function formBoundary(contentType: string | undefined): string | undefined {
  if (!contentType || !/^\s*multipart\/form-data\s*(;|$)/i.test(contentType)) return undefined;
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const b = m?.[1] ?? m?.[2];
  return b && b.length <= 70 ? b : undefined;
}

/** pulls chunks from the request on demand, keeping a small look-ahead buffer */
class Pull {
  buf: Buffer = Buffer.alloc(0);
  private ended = false;
  private readonly it: AsyncIterator<Buffer>;

  constructor(source: Readable) {
    this.it = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  async more(): Promise<boolean> {
    if (this.ended) return false;
    const r = await this.it.next();
    if (r.done) {
      this.ended = true;
      return false;
    }
    const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    return true;
  }

  /** index of `needle` in the buffer, reading on while the buffer stays under `limit` */
  async find(needle: Buffer, limit: number): Promise<number> {
    let from = 0;
    for (;;) {
      const i = this.buf.indexOf(needle, from);
      if (i >= 0) return i;
      if (this.buf.length > limit) throw new S3Error('MaxMessageLengthExceeded', 'The form fields before the file are too large.');
      from = Math.max(0, this.buf.length - needle.length + 1);
      if (!(await this.more())) throw malformed();
    }
  }

  async need(n: number): Promise<void> {
    while (this.buf.length < n) if (!(await this.more())) throw malformed();
  }

  take(n: number): Buffer {
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  async drain(): Promise<void> {
    while (await this.more()) this.buf = Buffer.alloc(0);
  }
}

function param(header: string, name: string): string | undefined {
  const m = new RegExp(`(?:^|;)\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]*))`, 'i').exec(header);
  return m ? (m[1] ?? m[2]) : undefined;
}

function parsePartHeaders(block: string): { name: string; filename?: string; contentType?: string } {
  let disposition: string | undefined;
  let contentType: string | undefined;
  for (const line of block.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const n = line.slice(0, colon).trim().toLowerCase();
    const v = line.slice(colon + 1).trim();
    if (n === 'content-disposition') disposition = v;
    else if (n === 'content-type') contentType = v;
  }
  if (!disposition || !/^form-data\b/i.test(disposition)) throw malformed();
  const name = param(disposition.slice('form-data'.length), 'name');
  if (name === undefined) throw malformed();
  const filename = param(disposition.slice('form-data'.length), 'filename');
  return { name, ...(filename !== undefined ? { filename } : {}), ...(contentType ? { contentType } : {}) };
}

function writeWithBackpressure(out: PassThrough, chunk: Buffer): Promise<void> {
  if (out.destroyed) return Promise.reject(new Error('the file consumer went away'));
  if (chunk.length === 0 || out.write(chunk)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      out.off('drain', onDrain);
      out.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(new Error('the file consumer went away'));
    out.on('drain', onDrain);
    out.on('close', onClose);
  });
}

/** streams the file part into `out` up to the next delimiter, then reads the rest of the form */
async function pumpFile(r: Pull, delimiter: Buffer, out: PassThrough): Promise<void> {
  try {
    for (;;) {
      const i = r.buf.indexOf(delimiter);
      if (i >= 0) {
        await writeWithBackpressure(out, r.take(i));
        out.end();
        break;
      }
      // bytes that cannot be the start of a delimiter are safe to hand on
      const safe = r.buf.length - (delimiter.length - 1);
      if (safe > 0) await writeWithBackpressure(out, r.take(safe));
      if (!(await r.more())) throw malformed();
    }
    await r.drain();
  } catch (err) {
    if (!out.destroyed) out.destroy(toS3Error(err));
    throw err;
  }
}

/** Reads the fields up to the file field (named `file`), then hands the file out as a stream. */
export async function readPostForm(source: Readable, boundary: string, limits: FormLimits): Promise<PostForm> {
  // a POST form is authenticated by its own fields: the body is needed to know anything
  sendContinue(source);
  const r = new Pull(source);
  const dashBoundary = Buffer.from('--' + boundary);
  const delimiter = Buffer.concat([CRLF, dashBoundary]);
  const fields = new Map<string, string>();
  const start = await r.find(dashBoundary, limits.maxFieldBytes);
  r.take(start + dashBoundary.length);
  let used = 0;
  for (;;) {
    await r.need(2);
    const after = r.take(2).toString('latin1');
    if (after === '--') throw new S3Error('InvalidArgument', 'POST requires exactly one file upload per request.', { ArgumentName: 'file', ArgumentValue: '0' });
    if (after !== '\r\n') throw malformed();
    const headerEnd = await r.find(HEADER_END, limits.maxFieldBytes - used);
    const headerBlock = r.take(headerEnd + HEADER_END.length).toString('utf8');
    used += headerBlock.length;
    const part = parsePartHeaders(headerBlock.slice(0, headerEnd));
    if (part.name.toLowerCase() === 'file') {
      const out = new PassThrough({ highWaterMark: 256 * 1024 });
      const done = pumpFile(r, delimiter, out);
      done.catch(() => undefined); // observed through the stream; `done` rethrows for the caller
      return { fields, file: { filename: part.filename ?? '', ...(part.contentType ? { contentType: part.contentType } : {}), stream: out }, done };
    }
    const end = await r.find(delimiter, limits.maxFieldBytes - used);
    const value = r.take(end).toString('utf8');
    r.take(delimiter.length);
    used += value.length + delimiter.length;
    if (used > limits.maxFieldBytes) throw new S3Error('MaxMessageLengthExceeded', 'The form fields before the file are too large.');
    const name = part.name.toLowerCase();
    if (fields.has(name)) throw new S3Error('InvalidArgument', `The form field ${part.name} was given more than once.`, { ArgumentName: part.name });
    fields.set(name, value);
  }
}
