import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { freePort, localClientConfig, waitForPort, waitUntil } from '../../../local/net.js';
import type { DeployedResource, ResolvedResource, RuntimeContext } from '../../../local/services/provider.js';
import { MESSAGING_ACCOUNT_ID, startMessaging, type Messaging } from '../../../local/services/messaging/engine.js';
import { createPolicyProvider, createQueueProvider } from '../../../local/services/messaging/queue-provider.js';
import { messagingProviders } from '../../../local/services/messaging/providers.js';
import {
  createSubscriptionProvider,
  createTopicProvider,
  readOutbox,
  type SnsEnvelope,
} from '../../../local/services/messaging/topic-provider.js';
import type { SNSEvent } from 'aws-lambda';
import { lambdaSender } from '../../../local/services/targets/lambda.js';
import { TargetSenders } from '../../../local/services/targets/registry.js';
import { testRuntimeContext } from '../../helpers/runtime-context.js';

const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';

function resource(logicalId: string, type: string, properties: ResolvedResource['properties']): ResolvedResource {
  return { logicalId, type, properties, metadata: {} };
}

describe('SQS and SNS on fauxqs', () => {
  let messaging: Messaging;
  let sqs: SQSClient;
  let sns: SNSClient;
  let stateDir: string;
  const stopSteps: Array<() => Promise<void> | void> = [];
  /** Functions invoked through SNS lambda subscriptions; the first invocation of each is throttled. */
  const invoked: Array<{ functionArn: string; event: SNSEvent }> = [];
  const throttled = new Set<string>();
  const senders = new TargetSenders({
    lambda: lambdaSender({
      invoke: async (functionArn, event) => {
        if (!throttled.has(functionArn)) {
          throttled.add(functionArn);
          throw Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' });
        }
        invoked.push({ functionArn, event: event as SNSEvent });
        return { ok: true, payload: null, durationMs: 0 };
      },
    }),
  });
  const context = (): RuntimeContext => ({
    ...testRuntimeContext({ region: REGION, accountId: ACCOUNT, stackName: 'wims-test', stateDir }),
    onStop: (step) => void stopSteps.push(step),
  });

  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'wims-messaging-'));
    messaging = await startMessaging({ region: REGION, accountId: ACCOUNT, stateDir });
    console.log(`fauxqs listened after ${messaging.startupMs} ms`);
    sqs = new SQSClient(localClientConfig(messaging.endpoint, REGION));
    sns = new SNSClient(localClientConfig(messaging.endpoint, REGION));
  });

  afterAll(async () => {
    for (const step of stopSteps.reverse()) await step();
    sqs?.destroy();
    sns?.destroy();
    await messaging?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  const queues = () => createQueueProvider(messaging);

  it('registers one provider per SQS and SNS resource type', () => {
    expect(messagingProviders(messaging, senders).map((provider) => provider.type)).toEqual([
      'AWS::SQS::Queue', 'AWS::SQS::QueuePolicy', 'AWS::SNS::Topic', 'AWS::SNS::Subscription', 'AWS::SNS::TopicPolicy',
    ]);
  });

  /** Receives from a queue until a message arrives (or the deadline passes). */
  async function receiveOne(queueUrl: string, visibilityTimeout?: number) {
    return waitUntil(async () => {
      const { Messages } = await sqs.send(new ReceiveMessageCommand({
        QueueUrl: queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 1, VisibilityTimeout: visibilityTimeout,
      }));
      return Messages?.[0];
    }, { description: `a message on ${queueUrl}` });
  }

  it("keeps a queue of an earlier run whose attributes changed since, with the template's attributes again", async () => {
    // Prepare: the queue exists, and an operator changed its visibility timeout.
    const first = await queues().create(resource('Kept', 'AWS::SQS::Queue', { QueueName: 'kept', VisibilityTimeout: 300 }), context());
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: first.physicalId, Attributes: { VisibilityTimeout: '5' } }));
    const logged: string[] = [];

    // Act
    const again = await queues().create(resource('Kept', 'AWS::SQS::Queue', { QueueName: 'kept', VisibilityTimeout: 300 }), {
      ...context(), log: (_component, message) => void logged.push(message),
    });

    // Assess
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: again.physicalId, AttributeNames: ['VisibilityTimeout'] }));
    expect(again.physicalId).toBe(first.physicalId);
    expect(Attributes?.VisibilityTimeout).toBe('300');
    expect(logged).toEqual(["Kept: kept queue kept had other attributes; set back to the template's"]);
  });

  it('creates queues with CloudFormation attributes and moves a message to the DLQ after maxReceiveCount receives', async () => {
    const dlq = await queues().create(resource('OrdersDlq', 'AWS::SQS::Queue', { MessageRetentionPeriod: 1209600 }), context());
    const queue = await queues().create(resource('Orders', 'AWS::SQS::Queue', {
      QueueName: 'orders',
      VisibilityTimeout: '30',
      DelaySeconds: 0,
      ReceiveMessageWaitTimeSeconds: 1,
      RedrivePolicy: { deadLetterTargetArn: dlq.attributes.Arn ?? '', maxReceiveCount: '2' },
      Tags: [{ Key: 'app', Value: 'wims' }],
    }), context());

    expect(dlq.attributes.QueueName).toBe('wims-test-OrdersDlq');
    expect(queue).toEqual({
      physicalId: queue.attributes.QueueUrl,
      attributes: {
        Arn: `arn:aws:sqs:${REGION}:${MESSAGING_ACCOUNT_ID}:orders`,
        QueueName: 'orders',
        QueueUrl: expect.stringMatching(/\/orders$/),
      },
    });
    const { Attributes: attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue.physicalId, AttributeNames: ['All'] }));
    expect(attributes?.VisibilityTimeout).toBe('30');
    expect(JSON.parse(attributes?.RedrivePolicy ?? '{}')).toEqual({ deadLetterTargetArn: dlq.attributes.Arn, maxReceiveCount: 2 });

    await sqs.send(new SendMessageCommand({ QueueUrl: queue.physicalId, MessageBody: 'poison' }));
    // Two receives without a delete (visibility 0 makes it visible again at once) ...
    for (let receive = 1; receive <= 2; receive++) {
      const message = await receiveOne(queue.physicalId, 0);
      expect(message.Body).toBe('poison');
    }
    // ... and the next receive moves it to the DLQ instead.
    const { Messages: third } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.physicalId, VisibilityTimeout: 0 }));
    expect(third ?? []).toEqual([]);
    const deadLetter = await receiveOne(dlq.physicalId);
    expect(deadLetter.Body).toBe('poison');
  });

  it('creates FIFO queues with a generated .fifo name and accepts queue policies', async () => {
    const fifo = await queues().create(resource('Steps', 'AWS::SQS::Queue', { FifoQueue: true, ContentBasedDeduplication: 'true' }), context());
    expect(fifo.attributes.QueueName).toBe('wims-test-Steps.fifo');
    const { Attributes: attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: fifo.physicalId, AttributeNames: ['All'] }));
    expect(attributes).toMatchObject({ FifoQueue: 'true', ContentBasedDeduplication: 'true' });

    const policy = await createPolicyProvider('AWS::SQS::QueuePolicy').create(
      resource('StepsPolicy', 'AWS::SQS::QueuePolicy', { Queues: [fifo.physicalId], PolicyDocument: {} }), context(),
    );
    expect(policy.physicalId).toBe('wims-test-StepsPolicy');
    await expect(queues().create(resource('Odd', 'AWS::SQS::Queue', { Unknown: 1 }), context())).rejects.toThrow(
      'Odd (AWS::SQS::Queue) property Unknown is not supported by the local runtime',
    );
  });

  it('fans a topic out to SQS (with a filter policy) and to an e-mail outbox', async () => {
    const topic = await createTopicProvider(messaging, senders).create(resource('Alerts', 'AWS::SNS::Topic', {
      DisplayName: 'WIMS alerts',
      Subscription: [{ Protocol: 'email', Endpoint: 'ops@example.com' }],
    }), context());
    expect(topic).toEqual({
      physicalId: `arn:aws:sns:${REGION}:${MESSAGING_ACCOUNT_ID}:wims-test-Alerts`,
      attributes: { TopicArn: `arn:aws:sns:${REGION}:${MESSAGING_ACCOUNT_ID}:wims-test-Alerts`, TopicName: 'wims-test-Alerts' },
    });

    const queue = await queues().create(resource('AlertQueue', 'AWS::SQS::Queue', {}), context());
    const subscriptions = createSubscriptionProvider(messaging, senders);
    const toQueue = await subscriptions.create(resource('AlertQueueSubscription', 'AWS::SNS::Subscription', {
      TopicArn: topic.physicalId, Protocol: 'sqs', Endpoint: queue.attributes.Arn ?? '',
      FilterPolicy: { severity: ['high'] }, RawMessageDelivery: 'true',
    }), context());
    expect(toQueue.physicalId).toMatch(/^arn:aws:sns:.*:wims-test-Alerts:/);
    await subscriptions.create(resource('AuditMail', 'AWS::SNS::Subscription', {
      TopicArn: topic.physicalId, Protocol: 'email-json', Endpoint: 'audit@example.com',
    }), context());

    const low = await sns.send(new PublishCommand({
      TopicArn: topic.physicalId, Subject: 'Disk', Message: 'disk at 70%',
      MessageAttributes: { severity: { DataType: 'String', StringValue: 'low' } },
    }));
    // Published with the stack's account in the ARN, as a template's !Sub would build it.
    const high = await sns.send(new PublishCommand({
      TopicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:wims-test-Alerts`, Subject: 'Orders stuck', Message: 'order o-1 stuck',
      MessageAttributes: { severity: { DataType: 'String', StringValue: 'high' } },
    }));

    expect(messaging.outboxDir).toBe(join(stateDir, 'outbox'));
    const outbox = await waitUntil(async () => {
      const entries = await readOutbox(messaging.outboxDir);
      return entries.length >= 4 && entries;
    }, { description: 'four e-mails in the outbox' });
    const forOps = outbox.filter((entry) => entry.to === 'ops@example.com');
    expect(forOps).toEqual([
      { to: 'ops@example.com', subject: 'Disk', message: 'disk at 70%', topicArn: topic.physicalId, messageId: low.MessageId, timestamp: expect.any(String) },
      { to: 'ops@example.com', subject: 'Orders stuck', message: 'order o-1 stuck', topicArn: topic.physicalId, messageId: high.MessageId, timestamp: expect.any(String) },
    ]);
    const forAudit = outbox.filter((entry) => entry.to === 'audit@example.com');
    expect(forAudit.map((entry) => (JSON.parse(entry.message) as SnsEnvelope).Message)).toEqual(['disk at 70%', 'order o-1 stuck']);

    // Only the high-severity message passes the queue's filter policy; raw delivery keeps the body as published.
    const message = await receiveOne(queue.physicalId);
    expect(message.Body).toBe('order o-1 stuck');
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queue.physicalId, ReceiptHandle: message.ReceiptHandle }));
    const { Messages: rest } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.physicalId }));
    expect(rest ?? []).toEqual([]);
  });

  it('invokes lambda subscribers through the senders, again after a failed delivery, and rejects protocols it cannot serve', async () => {
    const topics = createTopicProvider(messaging, senders);
    const functionArn = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:notify`;
    const topic: DeployedResource = await topics.create(resource('Events', 'AWS::SNS::Topic', {
      TopicName: 'events', Subscription: [{ Protocol: 'lambda', Endpoint: functionArn }],
    }), context());
    await sns.send(new PublishCommand({ TopicArn: topic.physicalId, Message: '{"orderId":"o-9"}' }));
    // The first invocation is throttled; the message becomes visible again after the internal queue's 5 s.
    await waitUntil(() => invoked.length > 0, { description: 'the Lambda invocation', timeoutMs: 15_000 });
    expect(invoked[0]?.functionArn).toBe(functionArn);
    expect(invoked[0]?.event).toEqual({
      Records: [{
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: expect.stringMatching(/^arn:aws:sns:.*:events:/),
        Sns: {
          Type: 'Notification',
          MessageId: expect.any(String),
          TopicArn: topic.physicalId,
          Subject: undefined,
          Message: '{"orderId":"o-9"}',
          Timestamp: expect.any(String),
          SignatureVersion: '1',
          Signature: expect.any(String),
          SigningCertUrl: expect.any(String),
          UnsubscribeUrl: expect.stringContaining('Action=Unsubscribe'),
          MessageAttributes: {},
        },
      }],
    });

    expect(throttled).toEqual(new Set([functionArn]));
    expect(invoked).toHaveLength(1);
    await expect(createSubscriptionProvider(messaging, senders).create(resource('Web', 'AWS::SNS::Subscription', {
      TopicArn: topic.physicalId, Protocol: 'https', Endpoint: 'https://example.com/hook',
    }), context())).rejects.toThrow('Web (AWS::SNS::Subscription) property Protocol "https" is not supported locally');
  }, 20_000);
});

describe('messaging without a state folder', () => {
  it('listens on 127.0.0.1, which waitForPort sees; a free port times out with a clear error', async () => {
    const messaging = await startMessaging({ region: REGION, accountId: MESSAGING_ACCOUNT_ID });
    try {
      expect(messaging.endpoint).toBe(`http://127.0.0.1:${messaging.port}`);
      await waitForPort(messaging.port, { timeoutMs: 2000 });
      const unused = await freePort();
      await expect(waitForPort(unused, { timeoutMs: 100 })).rejects.toThrow(`Timed out after 100 ms waiting for a listener on 127.0.0.1:${unused}`);
    } finally {
      await messaging.stop();
    }
  });

  it('keeps the outbox in a temporary folder that stop() removes', async () => {
    const messaging = await startMessaging({ region: REGION, accountId: MESSAGING_ACCOUNT_ID });
    try {
      expect(existsSync(messaging.outboxDir)).toBe(true);
      expect(messaging.outboxDir.startsWith(tmpdir())).toBe(true);
    } finally {
      await messaging.stop();
    }
    expect(existsSync(messaging.outboxDir)).toBe(false);
  });
});
