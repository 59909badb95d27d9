import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import { S3Error } from './errors.js';

/** The one place S3 XML is written and read. */

export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', suppressEmptyNode: false });

/** `{ root: { …elements } }` → an S3 XML document; arrays become repeated elements. */
export function renderXml(root: string, value: Record<string, unknown>, xmlns = true, tail?: readonly string[]): string {
  const body = xmlns ? { '@_xmlns': S3_XMLNS, ...value } : value;
  let doc: string = builder.build({ [root]: body });
  // children whose order across element names matters come last, already rendered
  if (tail && tail.length > 0) {
    const close = `</${root}>`;
    doc = doc.slice(0, doc.length - close.length) + tail.join('') + close;
  }
  return '<?xml version="1.0" encoding="UTF-8"?>\n' + doc;
}

/** One element, for `renderXml`'s tail: siblings of different names kept in the given order. */
export function renderElement(name: string, value: Record<string, unknown>): string {
  return builder.build({ [name]: value });
}

/** Bodies of S3 requests are small documents; anything bigger is refused before parsing. */
export const MAX_XML_BODY_BYTES = 1024 * 1024;

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  // element text is data (an object key may begin or end with spaces); whitespace between
  // elements is dropped by the parser as it is not text of a leaf
  trimValues: false,
  processEntities: true,
  // numeric character references (&#34;, as Go clients write quotes) must be decoded; this
  // also decodes the HTML named ones, which XML would refuse: lenient, never harmful.
  // Entities declared in a DOCTYPE are never expanded (we refuse DOCTYPE outright below).
  htmlEntities: true,
  isArray: (name) => ARRAY_ELEMENTS.has(name),
});

/** elements that may repeat, so they always parse as arrays */
const ARRAY_ELEMENTS = new Set(['Object', 'Part', 'Tag', 'CORSRule', 'Rule', 'AllowedOrigin', 'AllowedMethod', 'AllowedHeader', 'ExposeHeader']);

/** Parses a request body; anything that is not well-formed XML is MalformedXML. */
export function parseXml(text: string): Record<string, unknown> {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw new S3Error('MalformedXML');
  if (text.trim() === '' ) throw new S3Error('MalformedXML');
  const ok = XMLValidator.validate(text);
  if (ok !== true) throw new S3Error('MalformedXML');
  try {
    return normalize(parser.parse(text)) as Record<string, unknown>;
  } catch {
    throw new S3Error('MalformedXML');
  }
}

export function isoDate(ms: number): string {
  return new Date(ms).toISOString();
}

/** elements whose text is user data, kept exactly even when it is only white space */
const DATA_ELEMENTS = new Set(['Key', 'Prefix', 'Value', 'Delimiter', 'VersionId', 'ETag']);

/**
 * With untrimmed text the parser keeps the indentation of pretty-printed documents: drop it
 * (white-space '#text' beside child elements, white-space-only non-data leaves).
 */
function normalize(node: unknown, name = ''): unknown {
  if (Array.isArray(node)) return node.map((n) => normalize(n, name));
  if (typeof node === 'string') return !DATA_ELEMENTS.has(name) && node.trim() === '' ? '' : node;
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === '#text' && typeof v === 'string' && v.trim() === '') continue;
    out[k] = normalize(v, k);
  }
  return out;
}
