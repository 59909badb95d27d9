import type { ChecksumAlgorithm } from '../../metadata/types.js';

/** The parts of an HTTP request that SigV4 covers. Header names lower-case. */
export interface SignedRequest {
  method: string;
  /** the raw path as sent, still percent-encoded, without the query */
  rawPath: string;
  /** the raw query string as sent, without '?' (may be '') */
  rawQuery: string;
  headers: Record<string, string | string[] | undefined>;
}

export type PayloadMode =
  | { kind: 'unsigned' } // UNSIGNED-PAYLOAD (and presigned URLs)
  | { kind: 'sha256'; hex: string } // body must hash to this
  | { kind: 'streaming-signed'; trailer: boolean } // STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]
  | { kind: 'streaming-unsigned-trailer' } // STREAMING-UNSIGNED-PAYLOAD-TRAILER
  | { kind: 'none' }; // anonymous request

export interface AuthContext {
  /** null for an anonymous request */
  accessKeyId: string | null;
  root: boolean;
  payload: PayloadMode;
  /** for streaming-signed payloads: what each chunk signature chains from */
  signing?: {
    seedSignature: string;
    signingKey: Buffer;
    /** yyyymmddThhmmssZ */
    amzDate: string;
    /** date/region/s3/aws4_request */
    scope: string;
  };
  /** algorithm named by x-amz-trailer, when the body carries a trailing checksum */
  trailerChecksum?: ChecksumAlgorithm;
  /** presigned URL: true */
  presigned: boolean;
  /** the region of the credential scope: the region the request was signed for */
  region?: string;
}

export interface KeyLookup {
  /** the secret and whether it is a root key, or undefined when the key is unknown */
  (accessKeyId: string): Promise<{ secretAccessKey: string; root: boolean } | undefined>;
}
