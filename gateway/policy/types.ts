import type { ConditionTest } from './conditions.js';

/** Why a policy document was refused: the message of the client's 400 MalformedPolicy. */
export class PolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyError';
  }
}

export type Effect = 'Allow' | 'Deny';

/**
 * Who a statement names. `any`: everyone, anonymous callers included (`*`, `{"AWS":"*"}`);
 * `keys`: Erne access key ids (from key ARNs, bare ids or CanonicalUser ids). Service and
 * Federated principals are accepted and name no Erne caller.
 */
export interface Principals {
  any: boolean;
  keys: ReadonlySet<string>;
}

/** Action / Resource, or their Not… forms (`not`: the statement covers everything else). */
export interface PatternList {
  not: boolean;
  patterns: readonly string[];
}

export interface Statement {
  sid?: string;
  effect: Effect;
  principal: Principals & { not: boolean };
  action: PatternList;
  resource: PatternList;
  conditions: readonly ConditionTest[];
}

export interface Policy {
  statements: readonly Statement[];
}

/** what one request is, for the policy: who, what, on which ARN, and its condition keys */
export interface PolicyRequest {
  /** the signing key's id; null when anonymous */
  accessKeyId: string | null;
  /** e.g. `s3:GetObject` */
  action: string;
  /** `arn:aws:s3:::bucket` or `arn:aws:s3:::bucket/key` */
  resource: string;
  /** condition keys, lower-cased */
  context: ReadonlyMap<string, readonly string[]>;
}

/** Deny: an explicit Deny applies; Allow: an Allow applies and no Deny; None: no statement applies. */
export type Verdict = 'Allow' | 'Deny' | 'None';

/** Largest policy S3 accepts, counted without whitespace. */
export const MAX_POLICY_BYTES = 20 * 1024;
