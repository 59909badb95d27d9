/**
 * HTTPS: a gateway started with a certificate signed by a throw-away CA (made with the
 * openssl CLI in beforeAll) serves the real clients, each told to trust only that CA:
 * @aws-sdk/client-s3 (an https.Agent with the CA), the aws CLI (AWS_CA_BUNDLE), s3cmd
 * (ca_certs_file), rclone (--ca-cert) and boto3 (verify=<ca.pem>). Each does a put, a
 * listing, a get and a multipart upload. HTTP/1.1 keep-alive is checked over TLS and plain HTTP.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_BIN, bodyBytes, REGION, ROOT, startTestGateway, tempDir, uniqueBucket, type TestGateway } from '../helpers/gateway.js';
import { itNeeds } from '../helpers/requires.js';
import { rcloneEnv, writeS3cmdConfig } from './clients/configs.js';
import { clientNeed } from './clients/suite.js';
import { cleanEnv, fileMd5, mustRun, randomFile, smallFile } from './clients/support.js';

const MiB = 1024 * 1024;
let dir: string;
let ca: Buffer;
let caFile: string;
let t: TestGateway;

/** a CA and a server certificate for 127.0.0.1 and localhost, strict enough for Python's ssl */
function makeCerts(d: string): { caFile: string; certFile: string; keyFile: string } {
  const f = (n: string) => join(d, n);
  const ossl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  ossl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=Erne test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  ossl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=localhost');
  writeFileSync(
    f('server.ext'),
    ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth', 'subjectAltName=IP:127.0.0.1,DNS:localhost', 'subjectKeyIdentifier=hash', 'authorityKeyIdentifier=keyid,issuer', ''].join('\n'),
  );
  ossl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.pem'), '-days', '2', '-extfile', f('server.ext'));
  return { caFile: f('ca.pem'), certFile: f('server.pem'), keyFile: f('server.key') };
}

beforeAll(async () => {
  dir = tempDir('erne-tls-');
  const certs = makeCerts(dir);
  caFile = certs.caFile;
  ca = readFileSync(caFile);
  t = await startTestGateway({ tls: { certFile: certs.certFile, keyFile: certs.keyFile } });
}, 30_000);

afterAll(async () => {
  await t?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** the object's ETag, read with the SDK over TLS (a multipart upload's ends in -<parts>) */
async function etagOf(bucket: string, key: string): Promise<string | undefined> {
  const s3 = tlsClient();
  try {
    return (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ETag;
  } finally {
    s3.destroy();
  }
}

function tlsClient(): S3Client {
  return new S3Client({
    endpoint: t.gw.url,
    region: REGION,
    forcePathStyle: true,
    credentials: ROOT,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ httpsAgent: new https.Agent({ ca, keepAlive: true }) }),
  });
}

/** what one request on an agent saw: its status, its Connection header, and whether it reused a socket */
interface Seen {
  status: number | undefined;
  connection: string | undefined;
  reused: boolean;
}

/** a GET on `agent`; the caller asserts on what it resolves (an expect inside a callback would be lost) */
function seen(get: typeof http.get, url: string, agent: http.Agent): Promise<Seen> {
  return new Promise<Seen>((resolve, reject) => {
    const req = get(url, { agent }, (res) => {
      res.resume().on('end', () => resolve({ status: res.statusCode, connection: res.headers['connection'], reused: req.reusedSocket }));
    });
    req.on('error', reject);
  });
}

/** two requests on one agent (one socket): what each saw */
async function twice(get: typeof http.get, url: string, agent: http.Agent): Promise<Seen[]> {
  try {
    return [await seen(get, url, agent), await seen(get, url, agent)];
  } finally {
    agent.destroy();
  }
}

describe('TLS', () => {
  it('serves HTTPS on the gateway url, refuses clients that do not trust the CA, keeps connections alive', async () => {
    expect(t.gw.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const untrusted = await fetch(`${t.gw.url}/.erne/health`).then(
      () => 'connected',
      (e: Error & { cause?: { code?: string } }) => e.cause?.code ?? e.message,
    );
    expect(untrusted).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/);
    const got = await twice(https.get, `${t.gw.url}/.erne/health`, new https.Agent({ ca, keepAlive: true, maxSockets: 1 }));
    expect(got.map((g) => g.status)).toEqual([200, 200]);
    // the second request went over the first one's connection
    expect(got.map((g) => g.reused)).toEqual([false, true]);
  });

  it('keeps plain HTTP connections alive too', async () => {
    const plain = await startTestGateway();
    try {
      const got = await twice(http.get, `${plain.gw.url}/.erne/health`, new http.Agent({ keepAlive: true, maxSockets: 1 }));
      expect(got.map((g) => g.status)).toEqual([200, 200]);
      expect(got.map((g) => g.connection)).toEqual(['keep-alive', 'keep-alive']);
      expect(got.map((g) => g.reused)).toEqual([false, true]);
    } finally {
      await plain.stop();
    }
  });

  it('@aws-sdk/client-s3: put, list, get, multipart', async () => {
    const s3 = tlsClient();
    try {
      const bucket = uniqueBucket('tls-sdk');
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'small.txt', Body: 'over TLS' }));
      const list = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
      expect(list.Contents?.map((c) => c.Key)).toEqual(['small.txt']);
      expect((await bodyBytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'small.txt' }))).Body)).toString()).toBe('over TLS');
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'big.bin' }));
      const p1 = Buffer.alloc(5 * MiB, 1);
      const p2 = Buffer.from('tail');
      const e1 = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'big.bin', UploadId, PartNumber: 1, Body: p1 }));
      const e2 = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'big.bin', UploadId, PartNumber: 2, Body: p2 }));
      await s3.send(
        new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'big.bin', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: e1.ETag }, { PartNumber: 2, ETag: e2.ETag }] } }),
      );
      const got = await bodyBytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big.bin' }))).Body);
      expect(got.equals(Buffer.concat([p1, p2]))).toBe(true);
    } finally {
      s3.destroy();
    }
  });

  itNeeds(clientNeed('aws'))('aws CLI with AWS_CA_BUNDLE: mb, cp (multipart), ls, cp back', async () => {
    const env = cleanEnv({
      AWS_ACCESS_KEY_ID: ROOT.accessKeyId,
      AWS_SECRET_ACCESS_KEY: ROOT.secretAccessKey,
      AWS_DEFAULT_REGION: REGION,
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_CA_BUNDLE: caFile,
      AWS_PAGER: '',
    });
    const aws = (...args: string[]) => mustRun(AWS_BIN, ['--endpoint-url', t.gw.url, ...args], { env, cwd: dir });
    const bucket = uniqueBucket('tls-aws');
    const src = join(dir, 'aws-src.bin');
    const md5 = await randomFile(src, 9 * MiB); // above the CLI's 8 MiB multipart threshold
    await aws('s3', 'mb', `s3://${bucket}`);
    await aws('s3', 'cp', src, `s3://${bucket}/big.bin`);
    smallFile(join(dir, 'aws-small.txt'), 'small');
    await aws('s3', 'cp', join(dir, 'aws-small.txt'), `s3://${bucket}/small.txt`);
    const ls = await aws('s3', 'ls', `s3://${bucket}/`);
    expect(ls).toContain('big.bin');
    expect(ls).toContain('small.txt');
    const head = JSON.parse(await aws('s3api', 'head-object', '--bucket', bucket, '--key', 'big.bin')) as { ETag: string };
    expect(head.ETag).toMatch(/-2"$/);
    await aws('s3', 'cp', `s3://${bucket}/big.bin`, join(dir, 'aws-back.bin'));
    expect(await fileMd5(join(dir, 'aws-back.bin'))).toBe(md5);
  }, 120_000);

  itNeeds(clientNeed('s3cmd'))('s3cmd with ca_certs_file: mb, put (multipart), ls, get', async () => {
    const cfg = join(dir, 's3cfg');
    writeS3cmdConfig(cfg, t.gw.url, { multipartChunkMiB: 5, caFile });
    const s3cmd = (...args: string[]) => mustRun('/usr/bin/s3cmd', ['-c', cfg, ...args], { env: cleanEnv({ HOME: dir }), cwd: dir });
    const bucket = uniqueBucket('tls-s3cmd');
    const src = join(dir, 's3cmd-src.bin');
    const md5 = await randomFile(src, 11 * MiB);
    await s3cmd('mb', `s3://${bucket}`);
    await s3cmd('put', src, `s3://${bucket}/big.bin`);
    expect(await s3cmd('ls', `s3://${bucket}/`)).toContain(`s3://${bucket}/big.bin`);
    expect(await etagOf(bucket, 'big.bin')).toMatch(/-3"$/);
    await s3cmd('get', `s3://${bucket}/big.bin`, join(dir, 's3cmd-back.bin'));
    expect(await fileMd5(join(dir, 's3cmd-back.bin'))).toBe(md5);
  }, 120_000);

  itNeeds(clientNeed('rclone'))('rclone with --ca-cert: mkdir, copy (multipart), lsf, copyto back', async () => {
    const env = rcloneEnv(dir, t.gw.url);
    const rclone = (...args: string[]) => mustRun('/usr/bin/rclone', ['--ca-cert', caFile, '--retries', '1', '--low-level-retries', '1', ...args], { env, cwd: dir });
    const bucket = uniqueBucket('tls-rclone');
    const src = join(dir, 'rclone-src', 'big.bin');
    const md5 = await randomFile(src, 11 * MiB);
    await rclone('mkdir', `erne:${bucket}`);
    await rclone('copy', '--s3-upload-cutoff', '5M', '--s3-chunk-size', '5M', join(dir, 'rclone-src'), `erne:${bucket}`);
    expect((await rclone('lsf', `erne:${bucket}`)).split('\n').filter(Boolean)).toEqual(['big.bin']);
    expect(await etagOf(bucket, 'big.bin')).toMatch(/-3"$/);
    await rclone('copyto', `erne:${bucket}/big.bin`, join(dir, 'rclone-back.bin'));
    expect(await fileMd5(join(dir, 'rclone-back.bin'))).toBe(md5);
  }, 120_000);

  itNeeds(clientNeed('boto3'))('boto3 with verify=<ca.pem>: create, put, list, get, upload_file (multipart)', async () => {
    const script = `
import boto3, hashlib, json, sys
from boto3.s3.transfer import TransferConfig
url, bucket, ca, path, back = sys.argv[1:6]
s3 = boto3.client('s3', endpoint_url=url, region_name='${REGION}', verify=ca,
                  aws_access_key_id='${ROOT.accessKeyId}', aws_secret_access_key='${ROOT.secretAccessKey}',
                  config=boto3.session.Config(s3={'addressing_style': 'path'}, retries={'max_attempts': 1}))
s3.create_bucket(Bucket=bucket)
s3.put_object(Bucket=bucket, Key='small.txt', Body=b'over TLS')
keys = [o['Key'] for o in s3.list_objects_v2(Bucket=bucket)['Contents']]
body = s3.get_object(Bucket=bucket, Key='small.txt')['Body'].read().decode()
cfg = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
s3.upload_file(path, bucket, 'big.bin', Config=cfg)
etag = s3.head_object(Bucket=bucket, Key='big.bin')['ETag']
s3.download_file(bucket, 'big.bin', back)
print(json.dumps({'keys': sorted(keys), 'body': body, 'etag': etag}))
`;
    const src = join(dir, 'boto3-src.bin');
    const md5 = await randomFile(src, 11 * MiB);
    const out = await mustRun('/usr/bin/python3', ['-c', script, t.gw.url, uniqueBucket('tls-boto3'), caFile, src, join(dir, 'boto3-back.bin')], {
      env: cleanEnv({ AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' }),
    });
    const r = JSON.parse(out.trim().split('\n').pop()!) as { keys: string[]; body: string; etag: string };
    expect(r.keys).toEqual(['small.txt']);
    expect(r.body).toBe('over TLS');
    expect(r.etag).toMatch(/-3"$/);
    expect(await fileMd5(join(dir, 'boto3-back.bin'))).toBe(md5);
  }, 120_000);
});
