/**
 * The README's promise: every S3 operation Erne does not offer answers 501 NotImplemented
 * with an S3 XML error body — never a wrong success — and changes nothing. Each row is sent
 * with @aws-sdk/client-s3's own command where the SDK has one, and as a raw signed request
 * otherwise. (Bucket policies, PublicAccessBlock, GetObjectAttributes and ACL grant bodies
 * are being implemented: not listed here.)
 */
import { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import {
  DeleteBucketAnalyticsConfigurationCommand,
  DeleteBucketEncryptionCommand,
  DeleteBucketIntelligentTieringConfigurationCommand,
  DeleteBucketInventoryConfigurationCommand,
  DeleteBucketMetricsConfigurationCommand,
  DeleteBucketOwnershipControlsCommand,
  DeleteBucketReplicationCommand,
  DeleteBucketWebsiteCommand,
  GetBucketAccelerateConfigurationCommand,
  GetBucketAnalyticsConfigurationCommand,
  GetBucketEncryptionCommand,
  GetBucketIntelligentTieringConfigurationCommand,
  GetBucketInventoryConfigurationCommand,
  GetBucketLoggingCommand,
  GetBucketMetricsConfigurationCommand,
  GetBucketNotificationConfigurationCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketReplicationCommand,
  GetBucketRequestPaymentCommand,
  GetBucketWebsiteCommand,
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  GetObjectTorrentCommand,
  HeadObjectCommand,
  ListBucketAnalyticsConfigurationsCommand,
  ListBucketIntelligentTieringConfigurationsCommand,
  ListBucketInventoryConfigurationsCommand,
  ListBucketMetricsConfigurationsCommand,
  ListObjectVersionsCommand,
  PutBucketAccelerateConfigurationCommand,
  PutBucketAnalyticsConfigurationCommand,
  PutBucketEncryptionCommand,
  PutBucketIntelligentTieringConfigurationCommand,
  PutBucketInventoryConfigurationCommand,
  PutBucketLoggingCommand,
  PutBucketMetricsConfigurationCommand,
  PutBucketNotificationConfigurationCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketReplicationCommand,
  PutBucketRequestPaymentCommand,
  PutBucketWebsiteCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectLockConfigurationCommand,
  PutObjectRetentionCommand,
  RestoreObjectCommand,
  SelectObjectContentCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { bodyBytes, uniqueBucket, useGateway } from '../helpers/gateway.js';
import { parseError, rawRequest } from '../helpers/raw.js';

const bucket = uniqueBucket('ni');
const KEY = 'existing.txt';
const BODY = 'stays as it is';
const erne = useGateway({ bucket });

/** what the gateway sent for the last SDK request, before the SDK parsed it */
interface Raw {
  status: number;
  contentType: string;
  body: string;
}
let last: Raw | undefined;
const lastRaw = (): Raw | undefined => last;

/** keeps a copy of each raw response the client receives (the SDK turns error bodies into exceptions) */
function tap(s3: S3Client): void {
  s3.middlewareStack.add(
    (next) => async (args) => {
      const out = await next(args);
      const res = out.response as { statusCode: number; headers: Record<string, string>; body: Readable };
      const bytes = await bodyBytes(res.body);
      last = { status: res.statusCode, contentType: res.headers['content-type'] ?? '', body: bytes.toString('utf8') };
      res.body = Readable.from([bytes]);
      return out;
    },
    // inside the SDK's deserializer: sees the response before it is parsed
    { step: 'deserialize', priority: 'low', name: 'erneRawTap' },
  );
}

beforeAll(async () => {
  tap(erne.s3);
  await erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: KEY, Body: BODY }));
});

const B = { Bucket: bucket };
const O = { Bucket: bucket, Key: KEY };
const sseKey = randomBytes(32);
const sseC = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: sseKey.toString('base64') };

// [operation, the SDK command sending it]; `send` builds a fresh command each time
const SDK_CASES: [string, () => Promise<unknown>][] = [
  ['PutBucketWebsite', () => erne.s3.send(new PutBucketWebsiteCommand({ ...B, WebsiteConfiguration: { IndexDocument: { Suffix: 'index.html' } } }))],
  ['GetBucketWebsite', () => erne.s3.send(new GetBucketWebsiteCommand(B))],
  ['DeleteBucketWebsite', () => erne.s3.send(new DeleteBucketWebsiteCommand(B))],
  [
    'PutBucketReplication',
    () =>
      erne.s3.send(
        new PutBucketReplicationCommand({
          ...B,
          ReplicationConfiguration: {
            Role: 'arn:aws:iam::123456789012:role/replication',
            Rules: [{ Status: 'Enabled', Priority: 1, Filter: { Prefix: '' }, DeleteMarkerReplication: { Status: 'Disabled' }, Destination: { Bucket: 'arn:aws:s3:::elsewhere' } }],
          },
        }),
      ),
  ],
  ['GetBucketReplication', () => erne.s3.send(new GetBucketReplicationCommand(B))],
  ['DeleteBucketReplication', () => erne.s3.send(new DeleteBucketReplicationCommand(B))],
  ['PutBucketNotificationConfiguration', () => erne.s3.send(new PutBucketNotificationConfigurationCommand({ ...B, NotificationConfiguration: {} }))],
  ['GetBucketNotificationConfiguration', () => erne.s3.send(new GetBucketNotificationConfigurationCommand(B))],
  ['PutObjectLockConfiguration', () => erne.s3.send(new PutObjectLockConfigurationCommand({ ...B, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled' } }))],
  ['GetObjectLockConfiguration', () => erne.s3.send(new GetObjectLockConfigurationCommand(B))],
  ['PutObjectRetention', () => erne.s3.send(new PutObjectRetentionCommand({ ...O, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date(Date.now() + 86_400_000) } }))],
  ['GetObjectRetention', () => erne.s3.send(new GetObjectRetentionCommand(O))],
  ['PutObjectLegalHold', () => erne.s3.send(new PutObjectLegalHoldCommand({ ...O, LegalHold: { Status: 'ON' } }))],
  ['GetObjectLegalHold', () => erne.s3.send(new GetObjectLegalHoldCommand(O))],
  [
    'PutBucketEncryption',
    () => erne.s3.send(new PutBucketEncryptionCommand({ ...B, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } })),
  ],
  ['GetBucketEncryption', () => erne.s3.send(new GetBucketEncryptionCommand(B))],
  ['DeleteBucketEncryption', () => erne.s3.send(new DeleteBucketEncryptionCommand(B))],
  ['PutObject with SSE-C', () => erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'sse-c.txt', Body: 'secret', ...sseC }))],
  ['GetObject with SSE-C', () => erne.s3.send(new GetObjectCommand({ ...O, ...sseC }))],
  ['HeadObject with SSE-C', () => erne.s3.send(new HeadObjectCommand({ ...O, ...sseC }))],
  [
    'SelectObjectContent',
    () =>
      erne.s3.send(
        new SelectObjectContentCommand({ ...O, Expression: 'SELECT * FROM S3Object', ExpressionType: 'SQL', InputSerialization: { CSV: {} }, OutputSerialization: { CSV: {} } }),
      ),
  ],
  ['RestoreObject', () => erne.s3.send(new RestoreObjectCommand({ ...O, RestoreRequest: { Days: 1 } }))],
  ['PutBucketLogging', () => erne.s3.send(new PutBucketLoggingCommand({ ...B, BucketLoggingStatus: {} }))],
  ['GetBucketLogging', () => erne.s3.send(new GetBucketLoggingCommand(B))],
  ['PutBucketAccelerateConfiguration', () => erne.s3.send(new PutBucketAccelerateConfigurationCommand({ ...B, AccelerateConfiguration: { Status: 'Enabled' } }))],
  ['GetBucketAccelerateConfiguration', () => erne.s3.send(new GetBucketAccelerateConfigurationCommand(B))],
  ['PutBucketRequestPayment', () => erne.s3.send(new PutBucketRequestPaymentCommand({ ...B, RequestPaymentConfiguration: { Payer: 'Requester' } }))],
  ['GetBucketRequestPayment', () => erne.s3.send(new GetBucketRequestPaymentCommand(B))],
  ['PutBucketAnalyticsConfiguration', () => erne.s3.send(new PutBucketAnalyticsConfigurationCommand({ ...B, Id: 'a1', AnalyticsConfiguration: { Id: 'a1', StorageClassAnalysis: {} } }))],
  ['GetBucketAnalyticsConfiguration', () => erne.s3.send(new GetBucketAnalyticsConfigurationCommand({ ...B, Id: 'a1' }))],
  ['DeleteBucketAnalyticsConfiguration', () => erne.s3.send(new DeleteBucketAnalyticsConfigurationCommand({ ...B, Id: 'a1' }))],
  ['ListBucketAnalyticsConfigurations', () => erne.s3.send(new ListBucketAnalyticsConfigurationsCommand(B))],
  [
    'PutBucketInventoryConfiguration',
    () =>
      erne.s3.send(
        new PutBucketInventoryConfigurationCommand({
          ...B,
          Id: 'i1',
          InventoryConfiguration: {
            Id: 'i1',
            IsEnabled: true,
            IncludedObjectVersions: 'All',
            Schedule: { Frequency: 'Daily' },
            Destination: { S3BucketDestination: { Bucket: 'arn:aws:s3:::elsewhere', Format: 'CSV' } },
          },
        }),
      ),
  ],
  ['GetBucketInventoryConfiguration', () => erne.s3.send(new GetBucketInventoryConfigurationCommand({ ...B, Id: 'i1' }))],
  ['DeleteBucketInventoryConfiguration', () => erne.s3.send(new DeleteBucketInventoryConfigurationCommand({ ...B, Id: 'i1' }))],
  ['ListBucketInventoryConfigurations', () => erne.s3.send(new ListBucketInventoryConfigurationsCommand(B))],
  ['PutBucketMetricsConfiguration', () => erne.s3.send(new PutBucketMetricsConfigurationCommand({ ...B, Id: 'm1', MetricsConfiguration: { Id: 'm1' } }))],
  ['GetBucketMetricsConfiguration', () => erne.s3.send(new GetBucketMetricsConfigurationCommand({ ...B, Id: 'm1' }))],
  ['DeleteBucketMetricsConfiguration', () => erne.s3.send(new DeleteBucketMetricsConfigurationCommand({ ...B, Id: 'm1' }))],
  ['ListBucketMetricsConfigurations', () => erne.s3.send(new ListBucketMetricsConfigurationsCommand(B))],
  [
    'PutBucketIntelligentTieringConfiguration',
    () =>
      erne.s3.send(
        new PutBucketIntelligentTieringConfigurationCommand({
          ...B,
          Id: 't1',
          IntelligentTieringConfiguration: { Id: 't1', Status: 'Enabled', Tierings: [{ Days: 90, AccessTier: 'ARCHIVE_ACCESS' }] },
        }),
      ),
  ],
  ['GetBucketIntelligentTieringConfiguration', () => erne.s3.send(new GetBucketIntelligentTieringConfigurationCommand({ ...B, Id: 't1' }))],
  ['DeleteBucketIntelligentTieringConfiguration', () => erne.s3.send(new DeleteBucketIntelligentTieringConfigurationCommand({ ...B, Id: 't1' }))],
  ['ListBucketIntelligentTieringConfigurations', () => erne.s3.send(new ListBucketIntelligentTieringConfigurationsCommand(B))],
  ['PutBucketOwnershipControls', () => erne.s3.send(new PutBucketOwnershipControlsCommand({ ...B, OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } }))],
  ['GetBucketOwnershipControls', () => erne.s3.send(new GetBucketOwnershipControlsCommand(B))],
  ['DeleteBucketOwnershipControls', () => erne.s3.send(new DeleteBucketOwnershipControlsCommand(B))],
  ['GetObjectTorrent', () => erne.s3.send(new GetObjectTorrentCommand(O))],
];

// [operation, method, path, query] for what the SDK has no command for (or would not send here)
const RAW_CASES: [string, string, string, string][] = [
  ['GetBucketMetadataTableConfiguration', 'GET', `/${bucket}`, 'metadataTable='],
  ['CreateBucketMetadataTableConfiguration', 'POST', `/${bucket}`, 'metadataTable='],
  ['DeleteBucketMetadataTableConfiguration', 'DELETE', `/${bucket}`, 'metadataTable='],
  ['RenameObject', 'PUT', `/${bucket}/renamed.txt`, 'renameObject='],
  ['CreateSession', 'GET', `/${bucket}`, 'session='],
];

/** nothing changed: the object is there with its bytes, no other key and no other version */
async function expectUnchanged(): Promise<void> {
  const v = await erne.s3.send(new ListObjectVersionsCommand(B));
  expect((v.Versions ?? []).map((x) => x.Key)).toEqual([KEY]);
  expect(v.DeleteMarkers ?? []).toEqual([]);
  const got = await erne.s3.send(new GetObjectCommand(O));
  expect((await bodyBytes(got.Body)).toString()).toBe(BODY);
}

describe('S3 operations Erne does not offer answer 501 NotImplemented', () => {
  it.each(SDK_CASES)('%s (@aws-sdk/client-s3)', async (name, send) => {
    last = undefined;
    const err = await send().then(
      () => undefined,
      (e: { name?: string; $metadata?: { httpStatusCode?: number } }) => e,
    );
    const raw = lastRaw();
    expect(err, `${name} succeeded: ${raw?.status} ${raw?.body.slice(0, 300)}`).toBeDefined();
    expect(err!.$metadata?.httpStatusCode).toBe(501);
    // a HEAD answer has no body (the SDK can only name it "Unknown"); every other one is an S3 XML error document
    if (!name.startsWith('HeadObject')) {
      expect(err!.name).toBe('NotImplemented');
      expect(raw?.contentType).toMatch(/xml/);
      expect(parseError(raw?.body ?? '').Code).toBe('NotImplemented');
    }
    await expectUnchanged();
  });

  it.each(RAW_CASES)('%s (raw signed %s %s?%s)', async (_name, method, path, query) => {
    const r = await rawRequest(erne.gw, { method, path, query, body: method === 'GET' || method === 'DELETE' ? undefined : '' });
    expect({ status: r.status, body: r.text.slice(0, 300) }).toMatchObject({ status: 501 });
    expect(r.headers['content-type']).toMatch(/xml/);
    expect(parseError(r.text).Code).toBe('NotImplemented');
    await expectUnchanged();
  });
});
