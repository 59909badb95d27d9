import { S3Error } from '../errors.js';
import { parseVersionId } from '../../metadata/version-id.js';

/** ?versionId=: 'null' or an id Erne could have made; InvalidArgument otherwise (as S3) */
export function versionIdParam(q: URLSearchParams, name = 'versionId'): string | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  return checkVersionId(v, name);
}

export function checkVersionId(v: string, name = 'versionId'): string {
  if (v === 'null' || parseVersionId(v)) return v;
  throw new S3Error('InvalidArgument', 'Invalid version id specified', { ArgumentName: name, ArgumentValue: v });
}
