import { actionMatches } from './actions.js';
import { conditionsHold, restrictsCallers } from './conditions.js';
import { globMatch } from './glob.js';
import { S3_ARN_PREFIX } from './parse.js';
import type { Policy, PolicyRequest, Principals, Statement, Verdict } from './types.js';

/**
 * IAM's evaluation, for one bucket policy: a statement applies when its principal, action,
 * resource and every condition match the request; any applying Deny wins, else any applying
 * Allow allows, else the policy says nothing and the ACLs and roles decide.
 */

export function resourceArn(bucket: string, key?: string): string {
  return key === undefined || key === '' ? `${S3_ARN_PREFIX}${bucket}` : `${S3_ARN_PREFIX}${bucket}/${key}`;
}

function principalMatches(p: Principals, accessKeyId: string | null): boolean {
  return p.any || (accessKeyId !== null && p.keys.has(accessKeyId));
}

export function statementApplies(s: Statement, r: PolicyRequest): boolean {
  if (principalMatches(s.principal, r.accessKeyId) === s.principal.not) return false;
  if (s.action.patterns.some((p) => actionMatches(p, r.action)) === s.action.not) return false;
  // resource names are case-sensitive
  if (s.resource.patterns.some((p) => globMatch(p, r.resource)) === s.resource.not) return false;
  return conditionsHold(s.conditions, r.context);
}

export function evaluate(policy: Policy, r: PolicyRequest): Verdict {
  let allowed = false;
  for (const s of policy.statements) {
    if (!statementApplies(s, r)) continue;
    if (s.effect === 'Deny') return 'Deny';
    allowed = true;
  }
  return allowed ? 'Allow' : 'None';
}

/**
 * S3's "public" policy: one that allows something to everyone (Principal `*`, or everyone
 * but some via NotPrincipal) without a condition that confines it to known callers (a
 * non-/0 aws:SourceIp range, or a fixed source or principal identity).
 */
export function isPublicPolicy(policy: Policy): boolean {
  return policy.statements.some((s) => s.effect === 'Allow' && s.principal.any !== s.principal.not && !s.conditions.some(restrictsCallers));
}
