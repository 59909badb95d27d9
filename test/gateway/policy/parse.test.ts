import { describe, expect, it } from 'vitest';
import { namedKeys, parsePolicy } from '../../../gateway/policy/parse.js';
import { PolicyError } from '../../../gateway/policy/types.js';

const B = 'photos';
const stmt = (over: Record<string, unknown> = {}) => ({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${B}/*`, ...over });
const doc = (...statements: unknown[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });

function refusal(text: string): string {
  try {
    parsePolicy(text, B);
  } catch (e) {
    expect(e).toBeInstanceOf(PolicyError);
    return (e as Error).message;
  }
  throw new Error('expected the policy to be refused');
}

describe('parsePolicy accepts the policies people write', () => {
  it.each([
    ['public read of a prefix', doc(stmt({ Resource: `arn:aws:s3:::${B}/public/*` }))],
    ['a single statement object', JSON.stringify({ Statement: stmt() })],
    ['the 2008 version', JSON.stringify({ Version: '2008-10-17', Statement: [stmt()] })],
    ['AWS * principal', doc(stmt({ Principal: { AWS: '*' } }))],
    ['AWS principal list', doc(stmt({ Principal: { AWS: ['*'] } }))],
    ['a key ARN', doc(stmt({ Principal: { AWS: 'arn:aws:iam::123456789012:user/EKALICE' } }))],
    ['a key ARN with a path', doc(stmt({ Principal: { AWS: 'arn:aws:iam::123456789012:user/team/EKALICE' } }))],
    ['a bare key id', doc(stmt({ Principal: { AWS: 'EKALICE' } }))],
    ['a canonical user', doc(stmt({ Principal: { CanonicalUser: 'EKALICE' } }))],
    ['a service principal', doc(stmt({ Principal: { Service: 'cloudfront.amazonaws.com' } }))],
    ['NotPrincipal', doc(stmt({ Effect: 'Deny', Principal: undefined, NotPrincipal: { AWS: 'EKALICE' } }))],
    ['s3:* on bucket and objects', doc(stmt({ Action: 's3:*', Resource: [`arn:aws:s3:::${B}`, `arn:aws:s3:::${B}/*`] }))],
    ['ListBucket with s3:prefix', doc(stmt({ Action: 's3:ListBucket', Resource: `arn:aws:s3:::${B}`, Condition: { StringLike: { 's3:prefix': ['public/*', ''] } } }))],
    ['NotAction', doc(stmt({ Action: undefined, NotAction: 's3:DeleteObject' }))],
    ['NotResource', doc(stmt({ Effect: 'Deny', Resource: undefined, NotResource: `arn:aws:s3:::${B}/public/*` }))],
    ['Resource *', doc(stmt({ Resource: '*' }))],
    ['a bucket wildcard', doc(stmt({ Resource: 'arn:aws:s3:::pho*/*' }))],
    ['SourceIp v4 and v6', doc(stmt({ Condition: { IpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '2001:db8::/32', '127.0.0.1'] } } }))],
    ['SecureTransport', doc(stmt({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': false } } }))],
    ['IfExists and qualifiers', doc(stmt({ Condition: { StringEqualsIfExists: { 'aws:Referer': 'x' }, 'ForAnyValue:StringLike': { 'aws:UserAgent': 'curl*' } } }))],
    ['numeric and date', doc(stmt({ Condition: { NumericLessThanEquals: { 's3:max-keys': '10' }, DateLessThan: { 'aws:CurrentTime': '2099-01-01T00:00:00Z' } } }))],
    ['Null', doc(stmt({ Condition: { Null: { 'aws:SourceIp': 'false' } } }))],
  ])('%s', (_n, text) => {
    expect(parsePolicy(text, B).statements.length).toBeGreaterThan(0);
  });

  it('reads principals as Erne keys', () => {
    const p = parsePolicy(doc(stmt({ Principal: { AWS: ['arn:aws:iam::000000000000:user/EKALICE', 'EKBOB', '*'], CanonicalUser: 'EKCAROL' } })), B);
    expect([...namedKeys(p)].sort()).toEqual(['EKALICE', 'EKBOB', 'EKCAROL']);
    expect(p.statements[0]!.principal.any).toBe(true);
  });
});

describe('parsePolicy refuses invalid policies (MalformedPolicy)', () => {
  it.each([
    ['not JSON', '{"Statement": [', /valid JSON/],
    ['a JSON array', '[]', /valid JSON/],
    ['no Statement', JSON.stringify({ Version: '2012-10-17' }), /Missing required field Statement/],
    ['an empty Statement list', doc(), /Statement is empty/],
    ['an unknown top-level field', JSON.stringify({ Statement: [stmt()], Foo: 1 }), /Unknown field Foo/],
    ['a wrong version', JSON.stringify({ Version: '2020-01-01', Statement: [stmt()] }), /Invalid policy version/],
    ['no Effect', doc(stmt({ Effect: undefined })), /Missing required field Effect/],
    ['a lower-case effect', doc(stmt({ Effect: 'allow' })), /Invalid effect: allow/],
    ['no Principal', doc(stmt({ Principal: undefined })), /Missing required field Principal/],
    ['both Principal and NotPrincipal', doc(stmt({ NotPrincipal: '*' })), /both Principal and NotPrincipal/],
    ['a role ARN', doc(stmt({ Principal: { AWS: 'arn:aws:iam::123456789012:role/r' } })), /Invalid principal/],
    ['an unknown principal type', doc(stmt({ Principal: { Users: 'x' } })), /unknown principal type/],
    ['a principal string other than *', doc(stmt({ Principal: 'EKALICE' })), /Invalid principal/],
    ['no Action', doc(stmt({ Action: undefined })), /Missing required field Action/],
    ['an unknown action', doc(stmt({ Action: 's3:GetObjects' })), /invalid action: s3:GetObjects/],
    ['a non-S3 action', doc(stmt({ Action: 'iam:*' })), /invalid action/],
    ['an empty action list', doc(stmt({ Action: [] })), /non-empty list/],
    ['no Resource', doc(stmt({ Resource: undefined })), /Missing required field Resource/],
    ['another bucket', doc(stmt({ Resource: 'arn:aws:s3:::other/*' })), /invalid resource/],
    ['a non-S3 ARN', doc(stmt({ Resource: 'arn:aws:sqs:::photos' })), /invalid resource/],
    ['an object action on the bucket', doc(stmt({ Resource: `arn:aws:s3:::${B}` })), /does not apply to any resource/],
    ['a bucket action on objects', doc(stmt({ Action: 's3:ListBucket' })), /does not apply to any resource/],
    ['an unknown operator', doc(stmt({ Condition: { StringSortOf: { 'aws:Referer': 'x' } } })), /Invalid Condition type : StringSortOf/],
    ['a bad CIDR', doc(stmt({ Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/33' } } })), /Invalid IP address/],
    ['a bad IP', doc(stmt({ Condition: { IpAddress: { 'aws:SourceIp': '300.1.1.1' } } })), /Invalid IP address/],
    ['a bad boolean', doc(stmt({ Condition: { Bool: { 'aws:SecureTransport': 'yes' } } })), /Invalid boolean/],
    ['a bad number', doc(stmt({ Condition: { NumericEquals: { 's3:max-keys': 'ten' } } })), /Invalid numeric/],
    ['a bad date', doc(stmt({ Condition: { DateLessThan: { 'aws:CurrentTime': 'tomorrow' } } })), /Invalid date/],
    ['a key of another service', doc(stmt({ Condition: { StringEquals: { 'ec2:Region': 'x' } } })), /invalid condition key/],
    ['an object value', doc(stmt({ Condition: { StringEquals: { 'aws:Referer': { a: 1 } } } })), /Invalid value/],
    ['an unknown statement field', doc(stmt({ Actions: 's3:GetObject' })), /Unknown field Actions/],
    ['duplicate Sids', doc(stmt({ Sid: 'a' }), stmt({ Sid: 'a' })), /must be unique/],
    ['over 20 KB', doc(...Array.from({ length: 200 }, (_, i) => stmt({ Sid: `s${i}`, Resource: `arn:aws:s3:::${B}/${'x'.repeat(60)}/*` }))), /maximum allowed document size/],
  ])('%s', (_n, text, message) => {
    expect(refusal(text)).toMatch(message);
  });

  it('counts the size without whitespace', () => {
    const spaced = JSON.stringify({ Statement: Array.from({ length: 80 }, (_, i) => stmt({ Sid: `s${i}` })) }, null, 10);
    expect(spaced.length).toBeGreaterThan(20 * 1024);
    expect(parsePolicy(spaced, B).statements).toHaveLength(80);
  });
});
