import { randomBytes, randomInt } from 'node:crypto';

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** 20 upper-case alphanumerics like AWS's ids, "EK" (Erne key) then 18 random chars */
export function generateAccessKeyId(): string {
  let id = 'EK';
  while (id.length < 20) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

/** 40 base64 characters (240 random bits), the shape of an AWS secret access key */
export function generateSecretKey(): string {
  return randomBytes(30).toString('base64');
}

/**
 * What a key pair given on the command line must look like: the id travels inside the SigV4
 * Credential field (split on '/') so it may not contain one, and neither may carry spaces.
 */
export const ACCESS_KEY_ID_PATTERN = /^[A-Za-z0-9._-]{3,128}$/;
export const SECRET_KEY_PATTERN = /^[\x21-\x7e]{8,128}$/;
