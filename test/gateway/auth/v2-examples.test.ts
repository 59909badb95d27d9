/**
 * The worked examples of AWS's Signature Version 2 documentation ("Signing and authenticating
 * REST requests", its Authentication examples and Query string request authentication; and
 * "Browser-based uploads using POST (AWS signature version 2)"): same credentials, requests,
 * StringToSign and signatures.
 */
import { describe, expect, it } from 'vitest';
import { verifyRequest } from '../../../gateway/auth/index.js';
import type { KeyLookup, SignedRequest } from '../../../gateway/auth/types.js';
import { verifyV2Form } from '../../../gateway/auth/v2-post.js';
import { requestStringToSign } from '../../../gateway/auth/v2-verify.js';
import { AKID, lookup, request } from './helpers.js';

interface Example {
  name: string;
  req: SignedRequest;
  /** the bucket of a virtual-host Host header (S3 puts it in front of the path) */
  bucket?: string;
  stringToSign: string;
  signature: string;
}

const examples: Example[] = [
  {
    name: 'Object GET (virtual-host bucket)',
    req: request('GET', '/photos/puppy.jpg', { Host: 'awsexamplebucket1.us-west-1.s3.amazonaws.com', Date: 'Tue, 27 Mar 2007 19:36:42 +0000' }),
    bucket: 'awsexamplebucket1',
    stringToSign: 'GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/awsexamplebucket1/photos/puppy.jpg',
    signature: 'qgk2+6Sv9/oM7G3qLEjTH1a1l1g=',
  },
  {
    name: 'Object PUT (Content-Type signed)',
    req: request('PUT', '/photos/puppy.jpg', {
      'Content-Type': 'image/jpeg',
      'Content-Length': 94328,
      Host: 'awsexamplebucket1.s3.us-west-1.amazonaws.com',
      Date: 'Tue, 27 Mar 2007 21:15:45 +0000',
    }),
    bucket: 'awsexamplebucket1',
    stringToSign: 'PUT\n\nimage/jpeg\nTue, 27 Mar 2007 21:15:45 +0000\n/awsexamplebucket1/photos/puppy.jpg',
    signature: 'iqRzw+ileNPu1fhspnRs8nOjjIA=',
  },
  {
    name: 'List (prefix, max-keys and marker are not sub-resources)',
    req: request('GET', '/?prefix=photos&max-keys=50&marker=puppy', {
      'User-Agent': 'Mozilla/5.0',
      Host: 'awsexamplebucket1.s3.us-west-1.amazonaws.com',
      Date: 'Tue, 27 Mar 2007 19:42:41 +0000',
    }),
    bucket: 'awsexamplebucket1',
    stringToSign: 'GET\n\n\nTue, 27 Mar 2007 19:42:41 +0000\n/awsexamplebucket1/',
    signature: 'm0WP8eCtspQl5Ahe6L1SozdX9YA=',
  },
  {
    name: 'Fetch (the acl sub-resource)',
    req: request('GET', '/?acl', { Host: 'awsexamplebucket1.s3.us-west-1.amazonaws.com', Date: 'Tue, 27 Mar 2007 19:44:46 +0000' }),
    bucket: 'awsexamplebucket1',
    stringToSign: 'GET\n\n\nTue, 27 Mar 2007 19:44:46 +0000\n/awsexamplebucket1/?acl',
    signature: '82ZHiFIjc+WbcwFKGUVEQspPn+0=',
  },
  {
    name: 'Upload (Content-MD5, x-amz-* headers sorted, lower-cased, a repeated one joined with commas; CNAME bucket)',
    req: {
      method: 'PUT',
      rawPath: '/db-backup.dat.gz',
      rawQuery: '',
      headers: {
        'user-agent': 'curl/7.15.5',
        host: 'static.johnsmith.net:8080',
        date: 'Tue, 27 Mar 2007 21:06:08 +0000',
        'x-amz-acl': 'public-read',
        'content-type': 'application/x-download',
        'content-md5': '4gJE4saaMU4BqNR0kLY+lw==',
        'x-amz-meta-reviewedby': ['joe@johnsmith.net', 'jane@johnsmith.net'],
        'x-amz-meta-filechecksum': '0x02661779',
        'x-amz-meta-checksumalgorithm': 'crc32',
        'content-disposition': 'attachment; filename=database.dat',
        'content-encoding': 'gzip',
        'content-length': '5913339',
      },
    },
    bucket: 'static.johnsmith.net',
    stringToSign:
      'PUT\n4gJE4saaMU4BqNR0kLY+lw==\napplication/x-download\nTue, 27 Mar 2007 21:06:08 +0000\n' +
      'x-amz-acl:public-read\nx-amz-meta-checksumalgorithm:crc32\nx-amz-meta-filechecksum:0x02661779\n' +
      'x-amz-meta-reviewedby:joe@johnsmith.net,jane@johnsmith.net\n/static.johnsmith.net/db-backup.dat.gz',
    signature: 'ilyl83RwaSoYIEdixDQcA4OnAnc=',
  },
  {
    name: 'List all my buckets',
    req: request('GET', '/', { Host: 's3.us-west-1.amazonaws.com', Date: 'Wed, 28 Mar 2007 01:29:59 +0000' }),
    stringToSign: 'GET\n\n\nWed, 28 Mar 2007 01:29:59 +0000\n/',
    signature: 'qGdzdERIC03wnaRNKh6OqZehG9s=',
  },
  {
    name: 'Unicode keys (the path is signed as sent, percent-encoding and all)',
    req: request('GET', '/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re', { Host: 's3.us-west-1.amazonaws.com', Date: 'Wed, 28 Mar 2007 01:49:49 +0000' }),
    stringToSign: 'GET\n\n\nWed, 28 Mar 2007 01:49:49 +0000\n/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re',
    signature: 'DNEZGsoieTZ92F3bUfSPQcbGmlM=',
  },
];

describe('AWS documented SigV2 header examples', () => {
  it.each(examples)('$name: StringToSign', (ex) => {
    expect(requestStringToSign({ req: ex.req, ...(ex.bucket ? { virtualHostBucket: ex.bucket } : {}) }, ex.req.headers['date'] as string)).toBe(ex.stringToSign);
  });

  it.each(examples)('$name: the documented signature is accepted', async (ex) => {
    const req = { ...ex.req, headers: { ...ex.req.headers, authorization: `AWS ${AKID}:${ex.signature}` } };
    const now = Date.parse(ex.req.headers['date'] as string);
    const ctx = await verifyRequest(req, lookup, { now, ...(ex.bucket ? { virtualHostBucket: ex.bucket } : {}) });
    expect(ctx).toEqual({ accessKeyId: AKID, root: true, payload: { kind: 'unsigned' }, presigned: false });
  });

  // The documentation's DELETE example (x-amz-date beside Date) signs x-amz-date's value on the
  // Date line, against its own rule ("use the empty string for the Date" and sign x-amz-date as an
  // amz header), which is what clients do (s3cmd, the AWS SDK for Java's S3 signer): the rule wins.
  it('x-amz-date: empty Date line, x-amz-date among the amz headers (the documented rule)', () => {
    const req = request('DELETE', '/awsexamplebucket1/photos/puppy.jpg', {
      'User-Agent': 'dotnet',
      Host: 's3.us-west-1.amazonaws.com',
      Date: 'Tue, 27 Mar 2007 21:20:27 +0000',
      'x-amz-date': 'Tue, 27 Mar 2007 21:20:26 +0000',
    });
    expect(requestStringToSign({ req }, '')).toBe('DELETE\n\n\n\nx-amz-date:Tue, 27 Mar 2007 21:20:26 +0000\n/awsexamplebucket1/photos/puppy.jpg');
  });
});

describe('AWS documented SigV2 query string example', () => {
  const url = `/photos/puppy.jpg?AWSAccessKeyId=${AKID}&Expires=1175139620&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D`;
  const req = request('GET', url, { Host: 'johnsmith.s3.amazonaws.com' });

  it('is accepted until it expires', async () => {
    const ctx = await verifyRequest(req, lookup, { now: 1175139620 * 1000, virtualHostBucket: 'johnsmith' });
    expect(ctx).toEqual({ accessKeyId: AKID, root: true, payload: { kind: 'unsigned' }, presigned: true });
  });

  it('is refused one second later: AccessDenied, Request has expired', async () => {
    await expect(verifyRequest(req, lookup, { now: 1175139621 * 1000, virtualHostBucket: 'johnsmith' })).rejects.toMatchObject({
      code: 'AccessDenied',
      message: 'Request has expired',
      detail: { Expires: '2007-03-29T03:40:20.000Z', ServerTime: '2007-03-29T03:40:21.000Z' },
    });
  });
});

describe('AWS documented SigV2 POST form example', () => {
  const policy =
    'eyAiZXhwaXJhdGlvbiI6ICIyMDA3LTEyLTAxVDEyOjAwOjAwLjAwMFoiLAogICJjb25kaXRpb25zIjogWwogICAgeyJidWNrZXQiOiAiam9obnNtaXRoIn0sCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci9lcmljLyJdLAogICAgeyJhY2wiOiAicHVibGljLXJlYWQifSwKICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL2pvaG5zbWl0aC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwifSwKICAgIFsic3RhcnRzLXdpdGgiLCAiJENvbnRlbnQtVHlwZSIsICJpbWFnZS8iXSwKICAgIHsieC1hbXotbWV0YS11dWlkIjogIjE0MzY1MTIzNjUxMjc0In0sCiAgICBbInN0YXJ0cy13aXRoIiwgIiR4LWFtei1tZXRhLXRhZyIsICIiXQogIF0KfQo=';
  const keys: KeyLookup = async (id) => (id === '15B4D3461F177624206A' ? { secretAccessKey: 'uV3F3YluFJax1cknvbcGwgjvx4QpvB+leU8dUj2o', root: false } : undefined);
  const form = (signature: string) => new Map([['key', 'user/eric/'], ['awsaccesskeyid', '15B4D3461F177624206A'], ['policy', policy], ['signature', signature]]);

  it('the documented signature of the policy is accepted', async () => {
    expect(await verifyV2Form(form('0RavWzkygo6QX9caELEqKi9kDbU='), keys, true)).toEqual({ accessKeyId: '15B4D3461F177624206A', root: false });
  });

  it('another signature is SignatureDoesNotMatch naming the policy as what was signed', async () => {
    await expect(verifyV2Form(form('0RavWzkygo6QX9caELEqKi9kDbV='), keys, true)).rejects.toMatchObject({
      code: 'SignatureDoesNotMatch',
      detail: { AWSAccessKeyId: '15B4D3461F177624206A', StringToSign: policy, SignatureProvided: '0RavWzkygo6QX9caELEqKi9kDbV=' },
    });
  });
});
