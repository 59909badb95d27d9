/** CORS rule parsing and matching, table-driven; wildcard matching as a property. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchCorsRule, parseCorsConfiguration, wildcardMatch, type CorsRule } from '../../gateway/cors-rules.js';
import { parseXml } from '../../gateway/xml.js';

describe('wildcardMatch', () => {
  it.each([
    ['https://*.example.com', 'https://a.example.com', true],
    ['https://*.example.com', 'https://example.com', false],
    ['*', 'anything', true],
    ['x-amz-*', 'x-amz-date', true],
    ['x-amz-*', 'content-type', false],
    ['exact', 'exact', true],
    ['exact', 'exactly', false],
    ['a*a', 'a', false],
  ])('%s ~ %s → %s', (p, v, want) => expect(wildcardMatch(p, v)).toBe(want));

  it('a pattern head*tail matches exactly head + anything + tail (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), (h, mid, t) => {
        const head = h.replace(/\*/g, '');
        const tail = t.replace(/\*/g, '');
        expect(wildcardMatch(`${head}*${tail}`, head + mid + tail)).toBe(true);
        expect(wildcardMatch(head + tail, head + tail)).toBe(true);
      }),
    );
  });
});

describe('parseCorsConfiguration', () => {
  const doc = (rules: string) => parseXml(`<CORSConfiguration>${rules}</CORSConfiguration>`);
  it('reads repeated and single elements alike', () => {
    const rules = parseCorsConfiguration(doc('<CORSRule><ID>r</ID><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedHeader>Content-Type</AllowedHeader><MaxAgeSeconds>30</MaxAgeSeconds></CORSRule>'));
    expect(rules).toEqual([{ id: 'r', origins: ['*'], methods: ['GET'], headers: ['content-type'], expose: [], maxAgeSeconds: 30 }]);
  });
  it.each([
    ['no rules', '', 'MalformedXML'],
    ['a lower-case method', '<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>get</AllowedMethod></CORSRule>', 'InvalidRequest'],
    ['no method', '<CORSRule><AllowedOrigin>*</AllowedOrigin></CORSRule>', 'MalformedXML'],
    ['two wildcards in a header', '<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedHeader>*-*</AllowedHeader></CORSRule>', 'InvalidRequest'],
    ['a negative max age', '<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>-1</MaxAgeSeconds></CORSRule>', 'MalformedXML'],
  ])('refuses %s', (_n, rules, code) => {
    expect(() => parseCorsConfiguration(doc(rules))).toThrow(expect.objectContaining({ code }));
  });
});

describe('matchCorsRule', () => {
  const rules: CorsRule[] = [
    { id: 'put', origins: ['https://a.com'], methods: ['PUT'], headers: ['content-*'], expose: [] },
    { id: 'get', origins: ['*'], methods: ['GET'], headers: [], expose: [] },
  ];
  it.each([
    ['https://a.com', 'PUT', ['content-type'], 'put'],
    ['https://a.com', 'PUT', ['content-type', 'x-amz-date'], undefined],
    ['https://b.com', 'PUT', [], undefined],
    ['https://b.com', 'GET', [], 'get'],
    ['https://b.com', 'GET', ['range'], undefined],
    ['https://a.com', 'DELETE', [], undefined],
  ])('%s %s %j → %s', (origin, method, requestHeaders, want) => {
    expect(matchCorsRule(rules, { origin, method, requestHeaders })?.id).toBe(want);
  });
});
