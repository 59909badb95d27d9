import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import { S3Error } from './errors.js';

/** The one place S3 XML is written and read. */

export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', suppressEmptyNode: false });

/** `{ root: { …elements } }` → an S3 XML document; arrays become repeated elements. */
export function renderXml(root: string, value: Record<string, unknown>, xmlns = true): string {
  const body = xmlns ? { '@_xmlns': S3_XMLNS, ...value } : value;
  return '<?xml version="1.0" encoding="UTF-8"?>\n' + builder.build({ [root]: body });
}

/** Bodies of S3 requests are small documents; anything bigger is refused before parsing. */
export const MAX_XML_BODY_BYTES = 1024 * 1024;

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: true,
  processEntities: true,
  // entities declared in a DOCTYPE are never expanded (we refuse DOCTYPE outright below)
  htmlEntities: false,
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
    return parser.parse(text) as Record<string, unknown>;
  } catch {
    throw new S3Error('MalformedXML');
  }
}

export function isoDate(ms: number): string {
  return new Date(ms).toISOString();
}
