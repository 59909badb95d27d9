/**
 * SigV4 URI encoding. Clients disagree on what they percent-encode (s3fs leaves '/' bare in
 * query values, some encode '~' or '!'), so every component is decoded to bytes first and
 * re-encoded strictly: only the RFC 3986 unreserved set A-Z a-z 0-9 - . _ ~ stays bare.
 */
const UNRESERVED = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~') UNRESERVED[c.charCodeAt(0)] = 1;
const HEX = '0123456789ABCDEF';
const SLASH = 0x2f;

function hexVal(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  return -1;
}

/**
 * Percent-decode to raw bytes. A '%' not followed by two hex digits is kept literally
 * (lenient, like most servers). In query components '+' means space (form encoding).
 */
export function percentDecode(s: string, plusIsSpace: boolean): Buffer {
  const src = Buffer.from(s, 'utf8');
  if (!src.includes(0x25) && !(plusIsSpace && src.includes(0x2b))) return src;
  const out = Buffer.allocUnsafe(src.length);
  let o = 0;
  for (let i = 0; i < src.length; i++) {
    const b = src[i]!;
    if (b === 0x25 && i + 2 < src.length) {
      const hi = hexVal(src[i + 1]!);
      const lo = hexVal(src[i + 2]!);
      if (hi >= 0 && lo >= 0) {
        out[o++] = (hi << 4) | lo;
        i += 2;
        continue;
      }
    }
    out[o++] = plusIsSpace && b === 0x2b ? 0x20 : b;
  }
  return out.subarray(0, o);
}

/** Encode bytes per SigV4: unreserved bare, everything else %XX upper-case; '/' bare if keepSlash. */
export function encodeBytes(bytes: Uint8Array, keepSlash: boolean): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if ((b < 128 && UNRESERVED[b]) || (keepSlash && b === SLASH)) out += String.fromCharCode(b);
    else out += '%' + HEX[b >> 4] + HEX[b & 15];
  }
  return out;
}

/** SigV4 encoding of a plain (decoded) string. */
export function uriEncode(s: string, keepSlash = false): string {
  return encodeBytes(Buffer.from(s, 'utf8'), keepSlash);
}

/**
 * Canonical URI for S3: no dot-segment or slash normalisation; each segment between raw
 * '/' is decoded and re-encoded (so an encoded %2F inside a key stays %2F).
 */
export function canonicalUri(rawPath: string): string {
  if (rawPath === '') return '/';
  return rawPath
    .split('/')
    .map((seg) => encodeBytes(percentDecode(seg, false), false))
    .join('/');
}

/** Raw query → decoded [name, value] pairs, in order ("acl" alone gives ["acl", ""]). */
export function parseQuery(rawQuery: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (rawQuery === '') return out;
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    out.push([percentDecode(name, true).toString('utf8'), percentDecode(value, true).toString('utf8')]);
  }
  return out;
}

/**
 * Canonical query string: every name and value decoded then strictly re-encoded, sorted by
 * encoded name then encoded value. `exclude` drops one parameter (X-Amz-Signature).
 */
export function canonicalQuery(rawQuery: string, exclude?: string): string {
  if (rawQuery === '') return '';
  const pairs: Array<[string, string]> = [];
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const nameBytes = percentDecode(eq < 0 ? part : part.slice(0, eq), true);
    if (exclude !== undefined && nameBytes.toString('utf8') === exclude) continue;
    const valueBytes = percentDecode(eq < 0 ? '' : part.slice(eq + 1), true);
    pairs.push([encodeBytes(nameBytes, false), encodeBytes(valueBytes, false)]);
  }
  // encoded strings are ASCII, so code-unit order is byte order
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([n, v]) => `${n}=${v}`).join('&');
}
