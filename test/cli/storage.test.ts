/**
 * `erne storage …` and `erne keys …` against a running `erne serve` (a child process) through
 * the admin API, as a user runs them: the printed AWS_* lines pasted into the environment of an
 * app that builds its S3 client with no settings at all; the key it got reaches its bucket and
 * no other; ReadOnly keys do not write; the admin API answers root keys only.
 */
import aws4 from 'aws4';
import { rmSync } from 'node:fs';
import { CreateBucketCommand, GetObjectCommand, HeadBucketCommand, ListBucketsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChildGateway, type ChildGateway } from '../helpers/child.js';
import { asRoot, erneAt, runApp as runStorageApp, storageCreate } from '../helpers/storage-app.js';
import { runErne, STACK_FRAME } from '../helpers/erne-run.js';
import { ROOT, s3Client, tempDir, uniqueBucket } from '../helpers/gateway.js';
import { rawRequest } from '../helpers/raw.js';

let g: ChildGateway;
let home: string;
const erne = (args: string[], env: Record<string, string> = asRoot()) => erneAt(g.url, args, env);

beforeAll(async () => {
  g = await startChildGateway();
  home = tempDir('erne-app-home-');
});
afterAll(async () => {
  await g?.stop();
  rmSync(home, { recursive: true, force: true });
});

const create = (args: string[] = []) => storageCreate(g.url, args);
const runApp = (pasted: string, other?: string) => runStorageApp(pasted, home, other);

describe('erne storage create', () => {
  it('prints five KEY=value lines an unmodified SDK app uses as they are: it puts and gets in its bucket', async () => {
    const { vars, stdout, stderr } = await create();
    expect(Object.keys(vars)).toEqual(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_ENDPOINT_URL_S3', 'AWS_REGION', 'BUCKET_NAME']);
    expect(vars.AWS_REGION).toBe('auto');
    expect(vars.AWS_ENDPOINT_URL_S3).toBe(g.url);
    // a generated name: two words and four hex digits, a valid S3 name
    expect(vars.BUCKET_NAME).toMatch(/^[a-z]+-[a-z]+-[0-9a-f]{4}$/);
    expect(stderr).toMatch(/the secret is shown only this once/);
    const root = s3Client(g);
    await root.send(new PutObjectCommand({ Bucket: vars.BUCKET_NAME, Key: 'seeded.txt', Body: 'seeded by root' }));
    const r = await runApp(stdout);
    expect(r).toMatchObject({ put: 'ok', get: 'hello from the app', getSeeded: 'seeded by root', delete: 'ok' });
    expect(r.list).toEqual(['app/hello.txt', 'seeded.txt']);
    // what the app wrote is there for root too
    const back = await root.send(new GetObjectCommand({ Bucket: vars.BUCKET_NAME, Key: 'app/hello.txt' }));
    expect(await back.Body!.transformToString()).toBe('hello from the app');
    root.destroy();
  });

  it('the key is refused on every other bucket, for every operation, and creates none', async () => {
    const other = uniqueBucket('other');
    const root = s3Client(g);
    await root.send(new CreateBucketCommand({ Bucket: other }));
    await root.send(new PutObjectCommand({ Bucket: other, Key: 'secret.txt', Body: 'not yours' }));
    // even a bucket everyone may read is not this key's
    const made = await runErne(['buckets', 'update', other, '--public', '--endpoint', g.url], { env: asRoot() });
    expect(made.stdout, made.stderr).toBe(`bucket ${other}: public (anyone may read every object in it)\n`);
    const { stdout, vars } = await create();
    const r = await runApp(stdout, other);
    expect(r.put).toBe('ok');
    expect(r.other).toEqual({ get: 'AccessDenied', put: 'AccessDenied', list: 'AccessDenied', head: '403', delete: 'AccessDenied', create: 'AccessDenied' });
    // nothing was changed there, and no bucket was made
    const still = await root.send(new GetObjectCommand({ Bucket: other, Key: 'secret.txt' }));
    expect(await still.Body!.transformToString()).toBe('not yours');
    await expect(root.send(new HeadBucketCommand({ Bucket: `${vars.BUCKET_NAME}-more` }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
    // ListBuckets shows the key its own bucket only
    const own = s3Client(g, { accessKeyId: vars.AWS_ACCESS_KEY_ID!, secretAccessKey: vars.AWS_SECRET_ACCESS_KEY! });
    const listed = await own.send(new ListBucketsCommand({}));
    expect(listed.Buckets?.map((b) => b.Name)).toEqual([vars.BUCKET_NAME]);
    own.destroy();
    root.destroy();
  });

  it('--role ReadOnly: the app reads and lists, and every write is refused', async () => {
    const { stdout, vars } = await create(['--role', 'ReadOnly']);
    const root = s3Client(g);
    await root.send(new PutObjectCommand({ Bucket: vars.BUCKET_NAME, Key: 'seeded.txt', Body: 'read me' }));
    const r = await runApp(stdout);
    expect(r).toMatchObject({ put: 'AccessDenied', get: 'NoSuchKey', getSeeded: 'read me', list: ['seeded.txt'], delete: 'AccessDenied' });
    // the object is still there
    const still = await root.send(new GetObjectCommand({ Bucket: vars.BUCKET_NAME, Key: 'seeded.txt' }));
    expect(await still.Body!.transformToString()).toBe('read me');
    root.destroy();
  });

  it('-n NAME, --public; a taken or invalid name is one line and leaves no key behind', async () => {
    const name = uniqueBucket('named');
    const { vars } = await create(['-n', name, '--public']);
    expect(vars.BUCKET_NAME).toBe(name);
    const status = await erne(['storage', 'status', name, '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ name, public: true, locations: 'global', keys: [{ accessKeyId: vars.AWS_ACCESS_KEY_ID, role: 'Editor', scoped: true }] });
    const keysBefore = (await erne(['keys', 'list', '--json'])).stdout;
    for (const [args, message] of [
      [['-n', name], /^erne: .*(not available|already)/],
      [['-n', 'Not_A_Bucket'], /^erne: The specified bucket is not valid/],
      [['--locations', 'nowhere'], /^erne: locations: region "nowhere" is not one of this cluster's regions/],
    ] as const) {
      const r = await erne(['storage', 'create', ...args]);
      expect(r.code, r.stdout).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(STACK_FRAME);
      expect(r.stdout).toBe('');
    }
    expect((await erne(['keys', 'list', '--json'])).stdout).toBe(keysBefore);
  });
});

describe('erne storage list, status, update, destroy', () => {
  it('list and status show the bucket, its objects and its key', async () => {
    const name = uniqueBucket('st');
    const { vars } = await create(['-n', name]);
    const root = s3Client(g);
    await root.send(new PutObjectCommand({ Bucket: name, Key: 'a', Body: 'abc' }));
    await root.send(new PutObjectCommand({ Bucket: name, Key: 'b/c', Body: 'defgh' }));
    const list = await erne(['storage', 'list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`^${name}\\s+us-east-1\\s+global\\s+no\\s+\\d{4}-`, 'm'));
    const status = await erne(['storage', 'status', name]);
    expect(status.stdout).toContain(`Bucket:     ${name}\n`);
    expect(status.stdout).toContain('Objects:    2 (8 bytes)\n');
    expect(status.stdout).toContain(`${vars.AWS_ACCESS_KEY_ID} Editor (scoped)`);
    const missing = await erne(['storage', 'status', 'no-such-bucket-here']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('erne: no bucket no-such-bucket-here\n');
    root.destroy();
  });

  it('update --public lets anyone read, --private ends it; nothing to update is a usage error', async () => {
    const name = uniqueBucket('upd');
    await create(['-n', name]);
    const root = s3Client(g);
    await root.send(new PutObjectCommand({ Bucket: name, Key: 'pic', Body: 'pixels' }));
    const anonymous = () => rawRequest(g, { method: 'GET', path: `/${name}/pic`, creds: null });
    expect((await anonymous()).status).toBe(403);
    const on = await erne(['storage', 'update', name, '--public']);
    expect(on.stdout).toBe(`bucket ${name}: public, locations global\n`);
    expect((await anonymous()).text).toBe('pixels');
    await erne(['storage', 'update', name, '--private']);
    expect((await anonymous()).status).toBe(403);
    const none = await erne(['storage', 'update', name]);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe('erne: nothing to update: give --public, --private, --locations, --shadow-* or --no-shadow\n');
    root.destroy();
  });

  it('destroy: asks (no terminal: needs -y), refuses a non-empty bucket, --force deletes objects then bucket and key', async () => {
    const name = uniqueBucket('gone');
    const { vars } = await create(['-n', name]);
    const root = s3Client(g);
    for (const k of ['x', 'y', 'z']) await root.send(new PutObjectCommand({ Bucket: name, Key: k, Body: k }));
    const unasked = await erne(['storage', 'destroy', name]);
    expect(unasked.code).toBe(2);
    expect(unasked.stderr).toMatch(/give -y when there is no terminal/);
    const full = await erne(['storage', 'destroy', name, '-y']);
    expect(full.code).toBe(1);
    expect(full.stderr).toBe(`erne: bucket ${name} is not empty: nothing was deleted (--force deletes its objects, then the bucket)\n`);
    expect((await root.send(new GetObjectCommand({ Bucket: name, Key: 'x' }))).$metadata.httpStatusCode).toBe(200);
    const forced = await erne(['storage', 'destroy', name, '-y', '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toBe(`destroyed bucket ${name} (3 object(s) deleted)\ndeleted its key ${vars.AWS_ACCESS_KEY_ID}\n`);
    await expect(root.send(new HeadBucketCommand({ Bucket: name }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
    // the key went with it: a new bucket of that name would not be its
    const keys = JSON.parse((await erne(['keys', 'list', '--json'])).stdout) as { accessKeyId: string }[];
    expect(keys.map((k) => k.accessKeyId)).not.toContain(vars.AWS_ACCESS_KEY_ID);
    // an empty bucket needs no --force
    const empty = uniqueBucket('empty');
    await create(['-n', empty]);
    expect((await erne(['storage', 'destroy', empty, '-y'])).stdout).toMatch(new RegExp(`^destroyed bucket ${empty}\n`));
    root.destroy();
  });
});

describe('erne keys --endpoint', () => {
  it('creates, lists and deletes keys on the running gateway (root key from --root-access-key/--root-secret-key)', async () => {
    const env = { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', ERNE_ROOT_ACCESS_KEY: '', ERNE_ROOT_SECRET_KEY: '' };
    const rootFlags = ['--root-access-key', ROOT.accessKeyId, '--root-secret-key', ROOT.secretAccessKey];
    const made = await erne(['keys', 'create', '--name', 'remote-made', '--json', ...rootFlags], env);
    expect(made.code, made.stderr).toBe(0);
    const key = JSON.parse(made.stdout) as { accessKeyId: string; secretAccessKey: string };
    // it works at once on the gateway
    const client = s3Client(g, key);
    await client.send(new CreateBucketCommand({ Bucket: uniqueBucket('bykey') }));
    const listed = await erne(['keys', 'list', ...rootFlags], env);
    expect(listed.stdout).toMatch(new RegExp(`^${key.accessKeyId}\\s+-\\s+\\S+\\s+remote-made$`, 'm'));
    expect(listed.stdout).not.toContain(key.secretAccessKey);
    expect((await erne(['keys', 'delete', key.accessKeyId, ...rootFlags], env)).stdout).toBe(`deleted ${key.accessKeyId}\n`);
    await expect(client.send(new ListBucketsCommand({}))).rejects.toMatchObject({ name: 'InvalidAccessKeyId' });
    client.destroy();
  });

  it('without a root key, or with a key that is not one: one line, exit 1 or 2, nothing made', async () => {
    const none = await erne(['keys', 'create'], { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', ERNE_ROOT_ACCESS_KEY: '', ERNE_ROOT_SECRET_KEY: '' });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^erne: --endpoint needs a root key/);
    const { vars } = await create();
    const before = (await erne(['keys', 'list', '--json'])).stdout;
    const scoped = await erne(['keys', 'create'], { AWS_ACCESS_KEY_ID: vars.AWS_ACCESS_KEY_ID!, AWS_SECRET_ACCESS_KEY: vars.AWS_SECRET_ACCESS_KEY!, ERNE_ROOT_ACCESS_KEY: '', ERNE_ROOT_SECRET_KEY: '' });
    expect(scoped.code).toBe(1);
    expect(scoped.stderr).toBe(`erne: ${g.url} refused the admin request (AccessDenied): Access key ${vars.AWS_ACCESS_KEY_ID} is not a root key: the admin API needs one.\n`);
    const wrong = await erne(['storage', 'list'], { AWS_ACCESS_KEY_ID: ROOT.accessKeyId, AWS_SECRET_ACCESS_KEY: 'not-the-secret', ERNE_ROOT_ACCESS_KEY: '', ERNE_ROOT_SECRET_KEY: '' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/refused the admin request \(SignatureDoesNotMatch\)/);
    expect((await erne(['keys', 'list', '--json'])).stdout).toBe(before);
  });
});

describe('the admin API', () => {
  const keysPath = '/.erne/admin/keys';
  const body = JSON.stringify({ name: 'should-not-exist', root: true });

  it('answers a root key, signed for auto, us-east-1 or the region', async () => {
    for (const region of ['auto', 'us-east-1']) {
      const r = await rawRequest(g, { method: 'GET', path: keysPath, region });
      expect(r.status, r.text).toBe(200);
      expect(r.headers['content-type']).toBe('application/json');
      expect((JSON.parse(r.text) as { accessKeyId: string }[]).map((k) => k.accessKeyId)).toContain(ROOT.accessKeyId);
    }
  });

  it('refuses unsigned, presigned and non-root requests with 403 and a JSON error, changing nothing', async () => {
    const { vars } = await create();
    const scoped = { accessKeyId: vars.AWS_ACCESS_KEY_ID!, secretAccessKey: vars.AWS_SECRET_ACCESS_KEY! };
    const unsigned = await rawRequest(g, { method: 'POST', path: keysPath, creds: null, body, headers: { 'content-type': 'application/json' } });
    expect(unsigned.status).toBe(403);
    expect(JSON.parse(unsigned.text)).toEqual({ error: { code: 'AccessDenied', message: 'The admin API needs a request signed (SigV4) with a root key.' } });
    const nonRoot = await rawRequest(g, { method: 'POST', path: keysPath, creds: scoped, body, headers: { 'content-type': 'application/json' } });
    expect(nonRoot.status).toBe(403);
    expect(JSON.parse(nonRoot.text).error.code).toBe('AccessDenied');
    const unknownKey = await rawRequest(g, { method: 'GET', path: keysPath, creds: { accessKeyId: 'EKNOSUCHKEY000000000', secretAccessKey: 'whatever-secret' } });
    expect(unknownKey.status).toBe(403);
    expect(JSON.parse(unknownKey.text).error.code).toBe('InvalidAccessKeyId');
    // a URL signed by root in the query is no way in either
    const url = new URL(g.url);
    const presigned = aws4.sign({ host: url.host, path: keysPath, service: 's3', region: 'auto', signQuery: true }, ROOT);
    const viaUrl = await fetch(`${g.url}${presigned.path}`);
    expect(viaUrl.status).toBe(403);
    expect(((await viaUrl.json()) as { error: { message: string } }).error.message).toMatch(/no presigned URLs/);
    // a body other than the one signed
    const swapped = await rawRequest(g, {
      method: 'POST',
      path: keysPath,
      headers: { 'content-type': 'application/json' },
      body,
      bodyAfterSign: () => Buffer.from(JSON.stringify({ name: 'swapped', root: true })),
    });
    expect(swapped.status).toBe(400);
    expect(JSON.parse(swapped.text).error.code).toBe('XAmzContentSHA256Mismatch');
    const keys = JSON.parse((await rawRequest(g, { method: 'GET', path: keysPath })).text) as { name?: string }[];
    expect(keys.map((k) => k.name)).not.toContain('should-not-exist');
    expect(keys.map((k) => k.name)).not.toContain('swapped');
  });
});
