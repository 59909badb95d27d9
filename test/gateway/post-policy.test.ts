/** POST policy parsing and checking, table-driven, with AWS's documented condition forms. */
import { describe, expect, it } from 'vitest';
import { checkPolicy, parsePolicy } from '../../gateway/post-policy.js';

const b64 = (doc: unknown) => Buffer.from(JSON.stringify(doc)).toString('base64');
const NOW = Date.parse('2025-06-01T12:00:00Z');
const policy = (conditions: unknown[], expiration = '2025-06-01T13:00:00.000Z') => parsePolicy(b64({ expiration, conditions }));
const fields = (o: Record<string, string>) => new Map(Object.entries(o));

describe('parsePolicy', () => {
  it('reads the three condition forms, field names lower-case without $', () => {
    const p = policy([{ bucket: 'b' }, ['eq', '$Key', 'k'], ['starts-with', '$Content-Type', 'image/'], ['content-length-range', 1, 10]]);
    expect(p.expiration).toBe(Date.parse('2025-06-01T13:00:00Z'));
    expect(p.conditions).toEqual([
      { op: 'eq', field: 'bucket', value: 'b' },
      { op: 'eq', field: 'key', value: 'k' },
      { op: 'starts-with', field: 'content-type', value: 'image/' },
      { op: 'content-length-range', min: 1, max: 10 },
    ]);
  });

  it.each([
    ['not base64 JSON', '!!!'],
    ['no expiration', b64({ conditions: [] })],
    ['no conditions', b64({ expiration: '2025-06-01T13:00:00Z' })],
    ['an unknown operator', b64({ expiration: '2025-06-01T13:00:00Z', conditions: [['ends-with', '$key', 'x']] })],
    ['a reversed range', b64({ expiration: '2025-06-01T13:00:00Z', conditions: [['content-length-range', 10, 1]] })],
    ['a two-key object', b64({ expiration: '2025-06-01T13:00:00Z', conditions: [{ a: '1', b: '2' }] })],
  ])('refuses %s with InvalidPolicyDocument', (_n, text) => {
    expect(() => parsePolicy(text)).toThrow(expect.objectContaining({ code: 'InvalidPolicyDocument' }));
  });
});

describe('checkPolicy', () => {
  const base = [{ bucket: 'b' }, ['starts-with', '$key', 'u/'], { 'x-amz-date': 'd' }];
  it.each([
    ['all conditions met', base, { bucket: 'b', key: 'u/x', 'x-amz-date': 'd', policy: 'p', 'x-amz-signature': 's', 'x-ignore-me': '1' }, null],
    ['starts-with "" allows anything', [{ bucket: 'b' }, ['starts-with', '$key', '']], { bucket: 'b', key: 'anything' }, null],
    ['a failed eq', base, { bucket: 'c', key: 'u/x', 'x-amz-date': 'd' }, /Policy Condition failed/],
    ['a failed starts-with', base, { bucket: 'b', key: 'v/x', 'x-amz-date': 'd' }, /Policy Condition failed/],
    ['a missing field named by a condition', base, { bucket: 'b', key: 'u/x' }, /Policy Condition failed/],
    ['an extra field', base, { bucket: 'b', key: 'u/x', 'x-amz-date': 'd', 'x-amz-meta-a': '1' }, /Extra input fields: x-amz-meta-a/],
  ])('%s', (_n, conditions, f, err) => {
    const run = () => checkPolicy(policy(conditions as unknown[]), fields(f as Record<string, string>), NOW);
    if (err) expect(run).toThrow(err);
    else expect(run()).toEqual({ min: 0, max: Infinity });
  });

  it('refuses an expired policy and returns the size range', () => {
    expect(() => checkPolicy(policy([], '2025-06-01T11:59:59Z'), fields({}), NOW)).toThrow(/Policy expired/);
    expect(checkPolicy(policy([['content-length-range', 5, 50]]), fields({}), NOW)).toEqual({ min: 5, max: 50 });
  });
});
