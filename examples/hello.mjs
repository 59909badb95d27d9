// Writes one object to a running Erne and reads it back, with @aws-sdk/client-s3.
//
//   npm start                  # in one terminal
//   node examples/hello.mjs    # in another, from the same directory
//
// Endpoint: AWS_ENDPOINT_URL, or http://127.0.0.1:9000 (npm start's).
// Keys, the first that is set: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY; ERNE_ROOT_ACCESS_KEY +
// ERNE_ROOT_SECRET_KEY (the pair you gave npm start); the root key npm start generated, kept in
// ./data/root-credentials.json (under ERNE_DATA_DIR when that is set).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

function credentials() {
  const env = process.env;
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) return { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY };
  if (env.ERNE_ROOT_ACCESS_KEY && env.ERNE_ROOT_SECRET_KEY) return { accessKeyId: env.ERNE_ROOT_ACCESS_KEY, secretAccessKey: env.ERNE_ROOT_SECRET_KEY };
  const file = join(env.ERNE_DATA_DIR || 'data', 'root-credentials.json');
  try {
    const { accessKeyId, secretAccessKey } = JSON.parse(readFileSync(file, 'utf8'));
    return { accessKeyId, secretAccessKey };
  } catch {
    console.error(`hello: no keys: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to the keys npm start printed (${file} holds them only when npm start generated them)`);
    process.exit(1);
  }
}

const endpoint = process.env.AWS_ENDPOINT_URL || 'http://127.0.0.1:9000';
const s3 = new S3Client({
  endpoint,
  region: 'us-east-1',
  forcePathStyle: true, // or start Erne with --domain and use virtual-host style
  credentials: credentials(),
});

try {
  try {
    await s3.send(new CreateBucketCommand({ Bucket: 'hello' }));
  } catch (err) {
    // a second run finds the bucket it made the first time
    if (err.name !== 'BucketAlreadyOwnedByYou') throw err;
  }
  await s3.send(new PutObjectCommand({ Bucket: 'hello', Key: 'hello.txt', Body: 'Hello from Erne!' }));
  const got = await s3.send(new GetObjectCommand({ Bucket: 'hello', Key: 'hello.txt' }));
  console.log(`wrote s3://hello/hello.txt at ${endpoint} and read back: ${await got.Body.transformToString()}`);
} catch (err) {
  // ECONNREFUSED: nothing listens there (is npm start running?); InvalidAccessKeyId: other keys
  console.error(`hello: ${endpoint}: ${err.code ?? err.name}: ${err.message}`);
  process.exit(1);
}
