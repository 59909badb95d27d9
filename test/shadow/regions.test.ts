/**
 * A shadow setting in a cluster: set through one region's admin API, it replicates as a bucket
 * setting, and another region reads through to the source; --no-shadow ends it everywhere.
 */
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bodyBytes, ROOT, s3Client, startTestGateway, uniqueBucket, type TestGateway } from '../helpers/gateway.js';
import { useRegions } from '../helpers/regions.js';
import { redisServer } from '../helpers/redis.js';
import { describeNeeds } from '../helpers/requires.js';
import { erneAt } from '../helpers/storage-app.js';
import { waitFor } from '../helpers/wait.js';

describeNeeds(redisServer)('a shadow bucket in a cluster', () => {
  const cluster = useRegions(['iad', 'fra']);
  let source: TestGateway;
  beforeAll(async () => void (source = await startTestGateway()));
  afterAll(async () => source?.stop());

  it('its shadow replicates: a region it was not set in reads through; --no-shadow ends it in every region', async () => {
    const src = s3Client(source.gw);
    const from = uniqueBucket('src');
    await src.send(new CreateBucketCommand({ Bucket: from }));
    await src.send(new PutObjectCommand({ Bucket: from, Key: 'old.txt', Body: 'from the old store' }));
    src.destroy();
    const name = uniqueBucket('shadow-regions');
    const fra = cluster.region('fra');
    const iad = cluster.region('iad');
    const made = await erneAt(fra.url, ['storage', 'create', '-n', name, '--shadow-endpoint', source.gw.url, '--shadow-bucket', from, '--shadow-access-key', ROOT.accessKeyId, '--shadow-secret-key', ROOT.secretAccessKey]);
    expect(made.code, made.stderr).toBe(0);
    const shadowIn = async (url: string) => (JSON.parse((await erneAt(url, ['storage', 'status', name, '--json'])).stdout) as { shadow?: { bucket: string } }).shadow;
    await waitFor('the shadow to reach iad', async () => (await shadowIn(iad.url))?.bucket === from);
    const got = await iad.s3.send(new GetObjectCommand({ Bucket: name, Key: 'old.txt' }));
    expect((await bodyBytes(got.Body)).toString()).toBe('from the old store');

    expect((await erneAt(iad.url, ['storage', 'update', name, '--no-shadow'])).code).toBe(0);
    await waitFor('the shadow to be gone in fra', async () => (await shadowIn(fra.url)) === undefined);
  });
});
