import { describe, expect, it } from 'vitest';
import { conditionsHold, parseCondition } from '../../../gateway/policy/conditions.js';
import { plainIp, requestContext } from '../../../gateway/policy/context.js';

const ctx = (entries: Record<string, string>) => new Map(Object.entries(entries).map(([k, v]) => [k.toLowerCase(), [v]]));
const holds = (block: Record<string, unknown>, c: Record<string, string>) => conditionsHold(parseCondition(block), ctx(c));

describe('condition operators', () => {
  it.each([
    // aws:SourceIp, v4 and v6, single addresses and ranges
    [{ IpAddress: { 'aws:SourceIp': '127.0.0.1/32' } }, { 'aws:SourceIp': '127.0.0.1' }, true],
    [{ IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }, { 'aws:SourceIp': '127.0.0.1' }, false],
    [{ IpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '127.0.0.0/8'] } }, { 'aws:SourceIp': '127.9.9.9' }, true],
    [{ IpAddress: { 'aws:SourceIp': '127.0.0.1' } }, { 'aws:SourceIp': '127.0.0.1' }, true],
    [{ NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }, { 'aws:SourceIp': '127.0.0.1' }, true],
    [{ NotIpAddress: { 'aws:SourceIp': '127.0.0.0/8' } }, { 'aws:SourceIp': '127.0.0.1' }, false],
    [{ IpAddress: { 'aws:SourceIp': '2001:db8::/32' } }, { 'aws:SourceIp': '2001:db8:1::5' }, true],
    [{ IpAddress: { 'aws:SourceIp': '2001:db8::/32' } }, { 'aws:SourceIp': '2001:db9::5' }, false],
    [{ IpAddress: { 'aws:SourceIp': '::1/128' } }, { 'aws:SourceIp': '::1' }, true],
    [{ IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }, { 'aws:SourceIp': '::1' }, false],
    // keys are case-insensitive, values case-sensitive
    [{ StringEquals: { 'S3:PREFIX': 'docs/' } }, { 's3:prefix': 'docs/' }, true],
    [{ StringEquals: { 's3:prefix': 'docs/' } }, { 's3:prefix': 'Docs/' }, false],
    [{ StringEqualsIgnoreCase: { 's3:prefix': 'docs/' } }, { 's3:prefix': 'Docs/' }, true],
    [{ StringNotEquals: { 's3:prefix': ['a/', 'b/'] } }, { 's3:prefix': 'c/' }, true],
    [{ StringNotEquals: { 's3:prefix': ['a/', 'b/'] } }, { 's3:prefix': 'b/' }, false],
    [{ StringLike: { 's3:prefix': 'home/*' } }, { 's3:prefix': 'home/alice/' }, true],
    [{ StringLike: { 's3:prefix': 'home/*' } }, { 's3:prefix': 'work/' }, false],
    [{ StringNotLike: { 's3:prefix': 'home/*' } }, { 's3:prefix': 'work/' }, true],
    [{ Bool: { 'aws:SecureTransport': 'false' } }, { 'aws:SecureTransport': 'false' }, true],
    [{ Bool: { 'aws:SecureTransport': false } }, { 'aws:SecureTransport': 'true' }, false],
    [{ Bool: { 'aws:SecureTransport': 'TRUE' } }, { 'aws:SecureTransport': 'true' }, true],
    [{ NumericLessThanEquals: { 's3:max-keys': 10 } }, { 's3:max-keys': '10' }, true],
    [{ NumericLessThan: { 's3:max-keys': 10 } }, { 's3:max-keys': '10' }, false],
    [{ NumericGreaterThan: { 's3:max-keys': 10 } }, { 's3:max-keys': 'many' }, false],
    [{ NumericNotEquals: { 's3:max-keys': 10 } }, { 's3:max-keys': '11' }, true],
    [{ DateLessThan: { 'aws:CurrentTime': '2030-01-01T00:00:00Z' } }, { 'aws:CurrentTime': '2029-12-31T23:59:59Z' }, true],
    [{ DateGreaterThanEquals: { 'aws:EpochTime': '1700000000' } }, { 'aws:EpochTime': '1700000000' }, true],
    [{ ArnLike: { 'aws:SourceArn': 'arn:aws:s3:::x*' } }, { 'aws:SourceArn': 'arn:aws:s3:::xyz' }, true],
    // several operators and keys: all must hold
    [{ StringLike: { 's3:prefix': 'a*' }, IpAddress: { 'aws:SourceIp': '127.0.0.1' } }, { 's3:prefix': 'ab', 'aws:SourceIp': '10.1.1.1' }, false],
    [{ StringLike: { 's3:prefix': 'a*' }, IpAddress: { 'aws:SourceIp': '127.0.0.1' } }, { 's3:prefix': 'ab', 'aws:SourceIp': '127.0.0.1' }, true],
  ])('%j with %j → %s', (block, c, want) => {
    expect(holds(block, c)).toBe(want);
  });

  it.each([
    // IAM: a key the request lacks fails positive operators and satisfies negated ones
    [{ StringEquals: { 's3:prefix': 'a/' } }, false],
    [{ StringNotEquals: { 's3:prefix': 'a/' } }, true],
    [{ IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } }, false],
    [{ NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }, true],
    [{ StringEqualsIfExists: { 's3:prefix': 'a/' } }, true],
    [{ 'ForAllValues:StringEquals': { 's3:prefix': 'a/' } }, true],
    [{ 'ForAnyValue:StringEquals': { 's3:prefix': 'a/' } }, false],
    [{ Null: { 's3:prefix': 'true' } }, true],
    [{ Null: { 's3:prefix': 'false' } }, false],
  ])('absent key: %j → %s', (block, want) => {
    expect(holds(block, {})).toBe(want);
  });

  it('Null with the key present', () => {
    expect(holds({ Null: { 's3:prefix': 'false' } }, { 's3:prefix': '' })).toBe(true);
    expect(holds({ Null: { 's3:prefix': 'true' } }, { 's3:prefix': 'x' })).toBe(false);
  });
});

describe('request context', () => {
  const base = { query: new URLSearchParams('prefix=docs/&max-keys=5'), headers: { 'user-agent': 'curl/8', 'x-amz-acl': 'public-read' }, secure: false, signed: true, presigned: false, now: Date.UTC(2030, 0, 1) };

  it('carries the keys a listing is judged by', () => {
    const c = requestContext({ ...base, op: 'ListObjectsV2', sourceIp: '::ffff:127.0.0.1' });
    expect(Object.fromEntries([...c].map(([k, v]) => [k, v[0]]))).toMatchObject({
      'aws:sourceip': '127.0.0.1',
      'aws:securetransport': 'false',
      'aws:currenttime': '2030-01-01T00:00:00.000Z',
      'aws:epochtime': String(Date.UTC(2030, 0, 1) / 1000),
      'aws:useragent': 'curl/8',
      'aws:principaltype': 'User',
      's3:authtype': 'REST-HEADER',
      's3:prefix': 'docs/',
      's3:max-keys': '5',
      's3:x-amz-acl': 'public-read',
    });
  });

  it('has no s3:prefix outside listings, and no signature keys when anonymous', () => {
    const c = requestContext({ ...base, op: 'GetObject', signed: false, secure: true });
    expect(c.has('s3:prefix')).toBe(false);
    expect(c.has('s3:authtype')).toBe(false);
    expect(c.get('aws:securetransport')).toEqual(['true']);
    expect(c.get('aws:principaltype')).toEqual(['Anonymous']);
  });

  it('shows IPv4 clients of a dual-stack socket by their IPv4 address', () => {
    expect(plainIp('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(plainIp('::1')).toBe('::1');
    expect(plainIp('2001:db8::1')).toBe('2001:db8::1');
  });
});
