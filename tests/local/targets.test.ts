/**
 * The senders, through their registry: each target service by ARN (SQS and SNS on a real fauxqs,
 * Lambda and Step Functions through recording stand-ins, CloudWatch Logs files, event buses) and
 * how failures are classified for the callers' retry policies.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import { localClientConfig, waitUntil } from '../../local/net.js';
import { EventBridgeService } from '../../local/services/events/bus.js';
import { LogStore } from '../../local/services/logs/store.js';
import { MESSAGING_ACCOUNT_ID, startMessaging, type Messaging } from '../../local/services/messaging/engine.js';
import { TargetError } from '../../local/services/targets/error.js';
import { eventBusSender } from '../../local/services/targets/event-bus.js';
import { lambdaSender } from '../../local/services/targets/lambda.js';
import { logGroupSender } from '../../local/services/targets/logs.js';
import { TargetSenders } from '../../local/services/targets/registry.js';
import { snsSender } from '../../local/services/targets/sns.js';
import { sqsSender } from '../../local/services/targets/sqs.js';
import { stateMachineSender } from '../../local/services/targets/states.js';

const region = 'us-east-1';
const accountId = MESSAGING_ACCOUNT_ID;

let messaging: Messaging;
let sqs: SQSClient;
let sns: SNSClient;
let logsDir: string;
let events: EventBridgeService;
let senders: TargetSenders;
const lambdaCalls: Array<[string, unknown]> = [];
const executions: Array<[string, unknown]> = [];

beforeAll(async () => {
  messaging = await startMessaging({ region, accountId });
  sqs = new SQSClient(localClientConfig(messaging.endpoint, region));
  sns = new SNSClient(localClientConfig(messaging.endpoint, region));
  logsDir = mkdtempSync(join(tmpdir(), 'wims-targets-'));
  events = new EventBridgeService({ region, accountId, stateDir: undefined });
  senders = new TargetSenders({
    sqs: sqsSender(sqs),
    sns: snsSender(sns),
    logs: logGroupSender(new LogStore(logsDir)),
    lambda: lambdaSender({
      invoke: async (arn, payload) => {
        if (arn.endsWith(':busy')) throw Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' });
        if (arn.endsWith(':missing')) throw Object.assign(new Error('Function not found'), { name: 'ResourceNotFoundException' });
        lambdaCalls.push([arn, payload]);
        return { ok: true, payload: null, durationMs: 0 };
      },
    }),
    states: stateMachineSender({ startExecution: async (arn, input) => void executions.push([arn, input]) }),
    'event-bus': eventBusSender(events),
  });
  events.startDeliveries(senders);
});

afterAll(async () => {
  await events.stop();
  sqs.destroy();
  sns.destroy();
  await messaging.stop();
  rmSync(logsDir, { recursive: true, force: true });
});

async function createQueue(name: string, attributes: Record<string, string> = {}): Promise<{ url: string; arn: string }> {
  const { QueueUrl: url } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  if (url === undefined || Attributes?.QueueArn === undefined) throw new Error(`no queue ${name}`);
  return { url, arn: Attributes.QueueArn };
}

/** Receives (and deletes) until `count` messages arrived (deadline 10 s). */
async function receive(url: string, count: number): Promise<Message[]> {
  const messages: Message[] = [];
  await waitUntil(async () => {
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({
      QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'],
    }));
    messages.push(...Messages);
    // Deleted so that a FIFO queue releases the next message of the group.
    if (Messages.length > 0) {
      await sqs.send(new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: Messages.map((message, i) => ({ Id: String(i), ReceiptHandle: message.ReceiptHandle })),
      }));
    }
    return messages.length >= count;
  }, { description: `${count} message(s) on ${url}` });
  return messages;
}

describe('TargetSenders', () => {
  test('sends the body to an SQS queue found by its ARN, with message attributes', async () => {
    // Prepare
    const queue = await createQueue('targets-plain');

    // Act
    await senders.deliver(queue.arn, '{"orderId":"o-1"}', { messageAttributes: { ERROR_CODE: 'THROTTLING' } });

    // Assess
    const [message] = await receive(queue.url, 1);
    expect(message?.Body).toBe('{"orderId":"o-1"}');
    expect(message?.MessageAttributes?.ERROR_CODE?.StringValue).toBe('THROTTLING');
  });

  test('gives a FIFO queue the message group and a deduplication id', async () => {
    // Prepare
    const queue = await createQueue('targets-ordered.fifo', { FifoQueue: 'true' });

    // Act
    await senders.deliver(queue.arn, '"first"', { messageGroupId: 'g-1' });
    await senders.deliver(queue.arn, '"first"', { messageGroupId: 'g-1' });
    await senders.deliver(queue.arn, '"second"', { messageGroupId: 'g-1', deduplicationId: 'event-2' });

    // Assess: the repeated body was deduplicated by its hash
    const messages = await receive(queue.url, 2);
    expect(messages.map((message) => message.Body)).toEqual(['"first"', '"second"']);
  });

  test('publishes to an SNS topic', async () => {
    // Prepare
    const queue = await createQueue('targets-topic-subscriber');
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'targets-topic' }));
    await sns.send(new SubscribeCommand({
      TopicArn, Protocol: 'sqs', Endpoint: queue.arn, Attributes: { RawMessageDelivery: 'true' },
    }));

    // Act
    await senders.deliver(TopicArn ?? '', '"Low stock: MacGuffin"');

    // Assess
    const [message] = await receive(queue.url, 1);
    expect(message?.Body).toBe('"Low stock: MacGuffin"');
  });

  test('hands Lambda and Step Functions targets to their callbacks', async () => {
    // Prepare
    const functionArn = `arn:aws:lambda:${region}:${accountId}:function:notify`;
    const stateMachineArn = `arn:aws:states:${region}:${accountId}:stateMachine:orders`;

    // Act
    await senders.deliver(functionArn, '{"a":1}');
    await senders.deliver(stateMachineArn, '{"b":2}');

    // Assess
    expect(lambdaCalls).toContainEqual([functionArn, { a: 1 }]);
    expect(executions).toContainEqual([stateMachineArn, { b: 2 }]);
  });

  test('appends to the log group named by a log group ARN', async () => {
    // Act
    await senders.deliver(`arn:aws:logs:${region}:${accountId}:log-group:/aws/events/wims`, '{"id":"e-1"}');

    // Assess
    expect(readFileSync(join(logsDir, 'aws/events/wims.log'), 'utf8')).toBe('{"id":"e-1"}\n');
  });

  test('a log group ARN ending in :* (GetAtt Arn) delivers nothing, as on AWS', async () => {
    // Act
    const delivery = senders.deliver(`arn:aws:logs:${region}:${accountId}:log-group:/aws/events/wildcard:*`, '{"id":"e-2"}');

    // Assess
    await expect(delivery).rejects.toMatchObject({ code: 'NO_RESOURCE', retryable: false });
    expect(existsSync(join(logsDir, 'aws/events/wildcard.log'))).toBe(false);
  });

  test('puts on an event bus: a pipe body becomes the detail, a rule forwards the event', async () => {
    // Prepare
    const busArn = `arn:aws:events:${region}:${accountId}:event-bus/default`;
    const forwarded = { source: 'wims.test', 'detail-type': 'forwarded', detail: { n: 2 }, resources: ['r-1'] };

    // Act
    await senders.deliver(busArn, '{"n":1}', { eventBus: { Source: 'wims.cdc', DetailType: 'cdcEvent' } });
    await senders.deliver(busArn, JSON.stringify(forwarded));

    // Assess
    const put = events.events().map(({ event }) => [event.source, event['detail-type'], event.detail, event.resources]);
    expect(put).toEqual([
      ['wims.cdc', 'cdcEvent', { n: 1 }, []],
      ['wims.test', 'forwarded', { n: 2 }, ['r-1']],
    ]);
  });

  test.each([
    ['an unsupported service', `arn:aws:kinesis:${region}:${accountId}:stream/s`, 'INVALID_PARAMETER', false],
    ['a queue that does not exist', `arn:aws:sqs:${region}:${accountId}:no-such-queue`, 'NO_RESOURCE', false],
    ['a missing function', `arn:aws:lambda:${region}:${accountId}:function:missing`, 'NO_RESOURCE', false],
    ['a throttled function', `arn:aws:lambda:${region}:${accountId}:function:busy`, 'THROTTLING', true],
    ['a body that is not an event, for a bus', `arn:aws:events:${region}:${accountId}:event-bus/default`, 'INVALID_JSON', false],
  ])('fails for %s with a classified TargetError', async (_case, arn, code, retryable) => {
    // Act
    const failure = await senders.deliver(arn, '"not an event"').catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(TargetError);
    expect(failure).toMatchObject({ code, retryable });
  });

  test('fails with NO_RESOURCE when the target service is not running', async () => {
    // Prepare
    const bare = new TargetSenders({});

    // Act
    const failure = await bare.deliver(`arn:aws:states:${region}:${accountId}:stateMachine:x`, '{}').catch((error: unknown) => error);

    // Assess
    expect(failure).toMatchObject({ code: 'NO_RESOURCE', retryable: false });
  });
});
