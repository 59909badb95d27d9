/** LifecycleConfiguration parsing: accepted forms round-trip, refused forms get S3's codes. */
import { describe, expect, it } from 'vitest';
import { lifecycleConfigurationXml, parseLifecycleConfiguration } from '../../gateway/lifecycle-xml.js';
import { parseXml, renderXml } from '../../gateway/xml.js';

const doc = (rules: string) => parseXml(`<LifecycleConfiguration>${rules}</LifecycleConfiguration>`);
const rule = (inner: string) => `<Rule><Status>Enabled</Status>${inner}</Rule>`;

describe('parseLifecycleConfiguration', () => {
  it.each([
    ['a legacy Prefix', rule('<Prefix>a/</Prefix><Expiration><Days>3</Days></Expiration>'), { enabled: true, filter: { prefix: 'a/' }, legacyPrefix: true, expiration: { days: 3 } }],
    ['an empty Filter', rule('<Filter/><NoncurrentVersionExpiration><NoncurrentDays>4</NoncurrentDays></NoncurrentVersionExpiration>'), { enabled: true, filter: {}, noncurrentExpiration: { days: 4 } }],
    ['a Tag filter', rule('<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Expiration><Date>2030-01-01T00:00:00Z</Date></Expiration>'), { enabled: true, filter: { tags: { k: 'v' } }, expiration: { date: Date.parse('2030-01-01T00:00:00Z') } }],
    ['an And of prefix and size', rule('<Filter><And><Prefix>p</Prefix><ObjectSizeGreaterThan>100</ObjectSizeGreaterThan></And></Filter><AbortIncompleteMultipartUpload><DaysAfterInitiation>7</DaysAfterInitiation></AbortIncompleteMultipartUpload>'), { enabled: true, filter: { prefix: 'p', sizeGreaterThan: 100 }, abortIncompleteMultipartUploadDays: 7 }],
  ])('reads %s, and renders it back to the same rule', (_n, xml, want) => {
    const rules = parseLifecycleConfiguration(doc(xml));
    expect(rules).toEqual([want]);
    // GET renders what PUT stored: the rendered document reads back as the same rules
    const text = renderXml('LifecycleConfiguration', lifecycleConfigurationXml(rules));
    expect(parseLifecycleConfiguration(parseXml(text))).toEqual(rules);
  });

  it.each([
    ['no rules', '', 'MalformedXML'],
    ['a bad Status', '<Rule><Status>On</Status><Expiration><Days>1</Days></Expiration></Rule>', 'MalformedXML'],
    ['Days and Date together', rule('<Filter/><Expiration><Days>1</Days><Date>2030-01-01T00:00:00Z</Date></Expiration>'), 'MalformedXML'],
    ['negative days', rule('<Filter/><Expiration><Days>-1</Days></Expiration>'), 'InvalidArgument'],
    ['a Filter with two predicates outside And', rule('<Filter><Prefix>a</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Expiration><Days>1</Days></Expiration>'), 'MalformedXML'],
    ['an And with one predicate', rule('<Filter><And><Prefix>a</Prefix></And></Filter><Expiration><Days>1</Days></Expiration>'), 'MalformedXML'],
    ['Filter and Prefix together', rule('<Prefix>a</Prefix><Filter/><Expiration><Days>1</Days></Expiration>'), 'MalformedXML'],
    ['a NoncurrentVersionTransition', rule('<Filter/><NoncurrentVersionTransition><NoncurrentDays>1</NoncurrentDays><StorageClass>GLACIER</StorageClass></NoncurrentVersionTransition>'), 'NotImplemented'],
    ['an ID over 255 characters', `<Rule><ID>${'i'.repeat(256)}</ID><Status>Enabled</Status><Filter/><Expiration><Days>1</Days></Expiration></Rule>`, 'InvalidArgument'],
  ])('refuses %s', (_n, xml, code) => {
    expect(() => parseLifecycleConfiguration(doc(xml))).toThrow(expect.objectContaining({ code }));
  });
});
