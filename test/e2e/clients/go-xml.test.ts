/**
 * XML request bodies exactly as Go clients write them (rclone, minio-go/mc, aws-sdk-go all
 * use encoding/xml): its escaper writes `"` as &#34;, `'` as &#39;, tab/newline/CR as &#x9;
 * &#xA; &#xD; — numeric character references, which an XML reader must decode like named ones.
 * No Go S3 client other than rclone is installed here and rclone sends these documents only
 * for CompleteMultipartUpload, so the other documents are sent by hand, byte-for-byte what
 * encoding/xml produces, to the real gateway.
 */
import { createHash } from 'node:crypto';
import { GetObjectTaggingCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { sdkError, uniqueBucket, useGateway } from '../../helpers/gateway.js';
import { rawRequest } from '../../helpers/raw.js';

const bucket = uniqueBucket('goxml');
const erne = useGateway({ bucket });

/** Go's xml.EscapeText, as used by encoding/xml for character data. */
function goEscape(s: string): string {
  const table: Record<string, string> = { '"': '&#34;', "'": '&#39;', '&': '&amp;', '<': '&lt;', '>': '&gt;', '\t': '&#x9;', '\n': '&#xA;', '\r': '&#xD;' };
  return s.replace(/["'&<>\t\n\r]/g, (c) => table[c]!);
}

const md5b64 = (s: string) => createHash('md5').update(s).digest('base64');

describe('XML written by Go encoding/xml', () => {
  it('DeleteObjects deletes keys containing quotes and apostrophes (mc rm --recursive, minio-go RemoveObjects)', async () => {
    // the last two: text that merely looks like a reference must stay literal (no double decoding),
    // and spaces at either end are part of the key
    const keys = [`it's "quoted".txt`, `plain & <angled>.txt`, `literal &#34; and &amp; text`, `  spaced key  `];
    for (const Key of keys) await erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: 'x' }));
    const body = `<Delete><Quiet>false</Quiet>${keys.map((k) => `<Object><Key>${goEscape(k)}</Key></Object>`).join('')}</Delete>`;
    const res = await rawRequest(erne.gw, { method: 'POST', path: `/${bucket}`, query: 'delete=', body, headers: { 'Content-MD5': md5b64(body), 'Content-Type': 'application/xml' } });
    expect(res.status, res.text).toBe(200);
    // parsed untrimmed: the spaces around a key are part of it
    const doc = new XMLParser({ trimValues: false, parseTagValue: false, isArray: (n) => n === 'Deleted' }).parse(res.text) as { DeleteResult: { Deleted?: { Key: string }[] } };
    const deleted = (doc.DeleteResult.Deleted ?? []).map((d) => d.Key);
    expect(deleted.sort()).toEqual([...keys].sort());
    // S3 answers Deleted even for keys that do not exist, so only a HEAD shows the truth
    for (const Key of keys) expect((await sdkError(erne.s3.send(new HeadObjectCommand({ Bucket: bucket, Key })))).status, Key).toBe(404);
  });

  it('PutObjectTagging keeps an apostrophe and a quote in tag values', async () => {
    await erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'tagged', Body: 'x' }));
    const body = `<Tagging><TagSet><Tag><Key>owner</Key><Value>${goEscape(`O'Brien "the tester"`)}</Value></Tag></TagSet></Tagging>`;
    const res = await rawRequest(erne.gw, { method: 'PUT', path: `/${bucket}/tagged`, query: 'tagging=', body, headers: { 'Content-MD5': md5b64(body) } });
    expect(res.status, res.text).toBe(200);
    const got = await erne.s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'tagged' }));
    expect(got.TagSet).toEqual([{ Key: 'owner', Value: `O'Brien "the tester"` }]);
  });
});
