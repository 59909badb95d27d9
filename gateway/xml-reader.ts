/**
 * A streaming reader for the small XML documents S3 requests carry (CompleteMultipartUpload,
 * Delete, Tagging, CORS, lifecycle, ACL, versioning, CreateBucketConfiguration).
 *
 * Why our own: a general parser takes the whole text in one synchronous call (a 10,000-part
 * CompleteMultipartUpload held the event loop ~200 ms; a million empty elements, seconds and
 * hundreds of MB). This one is fed the body piece by piece as it arrives, so no call does
 * more than one piece's work, and it refuses a document as soon as it has more elements or
 * deeper nesting than its kind of document can have, long before the body is all read.
 *
 * The tree it builds is the one handlers read: an element with no child elements is its text
 * (a string, '' when empty); one with children is an object of them, with '#text' for
 * non-blank text beside them; a repeated element (or one of ARRAY_ELEMENTS) is an array.
 * Attributes, comments and processing instructions are dropped; DOCTYPE and entity
 * declarations are refused; the five XML entities and numeric character references are
 * decoded, other named references are kept as written.
 */
import { S3Error } from './errors.js';

export type XmlDoc = Record<string, unknown>;

export interface XmlBounds {
  /** start tags in the whole document */
  maxElements: number;
  /** elements open at once (the root is depth 1) */
  maxDepth: number;
}

/** elements that may repeat, so they always parse as arrays */
const ARRAY_ELEMENTS = new Set(['Object', 'Part', 'Tag', 'CORSRule', 'Rule', 'AllowedOrigin', 'AllowedMethod', 'AllowedHeader', 'ExposeHeader']);
/** elements whose text is user data, kept exactly even when it is only white space */
const DATA_ELEMENTS = new Set(['Key', 'Prefix', 'Value', 'Delimiter', 'VersionId', 'ETag']);

/** a start or end tag longer than this is no S3 document's */
const MAX_TAG_CHARS = 8 * 1024;
const NAME = /^[A-Za-z_:\u00C0-\uFFFF][\w.\-:\u00B7\u00C0-\uFFFF]*$/;
/** one attribute: white space, a name, '=', a quoted value without '<' */
const ATTRIBUTE = /\s+([^\s=/>"']+)\s*=\s*(?:"[^"<]*"|'[^'<]*')/y;
const ENTITY = /&(?:#x([0-9a-fA-F]{1,6})|#([0-9]{1,7})|([A-Za-z][\w.-]*));|&/g;
const XML_ENTITIES: ReadonlyMap<string, string> = new Map([['lt', '<'], ['gt', '>'], ['amp', '&'], ['quot', '"'], ['apos', "'"]]);

function malformed(message?: string): S3Error {
  return new S3Error('MalformedXML', message);
}

function decodeText(raw: string): string {
  const text = raw.includes('\r') ? raw.replace(/\r\n?/g, '\n') : raw;
  if (!text.includes('&')) return text;
  return text.replace(ENTITY, (m, hex: string | undefined, dec: string | undefined, name: string | undefined) => {
    if (hex !== undefined || dec !== undefined) {
      const cp = hex !== undefined ? parseInt(hex, 16) : Number(dec);
      if (cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw malformed();
      return String.fromCodePoint(cp);
    }
    if (name !== undefined) return XML_ENTITIES.get(name) ?? m;
    throw malformed();
  });
}

interface Frame {
  name: string;
  /** child elements, when there are any (null prototype: names are user input) */
  children?: Record<string, unknown>;
  /** decoded text so far */
  text: string;
}

export class XmlReader {
  private buf = '';
  /** chars of a pending comment, CDATA section or PI already searched for its end */
  private searched = 0;
  /** undecoded text since the last markup (entities never span markup) */
  private raw = '';
  private readonly stack: Frame[] = [];
  private root: XmlDoc | undefined;
  /** chars of the document before `buf` */
  private consumed = 0;
  elements = 0;

  constructor(private readonly bounds: XmlBounds) {}

  /** Takes the next piece of the document; throws MalformedXML as soon as it is known bad. */
  write(piece: string): void {
    // a byte order mark may precede the document
    if (this.consumed === 0 && this.buf === '' && piece.charCodeAt(0) === 0xfeff) piece = piece.slice(1);
    this.buf += piece;
    this.pump();
  }

  /** The whole document, once all of it was written. */
  end(): XmlDoc {
    this.pump();
    if (this.buf.length > 0 || this.stack.length > 0 || !this.root) throw malformed();
    this.flushText();
    return this.root;
  }

  private pump(): void {
    const b = this.buf;
    let i = 0;
    while (i < b.length) {
      const lt = b.indexOf('<', i);
      if (lt < 0) {
        this.raw += b.slice(i);
        i = b.length;
        break;
      }
      if (lt > i) this.raw += b.slice(i, lt);
      const end = this.markup(b, lt);
      if (end < 0) {
        i = lt;
        break;
      }
      i = end;
    }
    this.buf = i === 0 ? b : b.slice(i);
    this.consumed += i;
    // text outside the root may only be white space: say so now, not at the end
    if (this.stack.length === 0 && this.raw.trim() !== '') throw malformed();
  }

  /** Reads the markup at b[lt] ('<'); the index after it, or -1 when it is not all here yet. */
  private markup(b: string, lt: number): number {
    const c = b[lt + 1];
    if (c === undefined) return -1;
    if (c === '!') {
      if (b.startsWith('<!--', lt)) return this.skipTo(b, lt, 4, '-->');
      if (b.startsWith('<![CDATA[', lt)) {
        const end = this.skipTo(b, lt, 9, ']]>');
        if (end >= 0) {
          if (this.stack.length === 0) throw malformed();
          this.flushText();
          this.top().text += b.slice(lt + 9, end - 3).replace(/\r\n?/g, '\n');
        }
        return end;
      }
      // a prefix of '<!--' or '<![CDATA[' may still complete; anything else (DOCTYPE, ENTITY) is refused
      const rest = b.slice(lt, lt + 9);
      if (rest.length < 9 && ('<!--'.startsWith(rest) || '<![CDATA['.startsWith(rest))) return -1;
      throw malformed();
    }
    if (c === '?') {
      const end = this.skipTo(b, lt, 2, '?>');
      // the XML declaration only opens the document; other processing instructions are dropped
      if (end >= 0 && /^<\?xml(?:\s|\?>)/i.test(b.slice(lt, lt + 6)) && this.consumed + lt > 0) throw malformed();
      return end;
    }
    const gt = this.tagEnd(b, lt);
    if (gt < 0) {
      if (b.length - lt > MAX_TAG_CHARS) throw malformed();
      return -1;
    }
    this.flushText();
    if (c === '/') this.close(b.slice(lt + 2, gt).trimEnd());
    else if (b[gt - 1] === '/' && gt - 1 > lt) this.open(b.slice(lt + 1, gt - 1), true);
    else this.open(b.slice(lt + 1, gt), false);
    return gt + 1;
  }

  /** index of the '>' ending the tag at lt (quotes respected), or -1 */
  private tagEnd(b: string, lt: number): number {
    let quote = '';
    const limit = Math.min(b.length, lt + MAX_TAG_CHARS);
    for (let i = lt + 1; i < limit; i++) {
      const ch = b[i];
      if (quote) {
        if (ch === quote) quote = '';
      } else if (ch === '"' || ch === "'") quote = ch;
      else if (ch === '>') return i;
      else if (ch === '<') throw malformed();
    }
    if (limit < b.length) throw malformed();
    return -1;
  }

  /** end of a comment/CDATA/PI whose terminator is `term`, resuming an earlier search */
  private skipTo(b: string, lt: number, open: number, term: string): number {
    const from = Math.max(lt + open, lt + this.searched - term.length);
    const at = b.indexOf(term, from);
    if (at < 0) {
      this.searched = b.length - lt;
      return -1;
    }
    this.searched = 0;
    return at + term.length;
  }

  private top(): Frame {
    return this.stack[this.stack.length - 1]!;
  }

  /** the text since the last markup joins the open element's */
  private flushText(): void {
    if (this.raw === '') return;
    if (this.stack.length > 0) this.top().text += decodeText(this.raw);
    else if (this.raw.trim() !== '') throw malformed();
    this.raw = '';
  }

  private open(tag: string, selfClosing: boolean): void {
    const ws = tag.search(/\s/);
    const name = ws < 0 ? tag : tag.slice(0, ws);
    if (!NAME.test(name)) throw malformed();
    if (ws >= 0) checkAttributes(tag.slice(ws));
    if (++this.elements > this.bounds.maxElements) throw malformed(`The XML has more than ${this.bounds.maxElements} elements.`);
    if (this.stack.length === 0 && this.root) throw malformed();
    if (this.stack.length + 1 > this.bounds.maxDepth) throw malformed(`The XML nests deeper than ${this.bounds.maxDepth} levels.`);
    const frame: Frame = { name, text: '' };
    if (selfClosing) this.attach(frame);
    else this.stack.push(frame);
  }

  private close(name: string): void {
    const frame = this.stack.pop();
    if (!frame || frame.name !== name) throw malformed();
    this.attach(frame);
  }

  /** a finished element becomes its value in the parent (or the document) */
  private attach(frame: Frame): void {
    let value: unknown;
    if (frame.children) {
      if (frame.text.trim() !== '') frame.children['#text'] = frame.text;
      value = frame.children;
    } else value = !DATA_ELEMENTS.has(frame.name) && frame.text.trim() === '' ? '' : frame.text;
    const parent = this.stack[this.stack.length - 1];
    if (!parent) {
      this.root = Object.create(null) as XmlDoc;
      this.root[frame.name] = ARRAY_ELEMENTS.has(frame.name) ? [value] : value;
      return;
    }
    const siblings = (parent.children ??= Object.create(null) as Record<string, unknown>);
    const prev = siblings[frame.name];
    // an element's own value is a string or an object, so an array here is the list of its repeats
    if (prev === undefined) siblings[frame.name] = ARRAY_ELEMENTS.has(frame.name) ? [value] : value;
    else if (Array.isArray(prev)) prev.push(value);
    else siblings[frame.name] = [prev, value];
  }
}

function checkAttributes(s: string): void {
  const seen = new Set<string>();
  ATTRIBUTE.lastIndex = 0;
  let at = 0;
  for (let m = ATTRIBUTE.exec(s); m; m = ATTRIBUTE.exec(s)) {
    if (seen.has(m[1]!)) throw malformed();
    seen.add(m[1]!);
    at = ATTRIBUTE.lastIndex;
  }
  if (s.slice(at).trim() !== '') throw malformed();
}

/** Reads a whole document held in memory (tests, and documents known to be small). */
export function readXml(text: string, bounds: XmlBounds): XmlDoc {
  const r = new XmlReader(bounds);
  r.write(text);
  return r.end();
}
