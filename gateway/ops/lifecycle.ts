import type { LifecycleRule } from '../../metadata/lifecycle-rules.js';
import { LIFECYCLE_CONFIG_KIND as LIFECYCLE_KIND } from '../../metadata/lifecycle-runner.js';
import type { HandlerTable } from '../context.js';
import { configDocumentHandlers } from './bucket-config-doc.js';
import { lifecycleConfigurationXml, parseLifecycleConfiguration } from '../lifecycle-xml.js';

/** Put/Get/DeleteBucketLifecycle(Configuration); the rules are applied by metadata/lifecycle-runner.ts. */

export const lifecycleHandlers: HandlerTable = configDocumentHandlers<LifecycleRule[]>({
  kind: LIFECYCLE_KIND,
  operations: ['PutBucketLifecycleConfiguration', 'GetBucketLifecycleConfiguration', 'DeleteBucketLifecycle'],
  parse: parseLifecycleConfiguration,
  render: (rules) => ({ root: 'LifecycleConfiguration', value: lifecycleConfigurationXml(rules) }),
  missing: 'NoSuchLifecycleConfiguration',
});
