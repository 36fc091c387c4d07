/**
 * Providers for `AWS::SQS::Queue` (CreateQueue on the embedded fauxqs) and `AWS::SQS::QueuePolicy`.
 * `Ref` of a queue is its URL; `Fn::GetAtt` gives Arn, QueueName and QueueUrl.
 *
 * LIMITATIONS: Tags and the encryption settings (KmsMasterKeyId, KmsDataKeyReusePeriodSeconds,
 * SqsManagedSseEnabled) are accepted and ignored. `AWS::SQS::QueuePolicy` (and
 * `AWS::SNS::TopicPolicy`) are accepted as no-ops: the local runtime enforces no resource policies.
 * FIFO high-throughput settings (DeduplicationScope, FifoThroughputLimit) are accepted and ignored.
 * The ARN's account is 000000000000.
 *
 * DURABILITY: queues and their messages are fauxqs's, in `<stateDir>/messaging/fauxqs.db` (see
 * ./engine.ts: committed before each answer, synchronous FULL, so they survive a SIGKILL and a
 * power loss); a restart creates no queue twice and keeps what they hold. A kept queue whose
 * attributes were changed since (SetQueueAttributes) gets the template's again, as a deploy of the
 * template would set them.
 */
import { CreateQueueCommand, GetQueueAttributesCommand, GetQueueUrlCommand, SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Json } from '../../template/parse.js';
import type { DeployedResource, ResolvedResource, ResourceProvider, RuntimeContext } from '../provider.js';
import { localClientConfig } from '../../net.js';
import {
  checkProperties,
  expectBoolean,
  expectNumber,
  expectObject,
  resourceName,
  where,
} from '../cfn-properties.js';
import type { Messaging } from './engine.js';

/** Properties that map one-to-one onto numeric queue attributes. */
const NUMERIC_ATTRIBUTES = [
  'VisibilityTimeout', 'MessageRetentionPeriod', 'DelaySeconds', 'ReceiveMessageWaitTimeSeconds', 'MaximumMessageSize',
];
/** Properties that hold a JSON policy: an object in templates, a JSON string in the SQS API. */
const JSON_ATTRIBUTES = ['RedrivePolicy', 'RedriveAllowPolicy'];
const SUPPORTED = ['QueueName', 'FifoQueue', 'ContentBasedDeduplication', ...NUMERIC_ATTRIBUTES, ...JSON_ATTRIBUTES];
const IGNORED = [
  'KmsMasterKeyId', 'KmsDataKeyReusePeriodSeconds', 'SqsManagedSseEnabled', 'DeduplicationScope', 'FifoThroughputLimit',
];

/** A policy property as the JSON string the API wants; `maxReceiveCount` becomes a number even if given as a string. */
function policyAttribute(resource: ResolvedResource, name: string, value: Json): string {
  if (typeof value === 'string') return value;
  const policy = expectObject(value, where(resource, name));
  if (policy.maxReceiveCount !== undefined) {
    return JSON.stringify({ ...policy, maxReceiveCount: expectNumber(policy.maxReceiveCount, where(resource, `${name}.maxReceiveCount`)) });
  }
  return JSON.stringify(policy);
}

/** The CreateQueue attributes for the queue's CloudFormation properties. */
function queueAttributes(resource: ResolvedResource): Record<string, string> {
  const attributes: Record<string, string> = {};
  const p = resource.properties;
  for (const name of NUMERIC_ATTRIBUTES) {
    const value = p[name];
    if (value !== undefined) attributes[name] = String(expectNumber(value, where(resource, name)));
  }
  for (const name of JSON_ATTRIBUTES) {
    const value = p[name];
    if (value !== undefined) attributes[name] = policyAttribute(resource, name, value);
  }
  for (const name of ['FifoQueue', 'ContentBasedDeduplication']) {
    const value = p[name];
    if (value !== undefined) attributes[name] = String(expectBoolean(value, where(resource, name)));
  }
  return attributes;
}

/** Sets a kept queue's attributes back to the template's (FifoQueue cannot change, and is the same by its name). */
async function keepQueue(
  client: SQSClient, queueName: string, attributes: Record<string, string>, context: RuntimeContext, resource: ResolvedResource,
): Promise<{ QueueUrl: string }> {
  const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: queueName }));
  if (QueueUrl === undefined) throw new Error(`${resource.logicalId} (AWS::SQS::Queue): fauxqs returned no URL for ${queueName}`);
  const { FifoQueue: _fifo, ...settable } = attributes;
  await client.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: settable }));
  context.log('sqs', `${resource.logicalId}: kept queue ${queueName} had other attributes; set back to the template's`);
  return { QueueUrl };
}

/** The `AWS::SQS::Queue` provider for the embedded fauxqs. */
export function createQueueProvider(messaging: Pick<Messaging, 'endpoint'>): ResourceProvider {
  return {
    type: 'AWS::SQS::Queue',
    async create(resource: ResolvedResource, context: RuntimeContext): Promise<DeployedResource> {
      checkProperties(resource, SUPPORTED, IGNORED, context);
      const attributes = queueAttributes(resource);
      const queueName = resourceName(resource, 'QueueName', context.stackName, { suffix: attributes.FifoQueue === 'true' ? '.fifo' : '' });
      const client = new SQSClient(localClientConfig(messaging.endpoint, context.region));
      try {
        const { QueueUrl: queueUrl } = await client.send(new CreateQueueCommand({ QueueName: queueName, Attributes: attributes }))
          .catch(async (error: Error) => {
            // A queue kept from an earlier run whose attributes were changed since: the template's apply, as a deploy applies them.
            if (/QueueAlreadyExists|QueueNameExists/.test(error.name)) return keepQueue(client, queueName, attributes, context, resource);
            throw new Error(`${resource.logicalId} (AWS::SQS::Queue): CreateQueue ${queueName} failed: ${error.message}`, { cause: error });
          });
        const { Attributes: created } = await client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
        if (queueUrl === undefined || created?.QueueArn === undefined) {
          throw new Error(`${resource.logicalId} (AWS::SQS::Queue): fauxqs returned no URL or ARN for ${queueName}`);
        }
        context.progress('sqs', `created queue ${queueName}`);
        return { physicalId: queueUrl, attributes: { Arn: created.QueueArn, QueueName: queueName, QueueUrl: queueUrl } };
      } finally {
        client.destroy();
      }
    },
  };
}

/**
 * A provider that accepts a resource-policy type (`AWS::SQS::QueuePolicy`, `AWS::SNS::TopicPolicy`)
 * without doing anything: nothing local enforces resource policies. `Ref` gives a stable id.
 */
export function createPolicyProvider(type: string): ResourceProvider {
  return {
    type,
    async create(resource: ResolvedResource, context: RuntimeContext): Promise<DeployedResource> {
      context.notEmulated(resource.logicalId, ['resource policy']);
      return { physicalId: `${context.stackName}-${resource.logicalId}`, attributes: {} };
    },
  };
}
