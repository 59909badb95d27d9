/**
 * boto3 (Debian's python3-boto3 via /usr/bin/python3) with Config(signature_version='s3'):
 * botocore's Signature Version 2 signer, through boto3_v2.py. Bucket and object calls that sign
 * each v2 sub-resource (acl, uploads/uploadId/partNumber, tagging, versioning/versions/versionId,
 * delete, response-content-type), a UTF-8 metadata value, v2 presigned GET/PUT URLs (and one
 * already expired) and a v2 presigned POST; then the same client against a gateway that takes
 * SigV4 only, which must answer S3's 400 InvalidRequest.
 * The script runs once; each step's outcome is one test here.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { describeNeeds } from '../../helpers/requires.js';
import { ROOT, startTestGateway, uniqueBucket } from '../../helpers/gateway.js';
import { useClientSuite } from './suite.js';
import { cleanEnv, run } from './support.js';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'boto3_v2.py');

interface StepResult {
  step: string;
  ok: boolean;
  error?: string;
  response?: unknown;
}

const steps = new Map<string, StepResult>();
let output = '';

const suite = useClientSuite({
  name: 'boto3-v2',
  needs: 'boto3',
  setup: async ({ bin, tr }) => {
    const v4only = await startTestGateway({ sigv2: false });
    try {
      const env = cleanEnv({ ERNE_ACCESS_KEY: ROOT.accessKeyId, ERNE_SECRET_KEY: ROOT.secretAccessKey, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' });
      const r = await run(bin, [SCRIPT, tr.url, uniqueBucket('boto3-v2'), v4only.gw.url], { env, timeout: 120_000 });
      output = `exit ${r.code}\n${r.stderr}`;
      for (const line of r.stdout.split('\n')) {
        if (!line.trim()) continue;
        const s = JSON.parse(line) as StepResult;
        steps.set(s.step, s);
      }
    } finally {
      await v4only.stop();
    }
    console.log(`boto3 used: ${bin}: ${JSON.stringify(steps.get('versions'))}`);
  },
  setupTimeout: 150_000,
});

function expectStep(name: string): void {
  const s = steps.get(name);
  if (!s) throw new Error(`boto3_v2.py did not report step ${name}; ${output}`);
  expect(s.ok, `${name}: ${s.error ?? ''} ${s.response ? JSON.stringify(s.response) : ''}`).toBe(true);
}

describeNeeds(suite.need)(`boto3 with signature_version='s3' (${suite.bin})`, () => {
  it('create_bucket, list_buckets', () => expectStep('create_bucket'));
  it('put_object (metadata, key with space and ü) / get_object / head_object / ResponseContentType', () => expectStep('put_get_head'));
  it('list_objects_v2 paginator, copy_object', () => expectStep('list_and_copy'));
  it('multipart: create, upload_part ×2, list_parts, complete; abort', () => expectStep('multipart'));
  it('put_object_acl public-read (then readable anonymously), get_object_acl, object tagging', () => expectStep('acl_and_tagging'));
  it('versioning: enable, get by VersionId, list_object_versions, delete_objects by version', () => expectStep('versioning'));
  it('v2 presigned GET and PUT URLs (metadata in the URL, signed) fetched with urllib; changed or expired ones are refused', () => expectStep('presigned_urls'));
  it('v2 presigned POST (generate_presigned_post) uploads', () => expectStep('presigned_post'));
  it('every request the client sent carried "Authorization: AWS …"', () => expectStep('every_request_was_v2'));
  it('a gateway with SigV2 off answers 400 InvalidRequest, please use AWS4-HMAC-SHA256', () => expectStep('refused_by_v4_only_gateway'));
  it('delete_objects of everything, delete_bucket', () => expectStep('cleanup'));
});
