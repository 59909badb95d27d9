/**
 * Bucket names for `erne storage create` without -n: two plain words and four random hex
 * digits (`calm-harbor-3f9a`), lower case, valid S3 names people can say aloud. The caller
 * tries again with another when the name is taken.
 */
import { randomBytes, randomInt } from 'node:crypto';

const FIRST = ['amber', 'brisk', 'calm', 'clear', 'bold', 'bright', 'cool', 'deep', 'eager', 'fair', 'gentle', 'green', 'keen', 'kind', 'late', 'lively', 'lucky', 'mild', 'misty', 'noble', 'proud', 'quick', 'quiet', 'rapid', 'silent', 'silver', 'steady', 'still', 'sunny', 'swift', 'warm', 'wild'];
const SECOND = ['brook', 'cedar', 'cliff', 'cloud', 'coast', 'creek', 'delta', 'dune', 'field', 'fjord', 'forest', 'garden', 'glade', 'grove', 'harbor', 'heath', 'hill', 'island', 'lake', 'meadow', 'moor', 'orchard', 'peak', 'pine', 'prairie', 'reef', 'ridge', 'river', 'shore', 'stone', 'valley', 'willow'];

export function generateBucketName(): string {
  return `${FIRST[randomInt(FIRST.length)]}-${SECOND[randomInt(SECOND.length)]}-${randomBytes(2).toString('hex')}`;
}
