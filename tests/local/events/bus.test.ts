/**
 * The local EventBridge through its public API: rules with targets on a real fauxqs, input
 * transformers, disabled rules, Lambda and state machine targets, retries with dead-lettering,
 * archives and replays, PutEvents validation, and the resource providers' Ref/GetAtt values.
 * Tests wait on the delivery log, never on time.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import { localClientConfig, waitUntil } from '../../../local/net.js';
import { EventBridgeError, EventBridgeService, type DeliveryRecord } from '../../../local/services/events/bus.js';
import type { EventEnvelope } from '../../../local/services/events/model.js';
import { InvalidEventPatternError } from '../../../local/services/events/pattern.js';
import { eventsProviders } from '../../../local/services/events/providers.js';
import type { RuntimeContext } from '../../../local/services/provider.js';
import type { Json } from '../../../local/template/parse.js';
import { MESSAGING_ACCOUNT_ID, startMessaging, type Messaging } from '../../../local/services/messaging/engine.js';
import { eventBusSender } from '../../../local/services/targets/event-bus.js';
import { lambdaSender } from '../../../local/services/targets/lambda.js';
import { TargetSenders } from '../../../local/services/targets/registry.js';
import { sqsSender } from '../../../local/services/targets/sqs.js';
import { stateMachineSender } from '../../../local/services/targets/states.js';
import { testRuntimeContext } from '../../helpers/runtime-context.js';

const region = 'us-east-1';
const accountId = MESSAGING_ACCOUNT_ID;
const functionArn = (name: string) => `arn:aws:lambda:${region}:${accountId}:function:${name}`;

let messaging: Messaging;
let sqs: SQSClient;
let stateDir: string;
let events: EventBridgeService;
/** Payloads each function received, by function ARN. */
let invocations: Map<string, string[]>;
let executions: Array<[string, string]>;
/** Functions that throw, by ARN: the error and how many more calls throw it. */
let failing: Map<string, { error: Error; times: number }>;
let queueCount = 0;

beforeAll(async () => {
  messaging = await startMessaging({ region, accountId });
  sqs = new SQSClient(localClientConfig(messaging.endpoint, region));
});

afterAll(async () => {
  sqs.destroy();
  await messaging.stop();
});

beforeEach(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'wims-bus-'));
  invocations = new Map();
  executions = [];
  failing = new Map();
  events = new EventBridgeService({ region, accountId, stateDir, retryBaseMs: 5, retryCapMs: 50 });
  events.startDeliveries(new TargetSenders({
    sqs: sqsSender(sqs),
    lambda: lambdaSender({
      invoke: async (arn, payload) => {
        const failure = failing.get(arn);
        if (failure && failure.times-- > 0) throw failure.error;
        invocations.set(arn, [...(invocations.get(arn) ?? []), JSON.stringify(payload)]);
        return { ok: true, payload: null, durationMs: 0 };
      },
    }),
    states: stateMachineSender({ startExecution: async (arn, input) => void executions.push([arn, JSON.stringify(input)]) }),
    'event-bus': eventBusSender(events),
  }));
});

afterEach(async () => {
  await events.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

async function createQueue(): Promise<{ url: string; arn: string }> {
  const { QueueUrl: url } = await sqs.send(new CreateQueueCommand({ QueueName: `bus-test-${++queueCount}` }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  if (url === undefined || Attributes?.QueueArn === undefined) throw new Error('queue not created');
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

/** Resolves with the deliveries once `count` have finished (deadline 10 s). */
async function deliveries(count: number): Promise<readonly DeliveryRecord[]> {
  return waitUntil(() => events.deliveries().length >= count && events.deliveries(), { description: `${count} deliveries` });
}

function cdcEvent(eventType: string, newImage: Record<string, unknown>, oldImage: Record<string, unknown> = {}) {
  return {
    Source: 'wims.cdc',
    DetailType: 'cdcEvent',
    EventBusName: 'wims-bus',
    Detail: JSON.stringify({ data: { eventType, pk: newImage.pk, NewImage: newImage, OldImage: oldImage } }),
  };
}

describe('EventBridgeService rules', () => {
  test('an SQS target receives exactly the matching events, shaped by its InputTransformer', async () => {
    // Prepare
    const queue = await createQueue();
    events.createEventBus('wims-bus');
    const rule = events.putRule({
      Name: 'fulfillment',
      EventBusName: 'wims-bus',
      EventPattern: {
        source: ['wims.cdc'],
        detail: { data: { eventType: ['UPDATE'], NewImage: { status: ['READY_FOR_FULFILLMENT'] } } },
      },
    });
    events.putTargets({
      Rule: 'fulfillment',
      EventBusName: 'wims-bus',
      Targets: [{
        Id: 'queue',
        Arn: queue.arn,
        InputTransformer: {
          InputPathsMap: { orderId: '$.detail.data.NewImage.orderId', quantity: '$.detail.data.NewImage.quantity' },
          InputTemplate: '{"orderId": <orderId>, "quantity": <quantity>}',
        },
      }],
    });

    // Act
    const result = events.putEvents([
      cdcEvent('UPDATE', { pk: 'CUSTOMER#c-1', orderId: 'o-1', quantity: 2, status: 'READY_FOR_FULFILLMENT' }),
      cdcEvent('UPDATE', { pk: 'CUSTOMER#c-1', orderId: 'o-2', quantity: 1, status: 'RESERVED' }),
      cdcEvent('INSERT', { pk: 'CUSTOMER#c-2', orderId: 'o-3', quantity: 5, status: 'READY_FOR_FULFILLMENT' }),
      cdcEvent('UPDATE', { pk: 'CUSTOMER#c-3', orderId: 'o-4', quantity: 3, status: 'READY_FOR_FULFILLMENT' }),
    ]);

    // Assess
    expect(result.FailedEntryCount).toBe(0);
    expect(rule.arn).toBe(`arn:aws:events:${region}:${accountId}:rule/wims-bus/fulfillment`);
    const messages = await receive(queue.url, 2);
    expect(messages.map((message) => JSON.parse(message.Body ?? '')).sort((a, b) => a.orderId.localeCompare(b.orderId))).toEqual([
      { orderId: 'o-1', quantity: 2 },
      { orderId: 'o-4', quantity: 3 },
    ]);
    await events.idle();
    expect(events.deliveries()).toHaveLength(2);
    expect(events.status()).toMatchObject({ put: 4, matched: 2, delivered: 2, failed: 0 });
  });

  test('builds the event envelope like AWS and gives a Lambda target the whole event', async () => {
    // Prepare
    events.putRule({ Name: 'all', EventPattern: { source: ['wims.test'] } });
    events.putTargets({ Rule: 'all', Targets: [{ Id: 'fn', Arn: functionArn('consumer') }] });

    // Act
    const result = events.putEvents([{
      Source: 'wims.test', DetailType: 'Order.Placed', Detail: '{"orderId":"o-9"}', Resources: ['arn:x'], Time: new Date('2026-01-31T12:00:00.789Z'),
    }]);

    // Assess
    await deliveries(1);
    const [payload] = invocations.get(functionArn('consumer')) ?? [];
    const event = JSON.parse(payload ?? '') as EventEnvelope;
    expect(event).toEqual({
      version: '0',
      id: (result.Entries[0] as { EventId: string }).EventId,
      'detail-type': 'Order.Placed',
      source: 'wims.test',
      account: accountId,
      time: '2026-01-31T12:00:00Z',
      region,
      resources: ['arn:x'],
      detail: { orderId: 'o-9' },
    });
  });

  test('a disabled rule gets nothing while an enabled one on the same pattern does', async () => {
    // Prepare
    for (const [name, state] of [['on', 'ENABLED'], ['off', 'DISABLED']] as const) {
      events.putRule({ Name: name, EventPattern: { source: ['wims.test'] }, State: state });
      events.putTargets({ Rule: name, Targets: [{ Id: 'fn', Arn: functionArn(name) }] });
    }

    // Act
    events.putEvents([{ Source: 'wims.test', DetailType: 'x', Detail: '{}' }]);

    // Assess
    await deliveries(1);
    await events.idle();
    expect(invocations.get(functionArn('on'))).toHaveLength(1);
    expect(invocations.has(functionArn('off'))).toBe(false);
    expect(events.events()[0]?.matchedRules).toEqual([`arn:aws:events:${region}:${accountId}:rule/on`]);
  });

  test('a rule whose EventPattern is a JSON string (Fn::Sub) matches numerically', async () => {
    // Prepare: the template's LowStockRule with its threshold substituted
    events.createEventBus('wims-bus');
    events.putRule({
      Name: 'low-stock',
      EventBusName: 'wims-bus',
      EventPattern: `{
        "source": ["wims.cdc"],
        "detail": { "data": {
          "eventType": ["UPDATE"],
          "OldImage": {"quantity": [{"numeric": [">", 100]}]},
          "NewImage": {"quantity": [{"numeric": ["<=", 100]}]}
        } }
      }`,
    });
    const stateMachineArn = `arn:aws:states:${region}:${accountId}:stateMachine:restock`;
    events.putTargets({ Rule: 'low-stock', EventBusName: 'wims-bus', Targets: [{ Id: 'sfn', Arn: stateMachineArn, InputPath: '$.detail.data.NewImage' }] });

    // Act
    events.putEvents([
      cdcEvent('UPDATE', { pk: 'INVENTORY#A', quantity: 100 }, { quantity: 101 }),
      cdcEvent('UPDATE', { pk: 'INVENTORY#B', quantity: 99 }, { quantity: 100 }),
    ]);

    // Assess
    await deliveries(1);
    await events.idle();
    expect(executions).toEqual([[stateMachineArn, '{"pk":"INVENTORY#A","quantity":100}']]);
  });

  test('rejects an invalid pattern when the rule is created', () => {
    // Act / Assess
    expect(() => events.putRule({ Name: 'bad', EventPattern: { source: 'not-a-list' } })).toThrow(InvalidEventPatternError);
    expect(() => events.putRule({ Name: 'bad', EventPattern: '{"source": [' })).toThrow(InvalidEventPatternError);
  });
});

describe('EventBridgeService retries and dead letters', () => {
  test('a throttled target is retried, then dead-lettered with the error attributes', async () => {
    // Prepare
    const dlq = await createQueue();
    const target = functionArn('throttled');
    failing.set(target, { error: Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }), times: Infinity });
    const rule = events.putRule({ Name: 'retrying', EventPattern: { source: ['wims.test'] } });
    events.putTargets({
      Rule: 'retrying',
      Targets: [{ Id: 'fn', Arn: target, RetryPolicy: { MaximumRetryAttempts: 2 }, DeadLetterConfig: { Arn: dlq.arn } }],
    });

    // Act
    const result = events.putEvents([{ Source: 'wims.test', DetailType: 'x', Detail: '{"n":1}' }]);

    // Assess
    const [delivery] = await deliveries(1);
    expect(delivery).toMatchObject({ ok: false, attempts: 3, deadLettered: true, error: { code: 'THROTTLING' } });
    const [message] = await receive(dlq.url, 1);
    const attributes = Object.fromEntries(Object.entries(message?.MessageAttributes ?? {}).map(([key, value]) => [key, value.StringValue]));
    expect(attributes).toMatchObject({
      RULE_ARN: rule.arn,
      TARGET_ARN: target,
      ERROR_CODE: 'THROTTLING',
      RETRY_ATTEMPTS: '2',
      EXHAUSTED_RETRY_CONDITION: 'MaximumRetryAttempts',
    });
    expect(attributes.ERROR_MESSAGE).toContain('Rate exceeded');
    // The dead letter carries the event itself.
    expect(JSON.parse(message?.Body ?? '')).toMatchObject({ id: (result.Entries[0] as { EventId: string }).EventId, detail: { n: 1 } });
    expect(events.status()).toMatchObject({ failed: 1, deadLettered: 1 });
  });

  test('an error that is not retryable goes to the dead-letter queue at once', async () => {
    // Prepare
    const dlq = await createQueue();
    const target = functionArn('gone');
    failing.set(target, { error: Object.assign(new Error('Function not found'), { name: 'ResourceNotFoundException' }), times: Infinity });
    events.putRule({ Name: 'gone', EventPattern: { source: ['wims.test'] } });
    events.putTargets({ Rule: 'gone', Targets: [{ Id: 'fn', Arn: target, DeadLetterConfig: { Arn: dlq.arn } }] });

    // Act
    events.putEvents([{ Source: 'wims.test', DetailType: 'x', Detail: '{}' }]);

    // Assess
    const [delivery] = await deliveries(1);
    expect(delivery).toMatchObject({ ok: false, attempts: 1, error: { code: 'NO_RESOURCE' } });
    const [message] = await receive(dlq.url, 1);
    expect(message?.MessageAttributes?.RETRY_ATTEMPTS?.StringValue).toBe('0');
    expect(message?.MessageAttributes?.EXHAUSTED_RETRY_CONDITION).toBeUndefined();
  });

  test('a transformer whose output is not valid JSON delivers nothing and dead-letters the event', async () => {
    // Prepare: a backordered order has no paymentStatus, so <paymentStatus> is left empty.
    const dlq = await createQueue();
    const target = functionArn('customer-notice');
    events.putRule({ Name: 'customer-problem', EventPattern: { source: ['wims.test'] } });
    events.putTargets({
      Rule: 'customer-problem',
      Targets: [{
        Id: 'fn',
        Arn: target,
        DeadLetterConfig: { Arn: dlq.arn },
        InputTransformer: {
          InputPathsMap: { status: '$.detail.status', paymentStatus: '$.detail.paymentStatus' },
          InputTemplate: '{"status": <status>, "paymentStatus": <paymentStatus>}',
        },
      }],
    });

    // Act
    events.putEvents([{ Source: 'wims.test', DetailType: 'x', Detail: '{"status":"BACKORDERED"}' }]);

    // Assess
    const [delivery] = await deliveries(1);
    expect(delivery).toMatchObject({ ok: false, attempts: 0, deadLettered: true, error: { code: 'INVALID_PARAMETER' } });
    expect(invocations.get(target)).toBeUndefined();
    const [message] = await receive(dlq.url, 1);
    expect(message?.MessageAttributes?.ERROR_MESSAGE?.StringValue).toContain('InputTemplate output is not valid JSON');
  });

  test('a target that recovers is delivered on a later attempt', async () => {
    // Prepare
    const target = functionArn('flaky');
    failing.set(target, { error: Object.assign(new Error('Service unavailable'), { name: 'ServiceException', $fault: 'server' }), times: 2 });
    events.putRule({ Name: 'flaky', EventPattern: { source: ['wims.test'] } });
    events.putTargets({ Rule: 'flaky', Targets: [{ Id: 'fn', Arn: target }] });

    // Act
    events.putEvents([{ Source: 'wims.test', DetailType: 'x', Detail: '{}' }]);

    // Assess
    const [delivery] = await deliveries(1);
    expect(delivery).toMatchObject({ ok: true, attempts: 3 });
    expect(invocations.get(target)).toHaveLength(1);
  });
});

describe('EventBridgeService archives and replays', () => {
  test('archived events are replayed to the rules with their id, time and replay-name, and not archived again', async () => {
    // Prepare
    const bus = events.createEventBus('wims-bus');
    const archive = events.createArchive({ ArchiveName: 'wims-archive', EventSourceArn: bus.arn, EventPattern: { source: ['wims.cdc'] } });
    const first = events.putRule({ Name: 'first', EventBusName: 'wims-bus', EventPattern: { source: ['wims.cdc'] } });
    events.putRule({ Name: 'second', EventBusName: 'wims-bus', EventPattern: { source: ['wims.cdc'] } });
    events.putTargets({ Rule: 'first', EventBusName: 'wims-bus', Targets: [{ Id: 'fn', Arn: functionArn('first') }] });
    events.putTargets({ Rule: 'second', EventBusName: 'wims-bus', Targets: [{ Id: 'fn', Arn: functionArn('second') }] });
    const start = new Date(Date.now() - 60_000);
    events.putEvents([
      cdcEvent('INSERT', { pk: 'CUSTOMER#c-1', orderId: 'o-1' }),
      cdcEvent('INSERT', { pk: 'CUSTOMER#c-2', orderId: 'o-2' }),
      { Source: 'other', DetailType: 'x', Detail: '{}', EventBusName: 'wims-bus' },
    ]);
    await deliveries(4);
    const archiveFile = join(stateDir, 'events', 'archives', 'wims-archive.jsonl');
    const original = readFileSync(archiveFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as EventEnvelope);

    // Act
    const { replayed } = await events.replay({
      archiveName: 'wims-archive',
      startTime: start,
      endTime: new Date(Date.now() + 60_000),
      destination: { Arn: bus.arn, FilterArns: [first.arn] },
      replayName: 'replay-1',
    });

    // Assess
    expect(archive.arn).toBe(`arn:aws:events:${region}:${accountId}:archive/wims-archive`);
    expect(original.map((event) => event.detail)).toEqual([
      { data: expect.objectContaining({ NewImage: { pk: 'CUSTOMER#c-1', orderId: 'o-1' } }) },
      { data: expect.objectContaining({ NewImage: { pk: 'CUSTOMER#c-2', orderId: 'o-2' } }) },
    ]);
    expect(replayed).toBe(2);
    await deliveries(6);
    const replays = (invocations.get(functionArn('first')) ?? []).slice(2).map((payload) => JSON.parse(payload) as EventEnvelope);
    expect(replays).toEqual(original.map((event) => ({ ...event, 'replay-name': 'replay-1' })));
    expect(invocations.get(functionArn('second'))).toHaveLength(2);
    expect(readFileSync(archiveFile, 'utf8').trim().split('\n')).toHaveLength(2);
    expect(events.status()).toMatchObject({ put: 3, replayed: 2 });
  });

  test('a replay must go to the archive\'s own bus', async () => {
    // Prepare
    const bus = events.createEventBus('wims-bus');
    events.createArchive({ ArchiveName: 'a', EventSourceArn: bus.arn });

    // Act
    const replay = events.replay({
      archiveName: 'a', startTime: new Date(0), endTime: new Date(), destination: { Arn: `arn:aws:events:${region}:${accountId}:event-bus/default` },
    });

    // Assess
    await expect(replay).rejects.toThrow(EventBridgeError);
  });
});

describe('EventBridgeService PutEvents validation', () => {
  test('fails invalid entries on their own and accepts the rest', () => {
    // Act
    const result = events.putEvents([
      { Source: 'wims.test', DetailType: 'ok', Detail: '{"a":1}' },
      { Source: 'wims.test', DetailType: 'array', Detail: '[1,2]' },
      { Source: 'wims.test', DetailType: 'not json', Detail: '{a:1}' },
      { DetailType: 'no source', Detail: '{}' },
      { Source: 'wims.test', DetailType: 'no bus', Detail: '{}', EventBusName: 'nope' },
    ]);

    // Assess
    expect(result.FailedEntryCount).toBe(4);
    expect(result.Entries).toEqual([
      { EventId: expect.any(String) },
      { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
      { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
      { ErrorCode: 'InvalidArgument', ErrorMessage: expect.stringContaining('Parameter Source is not valid') },
      { ErrorCode: 'ResourceNotFoundException', ErrorMessage: 'Event bus nope does not exist.' },
    ]);
    expect(events.status().put).toBe(1);
  });

  test('refuses requests with more than 10 entries or over 256 KB', () => {
    // Prepare
    const entry = { Source: 'wims.test', DetailType: 'x', Detail: '{}' };
    const big = { ...entry, Detail: JSON.stringify({ blob: 'x'.repeat(256 * 1024) }) };

    // Act / Assess
    expect(() => events.putEvents(Array.from({ length: 11 }, () => entry))).toThrow(EventBridgeError);
    expect(() => events.putEvents([])).toThrow(EventBridgeError);
    expect(() => events.putEvents([big])).toThrow('Total size of the entries in the request is over the limit.');
    expect(events.status().put).toBe(0);
  });
});

describe('EventBridge resource providers', () => {
  const context: RuntimeContext = testRuntimeContext({ region, accountId, stackName: 'wims-local' });
  const create = (type: string, logicalId: string, properties: Record<string, Json>) => {
    const provider = eventsProviders(events).find((candidate) => candidate.type === type);
    if (provider === undefined) throw new Error(`no provider for ${type}`);
    return provider.create({ logicalId, type, properties, metadata: {} }, context);
  };

  test('a rule on a custom bus is referenced as bus|rule and gets a CloudFormation-style name', async () => {
    // Prepare
    const bus = await create('AWS::Events::EventBus', 'WimsEventBus', { Name: 'wims-local-bus' });

    // Act
    const rule = await create('AWS::Events::Rule', 'LowStockRule', {
      EventBusName: bus.physicalId,
      EventPattern: '{"source": ["wims.cdc"], "detail": {"data": {"NewImage": {"quantity": [{"numeric": ["<=", 100]}]}}}}',
      Targets: [{
        Id: 'fn',
        Arn: functionArn('alert'),
        InputTransformer: { InputPathsMap: { quantity: '$.detail.data.NewImage.quantity' }, InputTemplate: '"Down to <quantity> units."' },
        RetryPolicy: { MaximumRetryAttempts: '3' },
      }],
    });
    events.putEvents([{ ...cdcEvent('UPDATE', { pk: 'INVENTORY#A', quantity: 7 }), EventBusName: 'wims-local-bus' }]);

    // Assess
    expect(bus).toEqual({ physicalId: 'wims-local-bus', attributes: { Arn: `arn:aws:events:${region}:${accountId}:event-bus/wims-local-bus`, Name: 'wims-local-bus' } });
    expect(rule.physicalId).toMatch(/^wims-local-bus\|wims-local-LowStockRule-[0-9A-Z]{1,12}$/);
    expect(rule.attributes.Arn).toBe(`arn:aws:events:${region}:${accountId}:rule/wims-local-bus/${rule.physicalId.split('|')[1]}`);
    await deliveries(1);
    expect(invocations.get(functionArn('alert'))).toEqual(['"Down to 7 units."']);
  });

  test('archives, connections, API destinations and discoverers return their Ref and GetAtt values', async () => {
    // Act
    const archive = await create('AWS::Events::Archive', 'WimsEventArchive', {
      SourceArn: `arn:aws:events:${region}:${accountId}:event-bus/default`, RetentionDays: 30, Description: 'ignored',
    });
    const connection = await create('AWS::Events::Connection', 'PaymentProviderConnection', {
      AuthorizationType: 'API_KEY', AuthParameters: { ApiKeyAuthParameters: { ApiKeyName: 'x-api-key', ApiKeyValue: 'k' } },
    });
    const destination = await create('AWS::Events::ApiDestination', 'PaymentProviderDestination', {
      ConnectionArn: connection.attributes.Arn ?? '', HttpMethod: 'POST', InvocationEndpoint: 'https://example.com/pay', InvocationRateLimitPerSecond: '5',
    });
    const discoverer = await create('AWS::EventSchemas::Discoverer', 'WimsSchemaDiscoverer', { SourceArn: `arn:aws:events:${region}:${accountId}:event-bus/default` });

    // Assess
    expect(archive.physicalId).toMatch(/^wims-local-WimsEventArchive-[0-9A-Z]+$/);
    expect(archive.physicalId.length).toBeLessThanOrEqual(48);
    expect(archive.attributes).toEqual({ Arn: `arn:aws:events:${region}:${accountId}:archive/${archive.physicalId}`, ArchiveName: archive.physicalId });
    expect(connection.attributes.Arn).toMatch(new RegExp(`^arn:aws:events:${region}:${accountId}:connection/${connection.physicalId}/[0-9a-f-]{36}$`));
    expect(connection.attributes.SecretArn).toContain(':secret:events!connection/');
    expect(destination.attributes.Arn).toMatch(new RegExp(`^arn:aws:events:${region}:${accountId}:api-destination/${destination.physicalId}/`));
    expect(discoverer).toEqual({
      physicalId: `arn:aws:schemas:${region}:${accountId}:discoverer/events-event-bus-default`,
      attributes: { DiscovererArn: `arn:aws:schemas:${region}:${accountId}:discoverer/events-event-bus-default`, DiscovererId: 'events-event-bus-default' },
    });
  });

  test.each([
    ['a schedule AWS refuses', 'AWS::Events::Rule', { ScheduleExpression: 'rate(1 minutes)' }, 'a singular unit for 1'],
    ['an invalid pattern', 'AWS::Events::Rule', { EventPattern: { source: 'wims' } }, 'Event pattern is not valid'],
    ['a target with Kinesis parameters', 'AWS::Events::Rule', { EventPattern: { source: ['x'] }, Targets: [{ Id: 'k', Arn: 'arn:aws:kinesis:::stream/s', KinesisParameters: {} }] }, 'Targets[0].KinesisParameters is not supported'],
    ['an OAuth connection', 'AWS::Events::Connection', { AuthorizationType: 'OAUTH_CLIENT_CREDENTIALS', AuthParameters: { OAuthParameters: {} } }, 'not supported locally'],
  ])('rejects %s, naming the resource', async (_case, type, properties, message) => {
    // Act
    const failure = create(type, 'Broken', properties as Record<string, Json>);

    // Assess
    await expect(failure).rejects.toThrow(message);
    await expect(failure).rejects.toThrow('Broken');
  });
});
