/**
 * Erne's own public-bucket setting (`erne buckets update NAME --public|--no-public`, the built
 * CLI run as a separate process on the running gateway's data dir): every object of the bucket
 * becomes readable by anyone, whatever its ACL, while listing still follows the bucket's ACL.
 * The gateway runs on LMDB here whatever ERNE_TEST_METADATA says: the CLI is given the data dir.
 */
import { CreateBucketCommand, PutBucketVersioningCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { uniqueBucket, useGateway } from '../helpers/gateway.js';
import { erneCli } from '../helpers/child.js';
import { parseError, rawRequest } from '../helpers/raw.js';

const erne = useGateway({ metadata: { backend: 'lmdb' } });
const anon = (method: string, path: string, query?: string) => rawRequest(erne.gw, { method, path, query, creds: null });
const update = (bucket: string, flag: '--public' | '--no-public') => erneCli(['buckets', 'update', bucket, flag, '--data-dir', erne.dataDir]);

describe('erne buckets update --public', () => {
  it('makes every object readable by anyone, and --no-public ends it', async () => {
    const b = uniqueBucket('public');
    await erne.s3.send(new CreateBucketCommand({ Bucket: b }));
    await erne.s3.send(new PutObjectCommand({ Bucket: b, Key: 'photo.jpg', Body: 'pixels' }));
    expect((await anon('GET', `/${b}/photo.jpg`)).status).toBe(403);

    expect(await update(b, '--public')).toBe(`bucket ${b}: public (anyone may read every object in it)\n`);
    const got = await anon('GET', `/${b}/photo.jpg`);
    expect([got.status, got.text]).toEqual([200, 'pixels']);
    expect((await anon('HEAD', `/${b}/photo.jpg`)).status).toBe(200);
    const missing = await anon('GET', `/${b}/nothing-here`);
    expect([missing.status, parseError(missing.text).Code]).toEqual([404, 'NoSuchKey']);
    // listing and writing still follow the bucket's ACL (private here)
    expect((await anon('GET', `/${b}`, 'list-type=2')).status).toBe(403);
    expect((await rawRequest(erne.gw, { method: 'PUT', path: `/${b}/new`, body: 'x', creds: null })).status).toBe(403);

    await update(b, '--no-public');
    expect((await anon('GET', `/${b}/photo.jpg`)).status).toBe(403);
  });

  it('covers older versions too', async () => {
    const b = uniqueBucket('public-versions');
    await erne.s3.send(new CreateBucketCommand({ Bucket: b }));
    await erne.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'first' }));
    await erne.s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    await erne.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'second' }));
    await update(b, '--public');
    expect((await anon('GET', `/${b}/k`, 'versionId=null')).text).toBe('first');
  });

  it('refuses a bucket that does not exist, and a command with neither flag, in one line', async () => {
    await expect(update(uniqueBucket('nope'), '--public')).rejects.toThrow(/erne: no bucket nope-[^\n]* in this region\n$/);
    await expect(erneCli(['buckets', 'update', 'x', '--data-dir', erne.dataDir])).rejects.toThrow(/erne: nothing to update: give --public, --no-public, --consistent or --no-consistent\n$/);
    await expect(erneCli(['buckets', 'update', 'x', '--consistent', '--no-consistent', '--data-dir', erne.dataDir])).rejects.toThrow(/erne: --consistent and --no-consistent contradict each other\n$/);
  });
});
