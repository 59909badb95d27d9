/**
 * boto3 (Debian's python3-boto3, run with /usr/bin/python3 — not a pyenv python3 on PATH,
 * which lacks boto3) doing its normal job through boto3_walk.py: create bucket, put/get,
 * upload_file/download_file with TransferConfig(5 MiB threshold and chunks) on a 12 MiB file
 * (multipart up, ranged down), list_objects_v2 paginator, copy_object and managed multipart
 * copy, presigned GET/PUT fetched with urllib, a directory "sync", a versioned bucket,
 * delete_objects.
 * The script runs once; each step's outcome is one test here.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROOT, uniqueBucket } from '../../helpers/gateway.js';
import { describeNeeds } from '../../helpers/requires.js';
import { useClientSuite } from './suite.js';
import { cleanEnv, run } from './support.js';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'boto3_walk.py');

interface StepResult {
  step: string;
  ok: boolean;
  error?: string;
  response?: unknown;
  [k: string]: unknown;
}

const steps = new Map<string, StepResult>();
let output = '';

const suite = useClientSuite({
  name: 'boto3',
  needs: 'boto3',
  setup: async ({ bin, tr, dir }) => {
    const env = cleanEnv({ ERNE_ACCESS_KEY: ROOT.accessKeyId, ERNE_SECRET_KEY: ROOT.secretAccessKey, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' });
    const r = await run(bin, [SCRIPT, tr.url, uniqueBucket('boto3'), dir], { env, timeout: 120_000 });
    output = `exit ${r.code}\n${r.stderr}`;
    for (const line of r.stdout.split('\n')) {
      if (!line.trim()) continue;
      const s = JSON.parse(line) as StepResult;
      steps.set(s.step, s);
    }
    console.log(`boto3 used: ${bin}: ${JSON.stringify(steps.get('versions'))}`);
  },
  setupTimeout: 150_000,
});

function expectStep(name: string): void {
  const s = steps.get(name);
  if (!s) throw new Error(`boto3_walk.py did not report step ${name}; ${output}`);
  expect(s.ok, `${name}: ${s.error ?? ''} ${s.response ? JSON.stringify(s.response) : ''}`).toBe(true);
}

describeNeeds(suite.need)(`boto3 (${suite.bin})`, () => {
  it('create_bucket, list_buckets', () => expectStep('create_bucket'));
  it('put_object / get_object / head_object with metadata', () => expectStep('put_get_small'));
  it('upload_file 12 MiB with 5 MiB TransferConfig (3-part multipart), download_file (ranged) intact', () => expectStep('upload_file_multipart'));
  it('upload_file / download_file of a small file', () => expectStep('download_file_small'));
  it('list_objects_v2 paginator (3 pages of 10) and delimiter listing', () => expectStep('list_paginator'));
  it('copy_object', () => expectStep('copy_object'));
  it('managed copy of 12 MiB (UploadPartCopy)', () => expectStep('managed_copy_multipart'));
  it('generate_presigned_url for GET and PUT, fetched with urllib', () => expectStep('presigned_urls'));
  it('"sync" a 40-file tree with upload_file/download_file', () => expectStep('sync_directory'));
  it('versioning: enable, two versions, get by VersionId, delete marker, list_object_versions paginator, delete by version', () =>
    expectStep('versioning'));
  it('delete_objects of everything, delete_bucket', () => expectStep('delete_objects_and_bucket'));
});
