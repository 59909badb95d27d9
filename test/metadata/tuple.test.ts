import { describe, expect, it } from 'vitest';
import {
  afterStringPrefix,
  escapeString,
  keyAfter,
  pack,
  stringPrefixRange,
  subspaceRange,
  unpack,
  unpackAfter,
} from '../../metadata/tuple.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const inRange = (k: Buffer, r: { begin: Buffer; end: Buffer }) =>
  Buffer.compare(k, r.begin) >= 0 && Buffer.compare(k, r.end) < 0;

describe('tuple keys', () => {
  it.each([
    { items: ['c', 'b', 'k'], bytes: '026300026200026b00' },
    { items: ['a\u0000b'], bytes: '026100ff6200' },
    { items: ['é'], bytes: '02c3a900' },
    { items: [''], bytes: '0200' },
    { items: ['v', 3], bytes: '0276001503' },
  ])('pack($items) = $bytes and unpacks back', ({ items, bytes }) => {
    expect(hex(pack(items))).toBe(bytes);
    expect(unpack(Buffer.from(bytes, 'hex'))).toEqual(items);
  });

  it.each([
    { s: 'abc', esc: '616263' },
    { s: 'a\u0000', esc: '6100ff' },
    { s: '\u0000\u0000', esc: '00ff00ff' },
    { s: '', esc: '' },
  ])('escapeString($s) = $esc', ({ s, esc }) => {
    expect(hex(escapeString(s))).toBe(esc);
  });

  const S = pack(['c', 'bkt']);
  const key = (k: string) => Buffer.concat([S, pack([k])]);

  it.each([
    // [prefix, key, inside the prefix range?]
    ['a/', 'a/', true],
    ['a/', 'a/b', true],
    ['a/', 'a/\u0000x', true],
    ['a/', 'a/\uffff', true],
    ['a/', 'a', false],
    ['a/', 'a0', false],
    ['a/', 'a.', false],
    ['a/', 'b', false],
    ['', 'anything', true],
    ['a\u0000', 'a', false],
    ['a\u0000', 'a\u0000', true],
    ['a\u0000', 'a\u0000\u0000z', true],
    ['é', 'éa', true],
    ['é', 'e', false],
  ] as const)('stringPrefixRange(%j) contains %j: %s', (prefix, k, inside) => {
    expect(inRange(key(k), stringPrefixRange(S, prefix))).toBe(inside);
    // the first key after the prefix is above every key inside and not above any key outside after it
    const after = afterStringPrefix(S, prefix);
    if (inside) expect(Buffer.compare(key(k), after)).toBeLessThan(0);
  });

  it('afterStringPrefix lands before the next key without that prefix', () => {
    const after = afterStringPrefix(S, 'a/');
    expect(Buffer.compare(after, key('a0'))).toBeLessThan(0);
    expect(Buffer.compare(after, key('a/\u{10ffff}'))).toBeGreaterThan(0);
  });

  it('keyAfter is the immediate successor; subspaceRange holds longer tuples only', () => {
    const k = key('x');
    expect(hex(keyAfter(k))).toBe(hex(k) + '00');
    const r = subspaceRange(['c', 'bkt']);
    expect(inRange(key('x'), r)).toBe(true);
    expect(inRange(pack(['c', 'bkt']), r)).toBe(false);
    expect(inRange(pack(['c', 'bkt2', 'x']), r)).toBe(false);
    expect(unpackAfter(S, key('x/y'))).toEqual(['x/y']);
  });

  it('orders strings by UTF-8 bytes', () => {
    const words = ['b', 'a', '!', ' ', 'a/b', 'a!', 'é', '\u{1f600}', '\uffff', 'a\u0000'];
    const byTuple = [...words].sort((x, y) => Buffer.compare(pack([x]), pack([y])));
    const byUtf8 = [...words].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect(byTuple).toEqual(byUtf8);
  });
});
