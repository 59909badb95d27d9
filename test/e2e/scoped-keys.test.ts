/**
 * Scoped keys (what `erne storage create` makes): refused on every bucket they have no role
 * on, even where a bucket policy or a public setting would let an ordinary key with the same
 * role in (GET, PUT, a copy source, a POST form), and they create no bucket. The same key
 * without `scoped` is let in by the policy: the difference is the scope alone.
 */
import { CopyObjectCommand, CreateBucketCommand, GetObjectCommand, PutBucketPolicyCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keysCreate } from '../../cli/keys.js';
import { REGION, s3Client, startTestGateway, tempDir, uniqueBucket, type Creds, type TestGateway } from '../helpers/gateway.js';
import { postForm } from '../helpers/post-form.js';
import { rawRequest } from '../helpers/raw.js';

const SCOPED: Creds = { accessKeyId: 'SCOPEDKEY0001', secretAccessKey: 'SCOPEDKEY0001-secret-0123456789' };
const PLAIN: Creds = { accessKeyId: 'PLAINKEY0001', secretAccessKey: 'PLAINKEY0001-secret-0123456789' };
const mine = uniqueBucket('mine');
const theirs = uniqueBucket('theirs');

let t: TestGateway;
let root: S3Client;
const clients: S3Client[] = [];

beforeAll(async () => {
  const dataDir = tempDir('erne-scoped-');
  // the key commands need a region a gateway has made: one starts and stops first
  await (await startTestGateway({ dataDir })).gw.close();
  for (const [c, scoped] of [[SCOPED, true], [PLAIN, false]] as const) {
    await keysCreate({ 'access-key': c.accessKeyId, 'secret-key': c.secretAccessKey, bucket: mine, role: 'Editor', scoped, json: true, 'data-dir': dataDir, region: REGION }, () => undefined);
  }
  t = await startTestGateway({ dataDir });
  root = s3Client(t.gw);
  for (const b of [mine, theirs]) await root.send(new CreateBucketCommand({ Bucket: b }));
  await root.send(new PutObjectCommand({ Bucket: theirs, Key: 'doc', Body: 'theirs' }));
  const arn = (c: Creds) => `arn:aws:iam::000000000000:user/${c.accessKeyId}`;
  await root.send(
    new PutBucketPolicyCommand({
      Bucket: theirs,
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { AWS: [arn(SCOPED), arn(PLAIN)] }, Action: ['s3:GetObject', 's3:PutObject'], Resource: `arn:aws:s3:::${theirs}/*` }],
      }),
    }),
  );
}, 30_000);

afterAll(async () => {
  for (const c of [root, ...clients]) c?.destroy();
  await t?.stop();
});

function client(c: Creds): S3Client {
  const s = s3Client(t.gw, c);
  clients.push(s);
  return s;
}

const outcome = (p: Promise<unknown>) => p.then(() => 'ok', (e: { name: string }) => e.name);

describe('a scoped key', () => {
  it('works on its own bucket like the same key unscoped', async () => {
    for (const c of [SCOPED, PLAIN]) {
      const s = client(c);
      await s.send(new PutObjectCommand({ Bucket: mine, Key: c.accessKeyId, Body: 'x' }));
      expect(await (await s.send(new GetObjectCommand({ Bucket: mine, Key: c.accessKeyId }))).Body!.transformToString()).toBe('x');
    }
  });

  it('is refused where a bucket policy lets the unscoped key in: GET, PUT, copy source, POST form', async () => {
    const expected = { SCOPED: ['AccessDenied', 'AccessDenied', 'AccessDenied', 403], PLAIN: ['ok', 'ok', 'ok', 204] };
    for (const [name, c] of [['SCOPED', SCOPED], ['PLAIN', PLAIN]] as const) {
      const s = client(c);
      const got = [
        await outcome(s.send(new GetObjectCommand({ Bucket: theirs, Key: 'doc' }))),
        await outcome(s.send(new PutObjectCommand({ Bucket: theirs, Key: `put-${name}`, Body: 'y' }))),
        await outcome(s.send(new CopyObjectCommand({ Bucket: mine, Key: `copied-${name}`, CopySource: `${theirs}/doc` }))),
        (await rawRequest(t.gw, { ...postForm(theirs, `form-${name}`, c), creds: null })).status,
      ];
      expect(got, name).toEqual(expected[name]);
    }
    // nothing the scoped key tried landed
    await expect(root.send(new GetObjectCommand({ Bucket: theirs, Key: 'put-SCOPED' }))).rejects.toMatchObject({ name: 'NoSuchKey' });
    await expect(root.send(new GetObjectCommand({ Bucket: theirs, Key: 'form-SCOPED' }))).rejects.toMatchObject({ name: 'NoSuchKey' });
    await expect(root.send(new GetObjectCommand({ Bucket: mine, Key: 'copied-SCOPED' }))).rejects.toMatchObject({ name: 'NoSuchKey' });
  });

  it('creates no bucket; the unscoped key may', async () => {
    expect(await outcome(client(SCOPED).send(new CreateBucketCommand({ Bucket: uniqueBucket('scoped-new') })))).toBe('AccessDenied');
    expect(await outcome(client(PLAIN).send(new CreateBucketCommand({ Bucket: uniqueBucket('plain-new') })))).toBe('ok');
  });
});
