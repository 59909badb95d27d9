import { XMLBuilder } from 'fast-xml-parser';
import { readXml, type XmlBounds, type XmlDoc } from './xml-reader.js';

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

/** what a document read whole may hold (request bodies are read with bounds per operation: small-body.ts) */
export const DEFAULT_XML_BOUNDS: XmlBounds = { maxElements: 10_000, maxDepth: 16 };

/** Parses a document held in memory; anything that is not well-formed XML is MalformedXML. */
export function parseXml(text: string, bounds: XmlBounds = DEFAULT_XML_BOUNDS): XmlDoc {
  return readXml(text, bounds);
}

export function isoDate(ms: number): string {
  return new Date(ms).toISOString();
}
