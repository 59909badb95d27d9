import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluate, isPublicPolicy, resourceArn } from '../../../gateway/policy/evaluate.js';
import { parsePolicy } from '../../../gateway/policy/parse.js';
import type { PolicyRequest } from '../../../gateway/policy/types.js';

const B = 'photos';
const policy = (...statements: Record<string, unknown>[]) => parsePolicy(JSON.stringify({ Version: '2012-10-17', Statement: statements }), B);
const req = (over: Partial<PolicyRequest> = {}): PolicyRequest => ({
  accessKeyId: null,
  action: 's3:GetObject',
  resource: resourceArn(B, 'public/cat.jpg'),
  context: new Map([['aws:sourceip', ['127.0.0.1']]]),
  ...over,
});
const allow = (over: Record<string, unknown> = {}) => ({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${B}/public/*`, ...over });
const deny = (over: Record<string, unknown> = {}) => ({ ...allow(over), Effect: 'Deny', ...over });

describe('evaluate', () => {
  it.each([
    ['Allow on the prefix, anonymous', [allow()], req(), 'Allow'],
    ['Allow on the prefix, outside it', [allow()], req({ resource: resourceArn(B, 'private/x') }), 'None'],
    ['another action', [allow()], req({ action: 's3:PutObject' }), 'None'],
    ['s3:* covers it', [allow({ Action: 's3:*' })], req({ action: 's3:DeleteObject' }), 'Allow'],
    ['s3:Get* covers GetObjectVersion', [allow({ Action: 's3:Get*' })], req({ action: 's3:GetObjectVersion' }), 'Allow'],
    ['actions match case-insensitively', [allow({ Action: 'S3:GETOBJECT' })], req(), 'Allow'],
    ['resources match case-sensitively', [allow({ Resource: `arn:aws:s3:::${B}/PUBLIC/*` })], req(), 'None'],
    ['? matches one character', [allow({ Resource: `arn:aws:s3:::${B}/public/ca?.jpg` })], req(), 'Allow'],
    ['a key principal, anonymous caller', [allow({ Principal: { AWS: 'EKALICE' } })], req(), 'None'],
    ['a key principal, that key', [allow({ Principal: { AWS: 'arn:aws:iam::1:user/EKALICE' } })], req({ accessKeyId: 'EKALICE' }), 'Allow'],
    ['a key principal, another key', [allow({ Principal: { AWS: 'EKALICE' } })], req({ accessKeyId: 'EKBOB' }), 'None'],
    ['a service principal names nobody', [allow({ Principal: { Service: 'cloudfront.amazonaws.com' } })], req({ accessKeyId: 'EKBOB' }), 'None'],
    ['Deny wins over Allow', [allow(), deny({ Principal: { AWS: 'EKALICE' } })], req({ accessKeyId: 'EKALICE' }), 'Deny'],
    ['a Deny for someone else', [allow(), deny({ Principal: { AWS: 'EKALICE' } })], req({ accessKeyId: 'EKBOB' }), 'Allow'],
    ['NotPrincipal Deny spares the named key', [deny({ Principal: undefined, NotPrincipal: { AWS: 'EKALICE' } })], req({ accessKeyId: 'EKALICE' }), 'None'],
    ['NotPrincipal Deny hits the others', [deny({ Principal: undefined, NotPrincipal: { AWS: 'EKALICE' } })], req({ accessKeyId: 'EKBOB' }), 'Deny'],
    ['NotAction', [deny({ Action: undefined, NotAction: 's3:GetObject' })], req({ action: 's3:PutObject' }), 'Deny'],
    ['NotAction spares its action', [deny({ Action: undefined, NotAction: 's3:GetObject' })], req(), 'None'],
    ['NotResource', [deny({ Resource: undefined, NotResource: `arn:aws:s3:::${B}/public/*` })], req({ resource: resourceArn(B, 'secret') }), 'Deny'],
    ['SourceIp in range', [allow({ Condition: { IpAddress: { 'aws:SourceIp': '127.0.0.1/32' } } })], req(), 'Allow'],
    ['SourceIp out of range', [allow({ Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } })], req(), 'None'],
    ['ListBucket on the bucket ARN', [allow({ Action: 's3:ListBucket', Resource: `arn:aws:s3:::${B}` })], req({ action: 's3:ListBucket', resource: resourceArn(B) }), 'Allow'],
  ] as const)('%s', (_n, statements, r, want) => {
    expect(evaluate(policy(...statements), r)).toBe(want);
  });

  // a Deny that applies to the request (everyone, the request's action, everything) …
  const applyingDeny = fc.constantFrom<Record<string, unknown>>(
    { Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: '*' },
    { Effect: 'Deny', Principal: { AWS: '*' }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${B}/*` },
    { Effect: 'Deny', Principal: '*', NotAction: 's3:PutObject', Resource: `arn:aws:s3:::${B}/public/cat.jpg` },
    { Effect: 'Deny', Principal: '*', Action: 's3:Get*', Resource: '*', Condition: { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } },
  );
  // … and anything else a policy may say
  const anyStatement = fc.record({
    Effect: fc.constantFrom('Allow', 'Deny'),
    Principal: fc.constantFrom<unknown>('*', { AWS: 'EKALICE' }, { AWS: ['EKBOB', '*'] }),
    Action: fc.constantFrom<unknown>('s3:*', 's3:GetObject', ['s3:PutObject', 's3:GetObject'], 's3:List*'),
    Resource: fc.constantFrom<unknown>('*', `arn:aws:s3:::${B}/*`, `arn:aws:s3:::${B}/public/*`, [`arn:aws:s3:::${B}`, `arn:aws:s3:::${B}/*`]),
    Condition: fc.constantFrom<unknown>(undefined, { IpAddress: { 'aws:SourceIp': '127.0.0.0/8' } }, { Bool: { 'aws:SecureTransport': 'true' } }),
  });

  it('an explicit Deny that applies always wins, whatever the other statements say', () => {
    fc.assert(
      fc.property(fc.array(anyStatement, { maxLength: 6 }), applyingDeny, fc.nat(7), fc.constantFrom(null, 'EKALICE', 'EKBOB'), (others, d, at, who) => {
        const statements: Record<string, unknown>[] = [...others];
        statements.splice(at % (others.length + 1), 0, d);
        expect(evaluate(policy(...statements), req({ accessKeyId: who }))).toBe('Deny');
      }),
    );
  });

  it('without a Deny, adding statements never takes an Allow away', () => {
    const allowOnly = anyStatement.map((s) => ({ ...s, Effect: 'Allow' }));
    fc.assert(
      fc.property(fc.array(allowOnly, { minLength: 1, maxLength: 5 }), allowOnly, (base, extra) => {
        const r = req({ accessKeyId: 'EKALICE' });
        if (evaluate(policy(...base), r) === 'Allow') expect(evaluate(policy(...base, extra), r)).toBe('Allow');
      }),
    );
  });
});

describe('isPublicPolicy', () => {
  it.each([
    ['Allow to *', [allow()], true],
    ['Allow to AWS *', [allow({ Principal: { AWS: '*' } })], true],
    ['Allow to a key', [allow({ Principal: { AWS: 'EKALICE' } })], false],
    ['Deny to *', [deny()], false],
    ['Allow to * from one network', [allow({ Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } })], false],
    ['Allow to * from every address', [allow({ Condition: { IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } } })], true],
    ['Allow to * outside a network', [allow({ Condition: { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } })], true],
    ['Allow to * over TLS only', [allow({ Condition: { Bool: { 'aws:SecureTransport': 'true' } } })], true],
    ['Allow to * for one prefix', [allow({ Action: 's3:ListBucket', Resource: `arn:aws:s3:::${B}`, Condition: { StringEquals: { 's3:prefix': 'a/' } } })], true],
    ['Allow to * from a fixed VPC endpoint', [allow({ Condition: { StringEquals: { 'aws:SourceVpce': 'vpce-1' } } })], false],
    ['Allow to * from a wildcard account', [allow({ Condition: { StringLike: { 'aws:SourceAccount': '12*' } } })], true],
    ['Allow to everyone but a key', [allow({ Principal: undefined, NotPrincipal: { AWS: 'EKALICE' } })], true],
    ['a key Allow beside a public one', [allow({ Principal: { AWS: 'EKALICE' } }), allow()], true],
  ] as const)('%s → %s', (_n, statements, want) => {
    expect(isPublicPolicy(policy(...statements))).toBe(want);
  });
});
