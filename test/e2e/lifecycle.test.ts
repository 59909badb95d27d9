/**
 * Lifecycle through @aws-sdk/client-s3: Put/Get/DeleteBucketLifecycleConfiguration with S3's
 * validation, and the background job applying the rules — run with runOnce() on a clock
 * moved days ahead (the gateway's `lifecycle.now` option) rather than waiting days.
 */
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketLifecycleCommand,
  GetBucketLifecycleConfigurationCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type LifecycleRule,
} from '@aws-sdk/client-s3';
import { beforeEach, describe, expect, it } from 'vitest';
import { sdkError, uniqueBucket, useGateway } from '../helpers/gateway.js';
import { parseError, rawRequest } from '../helpers/raw.js';

const DAY = 86_400_000;
let offset = 0;

const erne = useGateway({ lifecycle: { now: () => Date.now() + offset } });

beforeEach(() => {
  offset = 0;
});

async function bucketWith(rules: LifecycleRule[], versioned = false): Promise<string> {
  const b = uniqueBucket('lc');
  await erne.s3.send(new CreateBucketCommand({ Bucket: b }));
  if (versioned) await erne.s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
  await erne.s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: b, LifecycleConfiguration: { Rules: rules } }));
  return b;
}

async function keys(b: string): Promise<string[]> {
  return ((await erne.s3.send(new ListObjectsV2Command({ Bucket: b }))).Contents ?? []).map((o) => o.Key!);
}

describe('lifecycle configuration', () => {
  it('stores and returns the rules, then deletes them', async () => {
    const rules: LifecycleRule[] = [
      { ID: 'logs', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 30 } },
      { ID: 'tmp', Status: 'Disabled', Filter: { And: { Prefix: 'tmp/', Tags: [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }] } }, Expiration: { Date: new Date('2030-01-01T00:00:00Z') } },
      { ID: 'old', Status: 'Enabled', Filter: { Tag: { Key: 'k', Value: 'v' } }, NoncurrentVersionExpiration: { NoncurrentDays: 7 } },
      { ID: 'mpu', Status: 'Enabled', Filter: {}, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 }, Expiration: { ExpiredObjectDeleteMarker: true } },
    ];
    const b = await bucketWith(rules);
    const got = await erne.s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: b }));
    expect(got.Rules).toEqual([
      { ID: 'logs', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 30 } },
      { ID: 'tmp', Status: 'Disabled', Filter: { And: { Prefix: 'tmp/', Tags: [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }] } }, Expiration: { Date: new Date('2030-01-01T00:00:00Z') } },
      { ID: 'old', Status: 'Enabled', Filter: { Tag: { Key: 'k', Value: 'v' } }, NoncurrentVersionExpiration: { NoncurrentDays: 7 } },
      { ID: 'mpu', Status: 'Enabled', Filter: {}, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 }, Expiration: { ExpiredObjectDeleteMarker: true } },
    ]);
    const del = await erne.s3.send(new DeleteBucketLifecycleCommand({ Bucket: b }));
    expect(del.$metadata.httpStatusCode).toBe(204);
    const e = await sdkError(erne.s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: b })));
    expect([e.name, e.status]).toEqual(['NoSuchLifecycleConfiguration', 404]);
  });

  it.each([
    ['Days of 0', [{ ID: 'x', Status: 'Enabled', Filter: {}, Expiration: { Days: 0 } }], 'InvalidArgument'],
    ['a Date not at midnight', [{ ID: 'x', Status: 'Enabled', Filter: {}, Expiration: { Date: new Date('2030-01-01T12:00:00Z') } }], 'InvalidArgument'],
    ['a rule without an action', [{ ID: 'x', Status: 'Enabled', Filter: { Prefix: 'a' } }], 'InvalidRequest'],
    ['two rules with one ID', [{ ID: 'x', Status: 'Enabled', Filter: {}, Expiration: { Days: 1 } }, { ID: 'x', Status: 'Enabled', Filter: {}, Expiration: { Days: 2 } }], 'InvalidArgument'],
    ['a tag filter with AbortIncompleteMultipartUpload', [{ Status: 'Enabled', Filter: { Tag: { Key: 'a', Value: 'b' } }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }], 'InvalidRequest'],
    ['a transition', [{ Status: 'Enabled', Filter: {}, Transitions: [{ Days: 30, StorageClass: 'GLACIER' }] }], 'NotImplemented'],
    ['1001 rules', Array.from({ length: 1001 }, (_, i) => ({ ID: `r${i}`, Status: 'Enabled', Filter: {}, Expiration: { Days: 1 } })), 'InvalidRequest'],
  ])('refuses %s', async (_n, rules, code) => {
    const b = uniqueBucket('lcbad');
    await erne.s3.send(new CreateBucketCommand({ Bucket: b }));
    const e = await sdkError(erne.s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: b, LifecycleConfiguration: { Rules: rules as LifecycleRule[] } })));
    expect(e.name).toBe(code);
    expect((await sdkError(erne.s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: b })))).name).toBe('NoSuchLifecycleConfiguration');
  });

  it('refuses a rule without Status (MalformedXML)', async () => {
    const b = uniqueBucket('lcbad');
    await erne.s3.send(new CreateBucketCommand({ Bucket: b }));
    const body = '<LifecycleConfiguration><Rule><Filter></Filter><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>';
    const r = await rawRequest(erne.gw, { method: 'PUT', path: `/${b}`, query: 'lifecycle=', body });
    expect(parseError(r.text).Code).toBe('MalformedXML');
  });
});

describe('lifecycle job', () => {
  it('expires current objects by age, prefix and tag; leaves the rest', async () => {
    const b = await bucketWith([
      { ID: 'logs', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 1 } },
      { ID: 'temp', Status: 'Enabled', Filter: { Tag: { Key: 'temp', Value: 'yes' } }, Expiration: { Days: 3 } },
      { ID: 'off', Status: 'Disabled', Filter: {}, Expiration: { Days: 1 } },
    ]);
    for (const k of ['logs/a', 'logs/b', 'keep/c']) await erne.s3.send(new PutObjectCommand({ Bucket: b, Key: k, Body: k }));
    await erne.s3.send(new PutObjectCommand({ Bucket: b, Key: 'scratch', Body: 'x', Tagging: 'temp=yes' }));
    await erne.s3.send(new PutObjectCommand({ Bucket: b, Key: 'other', Body: 'x', Tagging: 'temp=no' }));

    expect((await erne.gw.lifecycle.runOnce()).expired).toBe(0);
    expect(await keys(b)).toHaveLength(5);
    offset = 2 * DAY;
    expect((await erne.gw.lifecycle.runOnce()).expired).toBe(2);
    expect(await keys(b)).toEqual(['keep/c', 'other', 'scratch']);
    offset = 4 * DAY;
    await erne.gw.lifecycle.runOnce();
    expect(await keys(b)).toEqual(['keep/c', 'other']);
  });

  it('expires by date', async () => {
    // a UTC midnight at least a day away: the test cannot straddle it, whenever it runs
    const midnight = (Math.floor(Date.now() / DAY) + 2) * DAY;
    const b = await bucketWith([{ Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Date: new Date(midnight) } }]);
    await erne.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x' }));
    await erne.gw.lifecycle.runOnce();
    expect(await keys(b)).toEqual(['k']);
    // a minute before the date it stays; a second after it, it goes
    offset = midnight - Date.now() - 60_000;
    await erne.gw.lifecycle.runOnce();
    expect(await keys(b)).toEqual(['k']);
    offset = midnight - Date.now() + 1000;
    await erne.gw.lifecycle.runOnce();
    expect(await keys(b)).toEqual([]);
  });

  it('on a versioned bucket: delete markers, noncurrent versions, then the lone delete marker', async () => {
    const b = await bucketWith(
      [
        { ID: 'cur', Status: 'Enabled', Filter: {}, Expiration: { Days: 1 } },
        { ID: 'nc', Status: 'Enabled', Filter: {}, NoncurrentVersionExpiration: { NoncurrentDays: 1 } },
        { ID: 'dm', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { ExpiredObjectDeleteMarker: true } },
      ],
      true,
    );
    await erne.s3.send(new PutObjectCommand({ Bucket: b, Key: 'doc', Body: 'v1' }));
    await erne.s3.send(new PutObjectCommand({ Bucket: b, Key: 'doc', Body: 'v2' }));
    const versions = async () => {
      const r = await erne.s3.send(new ListObjectVersionsCommand({ Bucket: b }));
      return { versions: (r.Versions ?? []).length, markers: (r.DeleteMarkers ?? []).length };
    };
    offset = 3 * DAY;
    const first = await erne.gw.lifecycle.runOnce();
    expect(first.expired).toBe(1);
    expect(first.noncurrentExpired).toBe(2);
    expect((await sdkError(erne.s3.send(new HeadObjectCommand({ Bucket: b, Key: 'doc' })))).status).toBe(404);
    expect(await versions()).toEqual({ versions: 0, markers: 1 });
    const second = await erne.gw.lifecycle.runOnce();
    expect(second.deleteMarkersRemoved).toBe(1);
    expect(await versions()).toEqual({ versions: 0, markers: 0 });
  });

  it('keeps noncurrent versions younger than NoncurrentDays', async () => {
    const b = await bucketWith([{ Status: 'Enabled', Filter: {}, NoncurrentVersionExpiration: { NoncurrentDays: 5 } }], true);
    await erne.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: '1' }));
    await erne.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: '2' }));
    offset = 2 * DAY;
    await erne.gw.lifecycle.runOnce();
    expect((await erne.s3.send(new ListObjectVersionsCommand({ Bucket: b }))).Versions).toHaveLength(2);
    offset = 7 * DAY;
    await erne.gw.lifecycle.runOnce();
    const left = (await erne.s3.send(new ListObjectVersionsCommand({ Bucket: b }))).Versions ?? [];
    expect(left.map((v) => v.IsLatest)).toEqual([true]);
  });

  it('aborts incomplete multipart uploads after DaysAfterInitiation', async () => {
    const b = await bucketWith([{ Status: 'Enabled', Filter: { Prefix: 'big/' }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }]);
    await erne.s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'big/file' }));
    await erne.s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'small/file' }));
    const uploads = async () => ((await erne.s3.send(new ListMultipartUploadsCommand({ Bucket: b }))).Uploads ?? []).map((u) => u.Key);
    await erne.gw.lifecycle.runOnce();
    expect(await uploads()).toEqual(['big/file', 'small/file']);
    offset = 2 * DAY;
    expect((await erne.gw.lifecycle.runOnce()).uploadsAborted).toBe(1);
    expect(await uploads()).toEqual(['small/file']);
  });
});
