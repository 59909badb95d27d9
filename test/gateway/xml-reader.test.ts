/**
 * The streaming XML reader (gateway/xml-reader.ts): the same tree the previous whole-text
 * parser (fast-xml-parser, kept here as the oracle) gave for any well-formed document however
 * it is cut into pieces; malformed documents refused; element and depth bounds enforced as
 * soon as they are crossed, before the rest of the document is seen.
 */
import fc from 'fast-check';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { XmlReader, readXml, type XmlBounds } from '../../gateway/xml-reader.js';
import { S3Error } from '../../gateway/errors.js';

const WIDE: XmlBounds = { maxElements: 100_000, maxDepth: 64 };

/** the parser and options gateway/xml.ts used before, with its normalisation of white space */
const ARRAY_ELEMENTS = new Set(['Object', 'Part', 'Tag', 'CORSRule', 'Rule', 'AllowedOrigin', 'AllowedMethod', 'AllowedHeader', 'ExposeHeader']);
const DATA_ELEMENTS = new Set(['Key', 'Prefix', 'Value', 'Delimiter', 'VersionId', 'ETag']);
const oracleParser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: true,
  ignoreDeclaration: true,
  isArray: (name) => ARRAY_ELEMENTS.has(name),
});
function normalize(node: unknown, name = ''): unknown {
  if (Array.isArray(node)) return node.map((n) => normalize(n, name));
  if (typeof node === 'string') return !DATA_ELEMENTS.has(name) && node.trim() === '' ? '' : node;
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === '#text' && typeof v === 'string' && v.trim() === '') continue;
    // processing instructions: the old parser listed them as '?name' keys, the reader drops them
    if (k.startsWith('?')) continue;
    out[k] = normalize(v, k);
  }
  return out;
}
function oracle(text: string): unknown {
  expect(XMLValidator.validate(text)).toBe(true);
  return normalize(oracleParser.parse(text));
}

const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

/** feeds the text in the given cut points */
function readInPieces(text: string, cuts: number[]): unknown {
  const r = new XmlReader(WIDE);
  let at = 0;
  for (const c of [...new Set(cuts)].sort((a, b) => a - b)) {
    r.write(text.slice(at, c));
    at = c;
  }
  r.write(text.slice(at));
  return r.end();
}

function code(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (err) {
    if (err instanceof S3Error) return err.code;
    throw err;
  }
}

// ---- generated documents ----
const NAMES = ['A', 'B', 'Key', 'Part', 'Object', 'Value', 'x:C', 'Ünï'];
const textChar = fc.constantFrom('a', 'Z', ' ', '\n', '\t', '&', '<', '>', '"', "'", 'é', '😀', '/', ']', '0');
const rawText = fc.array(textChar, { maxLength: 8 }).map((a) => a.join(''));

function escape(s: string, style: number): string {
  return s.replace(/[&<>"']/g, (c) => {
    const cp = c.codePointAt(0)!;
    if (style === 1) return `&#${cp};`;
    if (style === 2) return `&#x${cp.toString(16)};`;
    return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' }[c]!;
  });
}

type Gen = fc.Arbitrary<string>;
const textNode: Gen = fc.tuple(rawText, fc.integer({ min: 0, max: 3 })).map(([t, style]) =>
  // a CDATA section holds text as it is (never ']]>' in it)
  style === 3 && !t.includes(']]>') ? `<![CDATA[${t}]]>` : escape(t, style),
);
const misc: Gen = fc.constantFrom('', '', ' ', '\n  ', '<!-- a comment > here -->', '<?pi data?>');
const attrs: Gen = fc.constantFrom('', ' id="1"', " xmlns='http://s3.amazonaws.com/doc/2006-03-01/'", ' a="x>y" b=\'2\'');

const element: fc.Memo<string> = fc.memo((n) => {
  const leaf = fc.tuple(fc.constantFrom(...NAMES), attrs, fc.array(textNode, { maxLength: 2 }), fc.boolean()).map(([name, a, texts, selfClose]) =>
    selfClose && texts.length === 0 ? `<${name}${a}/>` : `<${name}${a}>${texts.join('')}</${name} >`,
  );
  if (n <= 1) return leaf;
  const parent = fc
    .tuple(fc.constantFrom(...NAMES), attrs, fc.array(fc.tuple(misc, element(n - 1), fc.oneof(misc, textNode)), { minLength: 1, maxLength: 4 }))
    .map(([name, a, kids]) => `<${name}${a}>${kids.map(([m, k, t]) => m + k + t).join('')}</${name}>`);
  return fc.oneof(leaf, parent);
});

const documentText: Gen = fc
  .tuple(fc.constantFrom('', '<?xml version="1.0" encoding="UTF-8"?>\n', '\ufeff'), misc, element(4), misc)
  .map(([decl, before, root, after]) => decl + before + root + after);

describe('XmlReader', () => {
  it('reads any well-formed document as the previous whole-text parser did, however it arrives (property)', () => {
    fc.assert(
      fc.property(documentText, fc.array(fc.nat(), { maxLength: 6 }), (text, rawCuts) => {
        const want = oracle(text);
        const cuts = rawCuts.map((c) => c % (text.length + 1));
        expect(plain(readInPieces(text, cuts))).toEqual(want);
      }),
      { numRuns: 400 },
    );
  });

  it.each([
    ['one leaf', '<A>x</A>', { A: 'x' }],
    ['repeated and always-array elements', '<D><Object><Key> k </Key></Object><B>1</B><B>2</B></D>', { D: { Object: [{ Key: ' k ' }], B: ['1', '2'] } }],
    ['white space only: kept in data elements, dropped elsewhere', '<D><Key>  </Key><Status>\n </Status></D>', { D: { Key: '  ', Status: '' } }],
    ['entities and character references', '<A>&lt;&amp;&#34;&#x41;&apos;&unknown;</A>', { A: '<&"A\'&unknown;' }],
    ['CDATA as written', '<A><![CDATA[<&amp;>]]></A>', { A: '<&amp;>' }],
    ['CRLF read as LF', '<A>a\r\nb\rc</A>', { A: 'a\nb\nc' }],
    ['an element named like an Object.prototype property', '<A><constructor>x</constructor><__proto__>y</__proto__></A>', JSON.parse('{"A":{"constructor":"x","__proto__":"y"}}')],
  ])('%s', (_name, text, want) => {
    expect(plain(readXml(text, WIDE))).toEqual(plain(want));
  });

  it('names from user input never reach Object.prototype', () => {
    const doc = readXml('<A><__proto__><polluted>1</polluted></__proto__></A>', WIDE) as Record<string, Record<string, unknown>>;
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.hasOwn(doc['A']!, '__proto__')).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['white space only', '  \n'],
    ['text only', 'hello'],
    ['unclosed', '<A><B>x</B>'],
    ['mismatched close', '<A></B>'],
    ['two roots', '<A/><B/>'],
    ['text after the root', '<A/> x'],
    ['text before the root', 'x<A/>'],
    ['a bare ampersand', '<A>x & y</A>'],
    ['a character reference to nothing', '<A>&#0;</A>'],
    ['a surrogate reference', '<A>&#xD800;</A>'],
    ['DOCTYPE', '<!DOCTYPE A [<!ENTITY e "x">]><A>&e;</A>'],
    ['ENTITY inside', '<A><!ENTITY e "x"></A>'],
    ['a name starting with a digit', '<1A/>'],
    ['space after <', '< A/>'],
    ['an attribute without a value', '<A b></A>'],
    ['a repeated attribute', '<A b="1" b="2"/>'],
    ['attributes without space between', '<A b="1"c="2"/>'],
    ['an unquoted attribute', '<A b=1/>'],
    ['< in an attribute', '<A b="<"/>'],
    ['an XML declaration not at the start', '<A><?xml version="1.0"?></A>'],
    ['an unterminated comment', '<A/><!-- x'],
    ['CDATA outside the root', '<![CDATA[x]]><A/>'],
  ])('refuses %s as MalformedXML', (_name, text) => {
    expect(code(() => readXml(text, WIDE))).toBe('MalformedXML');
  });

  it('refuses the element past maxElements on the piece that brings it, without the rest', () => {
    const r = new XmlReader({ maxElements: 100, maxDepth: 8 });
    r.write('<CompleteMultipartUpload>');
    for (let i = 0; i < 98; i++) r.write('<a/>');
    r.write('<a/>'); // the 100th element
    expect(code(() => r.write('<a/>'))).toBe('MalformedXML');
    expect(r.elements).toBe(101);
  });

  it('refuses nesting past maxDepth as soon as it opens', () => {
    const r = new XmlReader({ maxElements: 1000, maxDepth: 8 });
    expect(code(() => r.write('<a>'.repeat(9)))).toBe('MalformedXML');
    expect(code(() => readXml('<a>'.repeat(8) + '</a>'.repeat(8), { maxElements: 1000, maxDepth: 8 }))).toBeUndefined();
  });

  it('reads a 10,000-part CompleteMultipartUpload in pieces of at most a few ms each', () => {
    const parts = Array.from({ length: 10_000 }, (_, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>"0123456789abcdef0123456789abcdef"</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part>`);
    const text = `<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${parts.join('')}</CompleteMultipartUpload>`;
    const r = new XmlReader({ maxElements: 100_000, maxDepth: 8 });
    for (let at = 0; at < text.length; at += 64 * 1024) r.write(text.slice(at, at + 64 * 1024));
    const doc = r.end() as { CompleteMultipartUpload: { Part: { PartNumber: string }[] } };
    expect(doc.CompleteMultipartUpload.Part).toHaveLength(10_000);
    expect(doc.CompleteMultipartUpload.Part[9_999]!.PartNumber).toBe('10000');
  });
});
