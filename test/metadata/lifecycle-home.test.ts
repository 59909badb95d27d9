/**
 * The lifecycle job in a region that is not the bucket's home (expiresHere false): objects are
 * left to the home region, whose expiry replicates; this region's own multipart uploads, which
 * never replicate, are still aborted here.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createBucketConfigStore, type BucketConfigStore } from '../../metadata/bucket-config.js';
import { createLifecycleJob } from '../../metadata/lifecycle-runner.js';
import type { LifecycleRule } from '../../metadata/lifecycle-rules.js';
import { createMultipartLayer, type MultipartLayer } from '../../metadata/multipart.js';
import { inlineObject, tempLayer, type TempLayer } from './lmdb-temp.js';

const DAY = 86_400_000;
let t: TempLayer;
let configs: BucketConfigStore;
let multipart: MultipartLayer;

beforeEach(async () => {
  t = await tempLayer('fra');
  configs = createBucketConfigStore(t.kv, { region: 'fra' });
  multipart = createMultipartLayer(t.kv, { region: 'fra' });
  await t.layer.createBucket({ name: 'bkt', owner: 'AK1', region: 'iad' });
  await t.layer.putObject(inlineObject('k', 'expired long ago'));
  await multipart.createUpload({ bucket: 'bkt', key: 'u', owner: 'AK1', headers: {}, userMetadata: {} });
  const rules: LifecycleRule[] = [{ enabled: true, filter: {}, expiration: { days: 1 }, abortIncompleteMultipartUploadDays: 1 }];
  await configs.put('bkt', 'lifecycle', rules);
});
afterEach(() => t?.cleanup());

const later = () => Date.now() + 10 * DAY;

it('another region is the home: objects stay, this region’s uploads are aborted', async () => {
  const job = createLifecycleJob({ layer: t.layer, configs, multipart }, { now: later, expiresHere: (b) => b.region === 'fra' });
  expect(await job.runOnce()).toMatchObject({ expired: 0, uploadsAborted: 1 });
  expect((await t.layer.listObjects({ bucket: 'bkt', maxKeys: 10 })).contents.map((v) => v.key)).toEqual(['k']);
  expect((await multipart.listUploads({ bucket: 'bkt', maxUploads: 10 })).uploads).toEqual([]);
});

it('this region is the home: objects expire here', async () => {
  const job = createLifecycleJob({ layer: t.layer, configs, multipart }, { now: later, expiresHere: (b) => b.region === 'iad' });
  expect(await job.runOnce()).toMatchObject({ expired: 1, uploadsAborted: 1 });
  expect((await t.layer.listObjects({ bucket: 'bkt', maxKeys: 10 })).contents).toEqual([]);
});
