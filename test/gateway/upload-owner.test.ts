import { describe, expect, it } from 'vitest';
import { FORWARDED_FROM, uploadOwner } from '../../gateway/forward/upload-owner.js';
import { newUploadId } from '../../metadata/upload-id.js';

const svc = { region: 'fra', regions: ['fra', 'iad', 'sin'] };
const iadId = newUploadId('iad');

interface Case {
  what: string;
  method: string;
  key?: string;
  query: string;
  headers?: Record<string, string>;
  want?: { region: string; op: string };
}

const cases: Case[] = [
  { what: 'UploadPart', method: 'PUT', query: `partNumber=1&uploadId=${iadId}`, want: { region: 'iad', op: 'UploadPart' } },
  { what: 'UploadPartCopy', method: 'PUT', query: `partNumber=1&uploadId=${iadId}`, headers: { 'x-amz-copy-source': '/b/src' }, want: { region: 'iad', op: 'UploadPartCopy' } },
  { what: 'ListParts', method: 'GET', query: `uploadId=${iadId}`, want: { region: 'iad', op: 'ListParts' } },
  { what: 'CompleteMultipartUpload', method: 'POST', query: `uploadId=${iadId}`, want: { region: 'iad', op: 'CompleteMultipartUpload' } },
  { what: 'AbortMultipartUpload', method: 'DELETE', query: `uploadId=${iadId}`, want: { region: 'iad', op: 'AbortMultipartUpload' } },
  { what: 'an upload of this region', method: 'PUT', query: `partNumber=1&uploadId=${newUploadId('fra')}` },
  { what: 'an id of the old format', method: 'PUT', query: `partNumber=1&uploadId=${newUploadId()}` },
  { what: 'a region the cluster has not', method: 'PUT', query: `partNumber=1&uploadId=${newUploadId('lhr')}` },
  { what: 'a request already forwarded once', method: 'PUT', query: `partNumber=1&uploadId=${iadId}`, headers: { [FORWARDED_FROM]: 'sin' } },
  { what: 'a method no upload operation has', method: 'HEAD', query: `uploadId=${iadId}` },
  { what: 'CreateMultipartUpload (no id yet)', method: 'POST', query: 'uploads=' },
  { what: 'a bucket-level request', method: 'GET', key: '', query: `uploadId=${iadId}` },
];

describe('which region serves a multipart upload request (fra asks)', () => {
  it.each(cases)('$what', (c) => {
    const r = { method: c.method, bucket: 'b', key: c.key === '' ? undefined : (c.key ?? 'k'), query: new URLSearchParams(c.query), headers: c.headers ?? {} };
    expect(uploadOwner(svc, r)).toEqual(c.want);
  });
});
