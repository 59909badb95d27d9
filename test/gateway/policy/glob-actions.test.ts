import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { actionKinds, isValidActionPattern, operationAction } from '../../../gateway/policy/actions.js';
import { globMatch } from '../../../gateway/policy/glob.js';

describe('globMatch', () => {
  it.each([
    ['*', '', true],
    ['*', 'a/b/c', true],
    ['a*', 'abc', true],
    ['a*c', 'abbbc', true],
    ['a*c', 'abbb', false],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['public/*', 'public/x/y.txt', true],
    ['public/*', 'private/x', false],
    ['*.jpg', 'a/b.jpg', true],
    ['*.jpg', 'a/b.jpeg', false],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'aXcYb', false],
    ['abc', 'ABC', false],
    ['', '', true],
    ['', 'a', false],
  ])('%s ~ %s → %s', (p, t, want) => {
    expect(globMatch(p, t)).toBe(want);
  });

  it('matches case-insensitively when asked (action names)', () => {
    expect(globMatch('s3:get*', 'S3:GetObject', true)).toBe(true);
  });

  it('agrees with a regular expression built from the pattern', () => {
    const chars = fc.constantFrom('a', 'b', '/', '*', '?');
    fc.assert(
      fc.property(fc.string({ unit: chars, maxLength: 8 }), fc.string({ unit: fc.constantFrom('a', 'b', '/'), maxLength: 10 }), (p, t) => {
        const re = new RegExp('^' + [...p].map((c) => (c === '*' ? '[^]*' : c === '?' ? '[^]' : c.replace(/[/]/g, '\\/'))).join('') + '$');
        expect(globMatch(p, t)).toBe(re.test(t));
      }),
    );
  });

  it('stays fast on a hostile pattern', () => {
    const t0 = performance.now();
    expect(globMatch('*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(2000))).toBe(false);
    expect(performance.now() - t0).toBeLessThan(500);
  });
});

describe('actions', () => {
  it.each([
    ['s3:GetObject', true],
    ['s3:getobject', true],
    ['s3:*', true],
    ['*', true],
    ['s3:Get*', true],
    ['s3:GetObjects', false],
    ['s3:', false],
    ['iam:PassRole', false],
    ['GetObject', false],
    ['s3:Get Object', false],
  ])('%s is a valid action pattern: %s', (a, ok) => {
    expect(isValidActionPattern(a)).toBe(ok);
  });

  it.each([
    ['s3:GetObject', ['object']],
    ['s3:ListBucket', ['bucket']],
    ['s3:*', ['bucket', 'object']],
    ['s3:List*', ['bucket', 'object']], // ListMultipartUploadParts is an object action
    ['s3:PutBucket*', ['bucket']],
  ])('%s applies to %j', (a, kinds) => {
    expect([...actionKinds(a)].sort()).toEqual(kinds);
  });

  it.each([
    ['GetObject', false, 's3:GetObject', 'object'],
    ['GetObject', true, 's3:GetObjectVersion', 'object'],
    ['HeadObject', false, 's3:GetObject', 'object'],
    ['ListObjectsV2', false, 's3:ListBucket', 'bucket'],
    ['HeadBucket', false, 's3:ListBucket', 'bucket'],
    ['DeleteObject', true, 's3:DeleteObjectVersion', 'object'],
    ['CompleteMultipartUpload', false, 's3:PutObject', 'object'],
    ['DeleteBucketCors', false, 's3:PutBucketCORS', 'bucket'],
    ['DeletePublicAccessBlock', false, 's3:PutBucketPublicAccessBlock', 'bucket'],
    ['GetBucketLocation', true, 's3:GetBucketLocation', 'bucket'],
  ])('%s (versioned %s) needs %s on a %s', (op, versioned, action, kind) => {
    expect(operationAction(op, versioned)).toEqual({ action, kind });
  });

  it('names no action for operations a bucket policy does not govern', () => {
    expect(operationAction('ListBuckets', false)).toBeUndefined();
    expect(operationAction('constructor', false)).toBeUndefined();
  });
});
