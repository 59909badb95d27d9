/**
 * Non-ASCII header values from boto3 (Debian's python3-boto3 via /usr/bin/python3), which
 * sends and signs them as UTF-8: user metadata 'Zürich' and '東京', a content-disposition, an
 * x-amz-tagging header, metadata replaced on copy and set on a multipart upload, and an
 * x-amz-copy-source naming a non-ASCII key with its raw UTF-8 bytes. Each must verify and come
 * back as the very bytes sent. boto3_unicode.py runs once; each step is one test here.
 * The same through the JS SDK and presigned URLs: header-bytes.test.ts.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { describeNeeds } from '../../helpers/requires.js';
import { ROOT, uniqueBucket } from '../../helpers/gateway.js';
import { useClientSuite } from './suite.js';
import { cleanEnv, run } from './support.js';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'boto3_unicode.py');
const bucket = uniqueBucket('boto3-unicode');

interface StepResult {
  step: string;
  ok: boolean;
  error?: string;
  meta?: Record<string, string>;
  disposition?: Record<string, string>;
  tags?: Record<string, string>;
  body?: string;
}

const steps = new Map<string, StepResult>();
let output = '';

const suite = useClientSuite({
  name: 'boto3-unicode',
  needs: 'boto3',
  setup: async ({ bin, tr }) => {
    const env = cleanEnv({ ERNE_ACCESS_KEY: ROOT.accessKeyId, ERNE_SECRET_KEY: ROOT.secretAccessKey, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' });
    const r = await run(bin, [SCRIPT, tr.url, bucket], { env, timeout: 60_000 });
    output = `exit ${r.code}\n${r.stderr}`;
    for (const line of r.stdout.split('\n')) if (line.trim()) steps.set((JSON.parse(line) as StepResult).step, JSON.parse(line) as StepResult);
  },
  setupTimeout: 90_000,
});

/** the step's report, which must have succeeded */
function passed(name: string): StepResult {
  const s = steps.get(name);
  if (!s) throw new Error(`boto3_unicode.py did not report step ${name}; ${output}`);
  expect(s.ok, `${name}: ${s.error ?? ''}`).toBe(true);
  return s;
}

const hex = (s: string) => Buffer.from(s, 'utf8').toString('hex');

describeNeeds(suite.need)(`boto3 with non-ASCII header values (${suite.bin})`, () => {
  it('put_object with x-amz-meta-city: Zürich, x-amz-meta-town: 東京 and a UTF-8 content-disposition verifies', () => {
    passed('put_metadata');
  });

  it('head_object returns the metadata and content-disposition bytes as sent', () => {
    const s = passed('head_metadata');
    expect(s.meta).toEqual({ 'x-amz-meta-city': hex('Zürich'), 'x-amz-meta-town': hex('東京') });
    expect(s.disposition).toEqual({ 'content-disposition': hex('attachment; filename="Zürich 東京.txt"') });
  });

  it('get_object returns the same bytes', () => {
    const s = passed('get_metadata');
    expect(s.meta).toEqual({ 'x-amz-meta-city': hex('Zürich'), 'x-amz-meta-town': hex('東京') });
    expect(s.body).toBe('hello');
  });

  it('an x-amz-tagging header with UTF-8 values is stored as those tags', () => {
    expect(passed('tagging_header').tags).toEqual({ city: 'Zürich', town: '東京' });
  });

  it('copy_object replacing the metadata with a UTF-8 value', () => {
    expect(passed('copy_replacing_metadata').meta).toEqual({ 'x-amz-meta-city': hex('Genève') });
  });

  it('x-amz-copy-source naming a non-ASCII key in raw UTF-8 finds that key', () => {
    expect(passed('copy_source_as_utf8').body).toBe('from a unicode key');
  });

  it('create_multipart_upload with UTF-8 metadata: the completed object carries it', () => {
    expect(passed('multipart_metadata').meta).toEqual({ 'x-amz-meta-city': hex('Zürich') });
  });
});
