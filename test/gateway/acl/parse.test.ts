import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { aclFromHeaders, aclFromPolicy, type KeyResolver } from '../../../gateway/acl/parse.js';
import { parseXml } from '../../../gateway/xml.js';
import { expandAcl, grantsAllow, type AclGrant } from '../../../metadata/acl.js';

/** The three spellings of an ACL (canned header, grant headers, AccessControlPolicy body), table-driven. */

const ALL = 'http://acs.amazonaws.com/groups/global/AllUsers';
const AUTH = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';
const KEY = 'EKPARSEKEY0001';
const KEY_ID = createHash('sha256').update(KEY).digest('hex');
const resolve: KeyResolver = async (c) => (c.toLowerCase() === KEY_ID ? KEY : undefined);

const all = { kind: 'AllUsers' } as const;
const key = { kind: 'Key', accessKeyId: KEY } as const;

describe('aclFromHeaders', () => {
  it.each<[string, Record<string, string>, unknown]>([
    ['no ACL header', {}, undefined],
    ['a canned ACL', { 'x-amz-acl': 'public-read-write' }, 'public-read-write'],
    ['a quoted uri', { 'x-amz-grant-read': `uri="${ALL}"` }, { grants: [{ grantee: all, permission: 'READ' }] }],
    ['an unquoted id, upper-case hex', { 'x-amz-grant-write': `id=${KEY_ID.toUpperCase()}` }, { grants: [{ grantee: key, permission: 'WRITE' }] }],
    [
      'several grantees and headers, listed in permission order',
      { 'x-amz-grant-read': ` uri="${AUTH}" ,ID="${KEY_ID}"`, 'x-amz-grant-full-control': `id="${KEY_ID}"` },
      {
        grants: [
          { grantee: key, permission: 'FULL_CONTROL' },
          { grantee: { kind: 'AuthenticatedUsers' }, permission: 'READ' },
          { grantee: key, permission: 'READ' },
        ],
      },
    ],
  ])('%s', async (_n, headers, want) => {
    expect(await aclFromHeaders(headers, 'object', resolve)).toEqual(want);
  });

  it.each<[string, Record<string, string>, string, string]>([
    ['an unknown id', { 'x-amz-grant-read': `id="${'1'.repeat(64)}"` }, 'InvalidArgument', 'Invalid id'],
    ['an id that is no canonical id', { 'x-amz-grant-read': `id="${KEY}"` }, 'InvalidArgument', 'Invalid id'],
    ['another group', { 'x-amz-grant-read': 'uri="http://acs.amazonaws.com/groups/s3/LogDelivery"' }, 'InvalidArgument', 'Invalid group uri'],
    ['an email address', { 'x-amz-grant-read': 'emailAddress="a@b.example"' }, 'InvalidArgument', 'email'],
    ['an unknown grantee type', { 'x-amz-grant-read': 'arn="x"' }, 'InvalidArgument', 'grantee type'],
    ['a malformed list', { 'x-amz-grant-read': `uri="${ALL}" id` }, 'InvalidArgument', 'Invalid grant header'],
    ['an empty header', { 'x-amz-grant-read': '' }, 'InvalidArgument', 'Invalid grant header'],
    ['canned and grants together', { 'x-amz-acl': 'private', 'x-amz-grant-read': `uri="${ALL}"` }, 'InvalidRequest', 'not allowed'],
    ['a canned ACL Erne does not offer', { 'x-amz-acl': 'aws-exec-read' }, 'NotImplemented', 'aws-exec-read'],
  ])('refuses %s', async (_n, headers, code, message) => {
    await expect(aclFromHeaders(headers, 'object', resolve)).rejects.toMatchObject({ code, message: expect.stringContaining(message) });
  });

  it('refuses the bucket-owner canned ACLs on buckets', async () => {
    await expect(aclFromHeaders({ 'x-amz-acl': 'bucket-owner-full-control' }, 'bucket', resolve)).rejects.toMatchObject({ code: 'NotImplemented' });
  });
});

const policy = (grants: string) =>
  parseXml(`<AccessControlPolicy><Owner><ID>${KEY_ID}</ID></Owner><AccessControlList>${grants}</AccessControlList></AccessControlPolicy>`);
const grantXml = (grantee: string, permission: string) =>
  `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="x">${grantee}</Grantee><Permission>${permission}</Permission></Grant>`;

describe('aclFromPolicy', () => {
  it.each<[string, string, AclGrant[]]>([
    ['an empty list', '', []],
    ['one group grant', grantXml(`<URI>${ALL}</URI>`, 'READ'), [{ grantee: all, permission: 'READ' }]],
    [
      'grants in the order given',
      grantXml(`<URI>${ALL}</URI>`, 'WRITE') + grantXml(`<ID>${KEY_ID}</ID><DisplayName>ignored</DisplayName>`, 'READ_ACP'),
      [
        { grantee: all, permission: 'WRITE' },
        { grantee: key, permission: 'READ_ACP' },
      ],
    ],
  ])('%s', async (_n, grants, want) => {
    expect(await aclFromPolicy(policy(grants), resolve)).toEqual({ grants: want });
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['no AccessControlList', parseXml('<AccessControlPolicy><Owner><ID>x</ID></Owner></AccessControlPolicy>'), 'MalformedACLError'],
    ['an unknown permission', policy(grantXml(`<URI>${ALL}</URI>`, 'DELETE')), 'MalformedACLError'],
    ['a grant without a grantee', policy('<Grant><Permission>READ</Permission></Grant>'), 'MalformedACLError'],
    ['a grantee with two names', policy(grantXml(`<URI>${ALL}</URI><ID>${KEY_ID}</ID>`, 'READ')), 'MalformedACLError'],
    ['an unknown canonical id', policy(grantXml(`<ID>${'2'.repeat(64)}</ID>`, 'READ')), 'InvalidArgument'],
    ['more than 100 grants', policy(grantXml(`<URI>${ALL}</URI>`, 'READ').repeat(101)), 'MalformedACLError'],
  ])('refuses %s', async (_n, doc, code) => {
    await expect(aclFromPolicy(doc, resolve)).rejects.toMatchObject({ code });
  });
});

describe('what grants allow', () => {
  const OWNER = 'EKOWNER';
  it.each<[string, AclGrant[], string, string | null, 'READ' | 'WRITE' | 'READ_ACP', boolean]>([
    ['AllUsers READ, anonymous', expandAcl('public-read', OWNER, OWNER), OWNER, null, 'READ', true],
    ['AllUsers READ, a signed key', expandAcl('public-read', OWNER, OWNER), OWNER, KEY, 'READ', true],
    ['AllUsers READ is not WRITE', expandAcl('public-read', OWNER, OWNER), OWNER, KEY, 'WRITE', false],
    ['public-read-write writes', expandAcl('public-read-write', OWNER, OWNER), OWNER, null, 'WRITE', true],
    ['AuthenticatedUsers, anonymous', expandAcl('authenticated-read', OWNER, OWNER), OWNER, null, 'READ', false],
    ['AuthenticatedUsers, a signed key', expandAcl('authenticated-read', OWNER, OWNER), OWNER, KEY, 'READ', true],
    ['FULL_CONTROL gives READ_ACP', [{ grantee: key, permission: 'FULL_CONTROL' }], OWNER, KEY, 'READ_ACP', true],
    ['a grant to another key', [{ grantee: key, permission: 'READ' }], OWNER, 'EKSOMEONEELSE', 'READ', false],
    // an object writer's own FULL_CONTROL line adds nothing: its rights follow the owner and role rules
    ['the resource owner’s own line', expandAcl('private', KEY, OWNER), KEY, KEY, 'READ', false],
  ])('%s', (_n, grants, owner, caller, permission, want) => {
    expect(grantsAllow(grants, caller, permission, owner)).toBe(want);
  });
});
