/**
 * Header values and text. Node hands a request header's value over with each byte as one
 * latin-1 character, and writes a response header's characters back as one byte each. Kept
 * as they are, stored values (user metadata, content-disposition) return as the very bytes
 * the client sent; a value that is read as text (a tag, a key in x-amz-copy-source) is
 * decoded from its bytes first, and text headed for a header is encoded to bytes.
 */

// ignoreBOM: a leading U+FEFF is part of the value, not a marker to drop
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A header value read as text: its bytes as UTF-8 when they are valid UTF-8 (ASCII is), else as they came. */
export function headerText(value: string): string {
  // ASCII reads the same either way; a character beyond latin-1 is text already (not from Node)
  if (!/[^\x00-\x7f]/.test(value) || /[^\x00-\xff]/.test(value)) return value;
  try {
    return utf8.decode(Buffer.from(value, 'latin1'));
  } catch {
    return value;
  }
}

/** Text as the header value that carries it in UTF-8 (the form request headers arrive in). */
export function textAsHeader(text: string): string {
  return /[^\x00-\x7f]/.test(text) ? Buffer.from(text, 'utf8').toString('latin1') : text;
}
