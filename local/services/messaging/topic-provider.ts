/**
 * Providers for `AWS::SNS::Topic` (with its inline `Subscription` list) and
 * `AWS::SNS::Subscription` on the embedded fauxqs. `Ref` of a topic is its ARN; `Fn::GetAtt` gives
 * TopicArn and TopicName. `Ref` of a subscription is its ARN.
 *
 * fauxqs delivers only to SQS subscribers. Every other supported protocol is served by an internal
 * SQS queue (`wims-sns-<hash>`) subscribed to the topic with the same filter policy, and a drainer
 * that long-polls it: `email` and `email-json` messages are appended to the engine's outbox,
 * `<outboxDir>/<topicName>.jsonl`, one JSON line per message
 * `{to, subject, message, topicArn, messageId, timestamp}` (for `email-json`, `message` is the
 * whole JSON notification, as the recipient would get it); `lambda` subscriptions invoke the
 * function asynchronously with the Lambda SNS event, through the runtime's senders. A delivery
 * that fails is tried again after 5 s (the internal queue's visibility timeout).
 *
 * DURABILITY: a message stays on the internal queue (fauxqs persists it, see engine.ts) until its
 * delivery succeeded, so a SIGKILL redelivers it after the restart (at least once, as SNS).
 *
 * LIMITATIONS: http, https, sms, application and firehose subscriptions are rejected. No confirmation step: e-mail subscriptions are active at once.
 * RawMessageDelivery applies to SQS subscribers only; a subscription's RedrivePolicy is stored but
 * never used (local deliveries retry instead of failing permanently). Topic Tags, KmsMasterKeyId,
 * DataProtectionPolicy, DeliveryStatusLogging, SignatureVersion, TracingConfig and
 * FifoThroughputScope, and a subscription's DeliveryPolicy, Region and SubscriptionRoleArn, are
 * accepted and ignored; ArchivePolicy and ReplayPolicy are rejected.
 */
import { createHash } from 'node:crypto';
import { appendFile, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SNSEvent } from 'aws-lambda';
import type { Json } from '../../template/parse.js';
import type { DeployedResource, ResolvedResource, ResourceProvider, RuntimeContext } from '../provider.js';
import { localClientConfig } from '../../net.js';
import {
  ResourcePropertyError,
  checkProperties,
  expectArray,
  expectBoolean,
  expectObject,
  expectString,
  resourceName,
  where,
} from '../cfn-properties.js';
import { SqsPoller } from '../sources/sqs-poller.js';
import type { TargetSender } from '../targets/sender.js';
import type { Messaging } from './engine.js';
import { SNS_DELIVERY_QUEUE_PREFIX } from './metering.js';

/** The SNS notification JSON that SNS puts in an SQS message body (not raw delivery). */
export interface SnsEnvelope {
  Type: string;
  MessageId: string;
  TopicArn: string;
  Subject?: string;
  Message: string;
  Timestamp: string;
  MessageAttributes?: Record<string, { Type: string; Value: string }>;
  SignatureVersion: string;
  Signature: string;
  SigningCertURL: string;
  UnsubscribeURL: string;
}

/** One e-mail in the local outbox. */
export interface OutboxEntry {
  /** The subscription's e-mail address. */
  to: string;
  subject: string | null;
  message: string;
  topicArn: string;
  messageId: string;
  /** ISO-8601 publish time. */
  timestamp: string;
}

/** Messaging as the SNS providers need it. */
type MessagingEndpoint = Pick<Messaging, 'endpoint' | 'outboxDir' | 'meter'>;

type Sink = (envelope: SnsEnvelope) => Promise<void>;

const TOPIC_SUPPORTED = ['TopicName', 'Subscription', 'FifoTopic', 'ContentBasedDeduplication', 'DisplayName'];
const TOPIC_IGNORED = [
  'KmsMasterKeyId', 'DataProtectionPolicy', 'DeliveryStatusLogging', 'SignatureVersion', 'TracingConfig',
  'FifoThroughputScope',
];
const SUBSCRIPTION_SUPPORTED = [
  'TopicArn', 'Protocol', 'Endpoint', 'FilterPolicy', 'FilterPolicyScope', 'RawMessageDelivery', 'RedrivePolicy',
];
const SUBSCRIPTION_IGNORED = ['DeliveryPolicy', 'Region', 'SubscriptionRoleArn'];
/** Seconds before a message whose delivery failed is tried again. */
const SINK_RETRY_SECONDS = 5;

/** The Lambda event for one SNS notification, as SNS invokes a subscribed function. */
function toLambdaSnsEvent(envelope: SnsEnvelope, subscriptionArn: string): SNSEvent {
  return {
    Records: [{
      EventSource: 'aws:sns',
      EventVersion: '1.0',
      EventSubscriptionArn: subscriptionArn,
      Sns: {
        Type: envelope.Type,
        MessageId: envelope.MessageId,
        TopicArn: envelope.TopicArn,
        Subject: envelope.Subject,
        Message: envelope.Message,
        Timestamp: envelope.Timestamp,
        SignatureVersion: envelope.SignatureVersion,
        Signature: envelope.Signature,
        SigningCertUrl: envelope.SigningCertURL,
        UnsubscribeUrl: envelope.UnsubscribeURL,
        MessageAttributes: envelope.MessageAttributes ?? {},
      },
    }],
  };
}

/** All e-mails in an outbox folder (`Messaging.outboxDir`), topic file by topic file, in delivery order. */
export async function readOutbox(dir: string): Promise<OutboxEntry[]> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((file) => file.endsWith('.jsonl')).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const entries: OutboxEntry[] = [];
  for (const file of files) {
    const text = await readFile(join(dir, file), 'utf8');
    for (const line of text.split('\n')) if (line.trim() !== '') entries.push(JSON.parse(line) as OutboxEntry);
  }
  return entries;
}

const topicNameOf = (topicArn: string): string => topicArn.slice(topicArn.lastIndexOf(':') + 1);

/** An SNS attribute value: policies are objects in templates and JSON strings in the API. */
function policyString(resource: ResolvedResource, name: string, value: Json): string {
  return typeof value === 'string' ? value : JSON.stringify(expectObject(value, where(resource, name)));
}

/**
 * Subscribes `endpoint` to the topic and returns the subscription ARN; protocols other than
 * `sqs` are served by an internal queue and a drainer (stopped through `context.onStop`).
 */
async function subscribe(
  messaging: MessagingEndpoint,
  senders: TargetSender,
  resource: ResolvedResource,
  context: RuntimeContext,
  subscription: { topicArn: string; protocol: string; endpoint: string; attributes: Record<string, string>; path: string },
): Promise<string> {
  const { topicArn, protocol, endpoint, attributes } = subscription;
  const sns = new SNSClient(localClientConfig(messaging.endpoint, context.region));
  try {
    if (protocol === 'sqs') {
      return await subscribeOnce(sns, topicArn, protocol, endpoint, attributes);
    }
    let deliver: (subscriptionArn: string) => Sink;
    if (protocol === 'email' || protocol === 'email-json') {
      const file = join(messaging.outboxDir, `${topicNameOf(topicArn)}.jsonl`);
      deliver = () => async (envelope) => {
        const entry: OutboxEntry = {
          to: endpoint,
          subject: envelope.Subject ?? null,
          message: protocol === 'email' ? envelope.Message : JSON.stringify(envelope),
          topicArn: envelope.TopicArn,
          messageId: envelope.MessageId,
          timestamp: envelope.Timestamp,
        };
        await appendFile(file, `${JSON.stringify(entry)}\n`);
        messaging.meter.emailDelivered();
      };
    } else if (protocol === 'lambda') {
      deliver = (subscriptionArn) => (envelope) => senders.deliver(endpoint, JSON.stringify(toLambdaSnsEvent(envelope, subscriptionArn)));
    } else {
      throw new ResourcePropertyError(
        `${where(resource, `${subscription.path}Protocol`)} "${protocol}" is not supported locally (sqs, email, email-json, lambda)`,
      );
    }
    // Filter policies apply to the internal queue's subscription just as to the real subscriber.
    const filter = Object.fromEntries(Object.entries(attributes).filter(([name]) => name.startsWith('FilterPolicy')));
    const sqs = new SQSClient(localClientConfig(messaging.endpoint, context.region));
    try {
      const queueName = `${SNS_DELIVERY_QUEUE_PREFIX}${createHash('sha256').update(`${topicArn}|${protocol}|${endpoint}`).digest('hex').slice(0, 24)}`;
      const { QueueUrl: queueUrl } = await sqs.send(new CreateQueueCommand({
        QueueName: queueName, Attributes: { VisibilityTimeout: String(SINK_RETRY_SECONDS) },
      }));
      const { Attributes: queue } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
      if (queueUrl === undefined || queue?.QueueArn === undefined) throw new Error(`fauxqs returned no URL or ARN for ${queueName}`);
      const subscriptionArn = await subscribeOnce(sns, topicArn, 'sqs', queue.QueueArn, filter);
      const sink = deliver(subscriptionArn);
      const log = (message: string): void => context.log('sns', `${resource.logicalId} ${protocol} ${endpoint}: ${message}`);
      const poller = new SqsPoller({
        queueArn: queue.QueueArn,
        endpoint: messaging.endpoint,
        region: context.region,
        batchSize: 10,
        pollers: 1,
        log,
        process: async (records) => {
          const failed: string[] = [];
          for (const record of records) {
            try {
              await sink(JSON.parse(record.body) as SnsEnvelope);
            } catch (error) {
              log(`delivery failed, retrying in ${SINK_RETRY_SECONDS} s: ${(error as Error).message}`);
              failed.push(record.messageId);
            }
          }
          return failed;
        },
      });
      await poller.start();
      context.onStop(() => poller.stop());
      return subscriptionArn;
    } finally {
      sqs.destroy();
    }
  } finally {
    sns.destroy();
  }
}

async function subscribeOnce(
  sns: SNSClient, topicArn: string, protocol: string, endpoint: string, attributes: Record<string, string>,
): Promise<string> {
  const { SubscriptionArn: arn } = await sns.send(new SubscribeCommand({
    TopicArn: topicArn, Protocol: protocol, Endpoint: endpoint, Attributes: attributes, ReturnSubscriptionArn: true,
  }));
  if (arn === undefined) throw new Error(`fauxqs returned no subscription ARN for ${protocol} ${endpoint} on ${topicArn}`);
  return arn;
}

/** Reads the subscription settings shared by inline and stand-alone subscriptions into SNS attributes. */
function subscriptionAttributes(resource: ResolvedResource): Record<string, string> {
  const p = resource.properties;
  const attributes: Record<string, string> = {};
  if (p.FilterPolicy !== undefined) attributes.FilterPolicy = policyString(resource, 'FilterPolicy', p.FilterPolicy);
  if (p.FilterPolicyScope !== undefined) attributes.FilterPolicyScope = expectString(p.FilterPolicyScope, where(resource, 'FilterPolicyScope'));
  if (p.RedrivePolicy !== undefined) attributes.RedrivePolicy = policyString(resource, 'RedrivePolicy', p.RedrivePolicy);
  if (p.RawMessageDelivery !== undefined) {
    attributes.RawMessageDelivery = String(expectBoolean(p.RawMessageDelivery, where(resource, 'RawMessageDelivery')));
  }
  return attributes;
}

/** The `AWS::SNS::Topic` provider for the embedded fauxqs. */
export function createTopicProvider(messaging: MessagingEndpoint, senders: TargetSender): ResourceProvider {
  return {
    type: 'AWS::SNS::Topic',
    async create(resource: ResolvedResource, context: RuntimeContext): Promise<DeployedResource> {
      checkProperties(resource, TOPIC_SUPPORTED, TOPIC_IGNORED, context);
      const p = resource.properties;
      const attributes: Record<string, string> = {};
      for (const name of ['FifoTopic', 'ContentBasedDeduplication']) {
        const value = p[name];
        if (value !== undefined) attributes[name] = String(expectBoolean(value, where(resource, name)));
      }
      if (p.DisplayName !== undefined) attributes.DisplayName = expectString(p.DisplayName, where(resource, 'DisplayName'));
      const topicName = resourceName(resource, 'TopicName', context.stackName, { suffix: attributes.FifoTopic === 'true' ? '.fifo' : '' });

      const sns = new SNSClient(localClientConfig(messaging.endpoint, context.region));
      let topicArn: string | undefined;
      try {
        topicArn = (await sns.send(new CreateTopicCommand({ Name: topicName, Attributes: attributes }))).TopicArn;
      } catch (error) {
        throw new Error(`${resource.logicalId} (AWS::SNS::Topic): CreateTopic ${topicName} failed: ${(error as Error).message}`, { cause: error });
      } finally {
        sns.destroy();
      }
      if (topicArn === undefined) throw new Error(`${resource.logicalId} (AWS::SNS::Topic): fauxqs returned no ARN for ${topicName}`);

      const inline = p.Subscription === undefined ? [] : expectArray(p.Subscription, where(resource, 'Subscription'));
      for (const [i, element] of inline.entries()) {
        const path = `Subscription[${i}].`;
        const item = expectObject(element, where(resource, `Subscription[${i}]`));
        await subscribe(messaging, senders, resource, context, {
          topicArn,
          protocol: expectString(item.Protocol, where(resource, `${path}Protocol`)),
          endpoint: expectString(item.Endpoint, where(resource, `${path}Endpoint`)),
          attributes: {},
          path,
        });
      }
      context.progress('sns', `created topic ${topicName}`);
      return { physicalId: topicArn, attributes: { TopicArn: topicArn, TopicName: topicName } };
    },
  };
}

/** The `AWS::SNS::Subscription` provider for the embedded fauxqs. */
export function createSubscriptionProvider(messaging: MessagingEndpoint, senders: TargetSender): ResourceProvider {
  return {
    type: 'AWS::SNS::Subscription',
    async create(resource: ResolvedResource, context: RuntimeContext): Promise<DeployedResource> {
      checkProperties(resource, SUBSCRIPTION_SUPPORTED, SUBSCRIPTION_IGNORED, context);
      const p = resource.properties;
      const subscriptionArn = await subscribe(messaging, senders, resource, context, {
        topicArn: expectString(p.TopicArn, where(resource, 'TopicArn')),
        protocol: expectString(p.Protocol, where(resource, 'Protocol')),
        endpoint: expectString(p.Endpoint, where(resource, 'Endpoint')),
        attributes: subscriptionAttributes(resource),
        path: '',
      });
      return { physicalId: subscriptionArn, attributes: {} };
    },
  };
}
