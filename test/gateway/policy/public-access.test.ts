import { describe, expect, it } from 'vitest';
import { isPublicCannedAcl, parsePublicAccessBlock, publicAccessBlockXml, requestsPublicAcl } from '../../../gateway/policy/public-access.js';
import { S3Error } from '../../../gateway/errors.js';
import { parseXml } from '../../../gateway/xml.js';

const NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';
const parse = (xml: string) => parsePublicAccessBlock(parseXml(xml));
const none = { BlockPublicAcls: false, IgnorePublicAcls: false, BlockPublicPolicy: false, RestrictPublicBuckets: false };

describe('PublicAccessBlockConfiguration', () => {
  it.each([
    [`<PublicAccessBlockConfiguration ${NS}><BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>false</IgnorePublicAcls><BlockPublicPolicy>TRUE</BlockPublicPolicy><RestrictPublicBuckets>true</RestrictPublicBuckets></PublicAccessBlockConfiguration>`,
      { BlockPublicAcls: true, IgnorePublicAcls: false, BlockPublicPolicy: true, RestrictPublicBuckets: true }],
    [`<PublicAccessBlockConfiguration ${NS}><IgnorePublicAcls>true</IgnorePublicAcls></PublicAccessBlockConfiguration>`, { ...none, IgnorePublicAcls: true }],
    ['<PublicAccessBlockConfiguration></PublicAccessBlockConfiguration>', none],
  ])('%s', (xml, want) => {
    expect(parse(xml)).toEqual(want);
  });

  it.each([
    ['another root', '<Config><BlockPublicAcls>true</BlockPublicAcls></Config>'],
    ['an unknown setting', '<PublicAccessBlockConfiguration><BlockEverything>true</BlockEverything></PublicAccessBlockConfiguration>'],
    ['a value that is not a boolean', '<PublicAccessBlockConfiguration><BlockPublicAcls>yes</BlockPublicAcls></PublicAccessBlockConfiguration>'],
    ['a repeated setting', '<PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls><BlockPublicAcls>false</BlockPublicAcls></PublicAccessBlockConfiguration>'],
  ])('refuses %s with MalformedXML', (_n, xml) => {
    expect(() => parse(xml)).toThrow(expect.objectContaining({ code: 'MalformedXML' }) as S3Error);
  });

  it('renders all four settings in S3 order', () => {
    expect(Object.keys(publicAccessBlockXml({ ...none, RestrictPublicBuckets: true }))).toEqual(['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets']);
  });
});

describe('public ACLs', () => {
  it.each([
    ['public-read', true],
    ['public-read-write', true],
    ['authenticated-read', true],
    ['private', false],
    ['bucket-owner-full-control', false],
  ])('canned %s is public: %s', (acl, want) => {
    expect(isPublicCannedAcl(acl)).toBe(want);
  });

  it.each([
    [{ 'x-amz-acl': 'public-read' }, true],
    [{ 'x-amz-acl': 'private' }, false],
    [{ 'x-amz-grant-read': 'uri="http://acs.amazonaws.com/groups/global/AllUsers"' }, true],
    [{ 'x-amz-grant-write': 'uri="http://acs.amazonaws.com/groups/global/AuthenticatedUsers"' }, true],
    [{ 'x-amz-grant-read': 'id="EKALICE"' }, false],
    [{}, false],
  ])('%j asks for a public ACL: %s', (headers, want) => {
    expect(requestsPublicAcl(headers)).toBe(want);
  });
});
