// An app as `erne storage create` expects it: the S3 client gets NO settings in code. The SDK
// reads AWS_ENDPOINT_URL_S3, AWS_REGION and the key from the environment, the app reads
// BUCKET_NAME. Writes hello.txt, reads it back, lists the bucket.
//
//   node dist/cli/erne.js storage create -n photos > photos.env
//   node --env-file=photos.env examples/storage-app.mjs
//
// With --keep-running it stays up afterwards (as a machine's program: erne storage create -a APP),
// and while BUCKET_NAME is not set it only waits.
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

const keepRunning = process.argv.includes('--keep-running');
if (keepRunning) setInterval(() => undefined, 60_000);
const bucket = process.env.BUCKET_NAME;
if (!bucket) {
  console.error('storage-app: BUCKET_NAME is not set: give this program the lines erne storage create printed');
  if (!keepRunning) process.exit(1);
} else {
  const s3 = new S3Client({});
  const body = `hello from ${process.env.FLY_MACHINE_ID ?? 'storage-app'} at ${new Date().toISOString()}`;
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'hello.txt', Body: body }));
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'hello.txt' }));
  console.log(`read back from ${bucket}: ${await got.Body.transformToString()}`);
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  console.log(`${bucket} holds: ${(listed.Contents ?? []).map((o) => o.Key).join(', ')}`);
  s3.destroy();
}
