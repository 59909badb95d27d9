/**
 * `erne keys` and `erne storage` against a cluster of three regions (in-process gateways,
 * each with its own metadata and redis-server): a key made through one region's admin API
 * works in every region; `storage create` through a region that is not the control region
 * makes the bucket there (the control region decides the name) and the app, signing for
 * `auto`, works in another region with the same lines; destroy --force empties and removes
 * the bucket in every region.
 */
import { rmSync } from 'node:fs';
import { GetObjectCommand, HeadBucketCommand, HeadObjectCommand, ListBucketsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { s3Client, tempDir } from '../helpers/gateway.js';
import { useRegions } from '../helpers/regions.js';
import { redisServer } from '../helpers/redis.js';
import { describeNeeds } from '../helpers/requires.js';
import { erneAt, runApp, storageCreate } from '../helpers/storage-app.js';
import { waitFor } from '../helpers/wait.js';

describeNeeds(redisServer)('erne keys and storage in a cluster', () => {
  const cluster = useRegions(['iad', 'fra', 'sin']);
  let home: string;
  beforeAll(() => void (home = tempDir('erne-app-home-')));
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('a key made through one region works in every region', async () => {
    const made = await erneAt(cluster.region('fra').url, ['keys', 'create', '--json']);
    expect(made.code, made.stderr).toBe(0);
    const key = JSON.parse(made.stdout) as { accessKeyId: string; secretAccessKey: string };
    for (const r of cluster.regions) {
      const client = s3Client(r.gw!.gw, key, { config: { region: 'auto' } });
      await waitFor(`the key to work in ${r.name}`, async () => (await client.send(new ListBucketsCommand({}))).$metadata.httpStatusCode === 200);
      client.destroy();
    }
    // and every region's admin API lists it
    for (const r of cluster.regions) {
      const listed = await erneAt(r.url, ['keys', 'list', '--json']);
      expect((JSON.parse(listed.stdout) as { accessKeyId: string }[]).map((k) => k.accessKeyId)).toContain(key.accessKeyId);
    }
  });

  it('storage create through sin: the app works there and, with the same lines, in iad', async () => {
    const sin = cluster.region('sin');
    const iad = cluster.region('iad');
    const { vars, stdout } = await storageCreate(sin.url, ['--locations', 'global']);
    expect(vars.AWS_ENDPOINT_URL_S3).toBe(sin.url);
    const there = await runApp(stdout, home);
    expect(there).toMatchObject({ put: 'ok', get: 'hello from the app' });
    // the same lines, pointed at another region (as an app deployed there would be)
    const key = { accessKeyId: vars.AWS_ACCESS_KEY_ID!, secretAccessKey: vars.AWS_SECRET_ACCESS_KEY! };
    const inIad = s3Client(iad.gw!.gw, key, { config: { region: 'auto' } });
    const text = await waitFor('the object written in sin to be read in iad', async () =>
      (await inIad.send(new GetObjectCommand({ Bucket: vars.BUCKET_NAME, Key: 'app/hello.txt' }))).Body!.transformToString(),
    );
    expect(text).toBe('hello from the app');
    const pasted = stdout.replace(`AWS_ENDPOINT_URL_S3=${sin.url}`, `AWS_ENDPOINT_URL_S3=${iad.url}`);
    expect(await runApp(pasted, home)).toMatchObject({ put: 'ok', get: 'hello from the app' });
    inIad.destroy();
  });

  it('--locations is stored as the bucket locations document and replicates; update changes it', async () => {
    const { vars } = await storageCreate(cluster.region('iad').url, ['--locations', 'fra,iad']);
    const bucket = vars.BUCKET_NAME!;
    const locations = async (region: string) => (JSON.parse((await erneAt(cluster.region(region).url, ['storage', 'status', bucket, '--json'])).stdout) as { locations?: string }).locations;
    await waitFor('sin to know the locations', async () => (await locations('sin')) === 'fra,iad');
    const changed = await erneAt(cluster.region('sin').url, ['storage', 'update', bucket, '--locations', 'home:fra']);
    expect(changed.stdout, changed.stderr).toBe(`bucket ${bucket}: private, locations home:fra\n`);
    await waitFor('iad to know the new locations', async () => (await locations('iad')) === 'home:fra');
    const bad = await erneAt(cluster.region('sin').url, ['storage', 'update', bucket, '--locations', 'iad,lhr']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(`erne: locations: region "lhr" is not one of this cluster's regions (sin, iad, fra)\n`);
    expect(await locations('sin')).toBe('home:fra');
  });

  it('destroy --force through fra removes the objects and the bucket in every region', async () => {
    const fra = cluster.region('fra');
    const { vars } = await storageCreate(fra.url);
    const bucket = vars.BUCKET_NAME!;
    await fra.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'one', Body: '1' }));
    // the object is known everywhere before the bucket goes (what is not yet known somewhere makes it BucketNotEmpty)
    for (const r of cluster.regions) {
      await waitFor(`the object in ${r.name}`, async () => (await r.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'one' }))).$metadata.httpStatusCode === 200);
    }
    const gone = await erneAt(fra.url, ['storage', 'destroy', bucket, '-y', '--force']);
    expect(gone.code, gone.stderr).toBe(0);
    expect(gone.stdout).toMatch(new RegExp(`^destroyed bucket ${bucket} \\(1 object\\(s\\) deleted\\)\n`));
    for (const r of cluster.regions) {
      await waitFor(`the bucket to be gone in ${r.name}`, () =>
        r.s3.send(new HeadBucketCommand({ Bucket: bucket })).then(
          () => false,
          (err: { $metadata?: { httpStatusCode?: number } }) => err.$metadata?.httpStatusCode === 404,
        ),
      );
    }
  });
});
