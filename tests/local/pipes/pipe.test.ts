/**
 * EventBridge Pipes through the `AWS::Pipes::Pipe` provider, on real sources (a DynamoDB Local
 * stream, a fauxqs queue) with a recording sender and a recording enrichment Lambda in place of
 * the targets: filters, input templates (quoting as the Pipes input transformation page documents
 * it, reserved variables, wildcards, the decoded SQS body), how each kind of target is handed a
 * batch, bisect, retries and the dead letter of a stream batch (sent again when it fails, without
 * delivering the batch again), an SQS batch left on its queue, and what the provider refuses or
 * reports (CurrentState).
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand, type _Record } from '@aws-sdk/client-dynamodb-streams';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import type { DynamoDBRecord, SQSRecord } from 'aws-lambda';
import { localClientConfig, waitUntil } from '../../../local/net.js';
import type { Json } from '../../../local/template/parse.js';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../../local/services/dynamodb/engine.js';
import type { InvokeResult, LambdaInvoker } from '../../../local/services/lambda/runtime.js';
import { MESSAGING_ACCOUNT_ID, startMessaging, type Messaging } from '../../../local/services/messaging/engine.js';
import { createPipeProvider, type Pipe } from '../../../local/services/pipes/pipe.js';
import type { DeployedResource } from '../../../local/services/provider.js';
import { TargetError } from '../../../local/services/targets/error.js';
import type { DeliverOptions, TargetSender } from '../../../local/services/targets/sender.js';
import { testRuntimeContext } from '../../helpers/runtime-context.js';

const REGION = 'us-east-1';
/** Per test: room for waitUntil's 10 s deadline, so a condition never met fails with its description. */
const WAIT_MS = 20_000;
const ACCOUNT = '123456789012';
const LAMBDA_TARGET = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:orders-consumer`;
const STATES_TARGET = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:orders`;
const BUS_TARGET = `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/wims-bus`;
const QUEUE_TARGET = `arn:aws:sqs:${REGION}:${ACCOUNT}:orders-out`;
const DEAD_LETTER_QUEUE = `arn:aws:sqs:${REGION}:${ACCOUNT}:cdc-dead-letters`;
const ENRICHMENT = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:enrich`;
const API_DESTINATION = `arn:aws:events:${REGION}:${ACCOUNT}:api-destination/provider/abc`;
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/;

/** One call the recording sender received. */
interface Delivery {
  arn: string;
  inputs: string[];
  options: DeliverOptions | undefined;
  /** Through deliverBatch (else deliver). */
  batch: boolean;
  /** The sender threw a TargetError for it. */
  failed: boolean;
}

/** A TargetSender that records every call and fails those `refuses` picks. */
class RecordingSender implements TargetSender {
  readonly deliveries: Delivery[] = [];

  constructor(private readonly refuses: (arn: string, input: string) => boolean = () => false) {}

  async deliver(arn: string, input: string, options?: DeliverOptions): Promise<void> {
    this.record({ arn, inputs: [input], options, batch: false });
  }

  async deliverBatch(arn: string, inputs: readonly string[], options?: DeliverOptions): Promise<void> {
    this.record({ arn, inputs: [...inputs], options, batch: true });
  }

  /** The calls to `arn` the sender accepted. */
  accepted(arn: string): Delivery[] {
    return this.deliveries.filter((delivery) => delivery.arn === arn && !delivery.failed);
  }

  private record(call: Omit<Delivery, 'failed'>): void {
    const failed = call.inputs.some((input) => this.refuses(call.arn, input));
    this.deliveries.push({ ...call, failed });
    if (failed) throw new TargetError(`Target ${call.arn}: refused by the test`, { code: 'INTERNAL_ERROR', retryable: true });
  }
}

/** A LambdaInvoker that records each event and answers with `answer(event)`. */
class RecordingLambda implements LambdaInvoker {
  readonly calls: Array<{ nameOrArn: string; event: unknown }> = [];

  constructor(private readonly answer: (event: unknown) => unknown = (event) => event) {}

  async invoke(nameOrArn: string, event: unknown): Promise<InvokeResult> {
    this.calls.push({ nameOrArn, event });
    return { ok: true, payload: this.answer(event), durationMs: 1 };
  }
}

let dynamodb: DynamoDbLocal;
let messaging: Messaging;
let tables: DynamoDBClient;
let streams: DynamoDBStreamsClient;
let sqs: SQSClient;
const running = new Map<string, Pipe>();

beforeAll(async () => {
  [dynamodb, messaging] = await Promise.all([startDynamoDbLocal(), startMessaging({ region: REGION, accountId: MESSAGING_ACCOUNT_ID })]);
  tables = new DynamoDBClient(localClientConfig(dynamodb.endpoint, REGION));
  streams = new DynamoDBStreamsClient(localClientConfig(dynamodb.endpoint, REGION));
  sqs = new SQSClient(localClientConfig(messaging.endpoint, REGION));
}, 120_000);

afterEach(async () => {
  for (const pipe of running.values()) await pipe.stop();
  running.clear();
}, 30_000);

afterAll(async () => {
  tables?.destroy();
  streams?.destroy();
  sqs?.destroy();
  await Promise.all([dynamodb?.stop(), messaging?.stop()]);
}, 30_000);

/** Creates a pipe through the provider, with the given sender and enrichment Lambda. */
async function createPipe(
  name: string,
  properties: Record<string, Json>,
  services: { senders: TargetSender; lambda?: LambdaInvoker },
  pipes: Map<string, Pipe> = new Map(),
): Promise<{ pipe: Pipe; deployed: DeployedResource }> {
  const provider = createPipeProvider({
    dynamodbEndpoint: dynamodb.endpoint,
    sqsEndpoint: messaging.endpoint,
    lambda: services.lambda ?? new RecordingLambda(),
    senders: services.senders,
  }, pipes);
  const deployed = await provider.create(
    { logicalId: name, type: 'AWS::Pipes::Pipe', properties: { Name: name, ...properties }, metadata: {} },
    testRuntimeContext({ region: REGION, accountId: ACCOUNT }),
  );
  const pipe = pipes.get(name);
  if (pipe === undefined) throw new Error(`the provider did not register pipe ${name}`);
  running.set(name, pipe);
  return { pipe, deployed };
}

/** A fresh table keyed by `pk` with a NEW_AND_OLD_IMAGES stream; returns its name and stream ARN. */
async function streamTable(): Promise<{ tableName: string; streamArn: string }> {
  const tableName = `pipes-${randomUUID()}`;
  const { TableDescription } = await tables.send(new CreateTableCommand({
    TableName: tableName,
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    BillingMode: 'PAY_PER_REQUEST',
    StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
  }));
  const streamArn = TableDescription?.LatestStreamArn;
  if (streamArn === undefined) throw new Error(`table ${tableName} has no stream`);
  return { tableName, streamArn };
}

/** Puts one item per entry, in order. */
async function putItems(tableName: string, items: Array<Record<string, string>>): Promise<void> {
  for (const item of items) {
    await tables.send(new PutItemCommand({
      TableName: tableName,
      Item: Object.fromEntries(Object.entries(item).map(([name, value]) => [name, { S: value }])),
    }));
  }
}

/** Every record the stream holds, read directly through the Streams API (not through a pipe). */
async function streamRecords(streamArn: string): Promise<_Record[]> {
  const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
  const records: _Record[] = [];
  for (const shard of StreamDescription?.Shards ?? []) {
    let { ShardIterator: iterator } = await streams.send(new GetShardIteratorCommand({
      StreamArn: streamArn, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON',
    }));
    while (iterator !== undefined) {
      const response = await streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
      records.push(...(response.Records ?? []));
      if ((response.Records ?? []).length === 0) break;
      iterator = response.NextShardIterator;
    }
  }
  return records;
}

/** The `pk` of a stream record as a pipe delivers it (the Lambda record shape, as JSON). */
const pkOf = (input: string): string | undefined => (JSON.parse(input) as DynamoDBRecord).dynamodb?.Keys?.pk?.S;

/** The pks in the JSON-array inputs (Lambda and Step Functions targets) of these deliveries, in order. */
const pksInArrays = (deliveries: Delivery[]): Array<string | undefined> =>
  deliveries.flatMap((delivery) => delivery.inputs.flatMap((input) => (JSON.parse(input) as DynamoDBRecord[]).map((record) => record.dynamodb?.Keys?.pk?.S)));

async function createQueue(name: string, attributes: Record<string, string> = {}): Promise<{ url: string; arn: string }> {
  const { QueueUrl: url } = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-${randomUUID().slice(0, 8)}`, Attributes: attributes }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  if (url === undefined || Attributes?.QueueArn === undefined) throw new Error(`no queue ${name}`);
  return { url, arn: Attributes.QueueArn };
}

/** Messages on the queue, visible or in flight. */
async function messagesOn(url: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({
    QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
  }));
  return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible);
}

/** Receives one message directly (without deleting it), waiting until one is visible. */
async function receiveOne(url: string): Promise<Message> {
  return waitUntil(async () => {
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({
      QueueUrl: url, MaxNumberOfMessages: 1, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['ApproximateReceiveCount'],
    }));
    return Messages[0];
  }, { description: `a message on ${url}` });
}

describe('a pipe from a DynamoDB stream', () => {
  test('passes only the records its filter matches: the others are counted in stats.filteredOut and never reach the target', async () => {
    // Prepare
    const { tableName, streamArn } = await streamTable();
    const sender = new RecordingSender();
    const { pipe } = await createPipe('ddb-filter', {
      Source: streamArn,
      SourceParameters: {
        DynamoDBStreamParameters: { StartingPosition: 'LATEST', BatchSize: 10 },
        FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ dynamodb: { NewImage: { kind: { S: ['order'] } } } }) }] },
      },
      Target: LAMBDA_TARGET,
    }, { senders: sender });

    // Act
    await putItems(tableName, [{ pk: 'o-1', kind: 'order' }, { pk: 's-1', kind: 'stock' }, { pk: 'o-2', kind: 'order' }]);
    await waitUntil(() => pipe.stats.records + pipe.stats.filteredOut >= 3, { description: 'the three records through the filter' });

    // Assess
    expect(pipe.stats.filteredOut).toBe(1);
    expect(pipe.stats.records).toBe(2);
    expect(pksInArrays(sender.accepted(LAMBDA_TARGET))).toEqual(['o-1', 'o-2']);
  }, WAIT_MS);

  test('renders the enrichment and target input templates: quoted string placeholders give their text, unquoted numbers stay numbers', async () => {
    // Prepare: written before the pipe starts at TRIM_HORIZON, so the records come as one batch
    const { tableName, streamArn } = await streamTable();
    await putItems(tableName, [{ pk: 'o-1', customerId: 'c-7' }, { pk: 'o-2', customerId: 'c-8' }]);
    const sender = new RecordingSender();
    const enrichment = new RecordingLambda((event) =>
      (event as Array<{ orderId: string }>).map((input, index) => ({ orderId: input.orderId, amountCents: 1250 + index })));

    // Act
    const { pipe } = await createPipe('ddb-templates', {
      Source: streamArn,
      SourceParameters: { DynamoDBStreamParameters: { StartingPosition: 'TRIM_HORIZON', BatchSize: 10 } },
      Enrichment: ENRICHMENT,
      EnrichmentParameters: {
        InputTemplate: '{"orderId": "<$.dynamodb.Keys.pk.S>", "customer": "<$.dynamodb.NewImage.customerId.S>", "at": <$.dynamodb.ApproximateCreationDateTime>}',
      },
      Target: LAMBDA_TARGET,
      TargetParameters: { InputTemplate: '{"id": "<$.orderId>", "cents": <$.amountCents>}' },
    }, { senders: sender, lambda: enrichment });
    await waitUntil(() => sender.accepted(LAMBDA_TARGET).length > 0, { description: 'a delivery to the target' });

    // Assess
    expect(pipe.stats.records).toBe(2);
    expect(enrichment.calls).toHaveLength(1);
    expect(enrichment.calls[0]?.nameOrArn).toBe(ENRICHMENT);
    expect(enrichment.calls[0]?.event).toEqual([
      { orderId: 'o-1', customer: 'c-7', at: expect.any(Number) },
      { orderId: 'o-2', customer: 'c-8', at: expect.any(Number) },
    ]);
    expect(sender.accepted(LAMBDA_TARGET).map((delivery) => delivery.inputs)).toEqual([
      ['[{"id": "o-1", "cents": 1250},{"id": "o-2", "cents": 1251}]'],
    ]);
  }, WAIT_MS);

  test('gives an unquoted string placeholder the quotes Pipes adds (a DynamoDB .S or .N is a JSON string either way), and escapes what it inserts', async () => {
    // Prepare
    const { tableName, streamArn } = await streamTable();
    for (const [pk, sku, quantity] of [['o-"1"', 'A\\B', '2'], ['o-2', 'C', '3']] as const) {
      await tables.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: pk }, sku: { S: sku }, quantity: { N: quantity } } }));
    }
    const sender = new RecordingSender();

    // Act
    const { pipe } = await createPipe('ddb-unquoted', {
      Source: streamArn,
      SourceParameters: { DynamoDBStreamParameters: { StartingPosition: 'TRIM_HORIZON', BatchSize: 10 } },
      Target: QUEUE_TARGET,
      TargetParameters: {
        InputTemplate: '{"unquoted": <$.dynamodb.Keys.pk.S>, "quoted": "<$.dynamodb.Keys.pk.S>", "sku": <$.dynamodb.NewImage.sku.S>, "quantity": <$.dynamodb.NewImage.quantity.N>, "absent": "<$.dynamodb.NewImage.nothing.S>"}',
      },
    }, { senders: sender });
    await waitUntil(() => pipe.stats.records >= 2, { description: 'two records through the pipe' });

    // Assess: valid JSON; the "Common issues" of the Pipes page: "EventBridge Pipes automatically adds quotes to string variable values"
    const bodies = sender.accepted(QUEUE_TARGET).map((delivery) => JSON.parse(delivery.inputs[0] ?? '') as unknown);
    expect(bodies).toEqual([
      { unquoted: 'o-"1"', quoted: 'o-"1"', sku: 'A\\B', quantity: '2', absent: '' },
      { unquoted: 'o-2', quoted: 'o-2', sku: 'C', quantity: '3', absent: '' },
    ]);
  }, WAIT_MS);

  test('puts a batch on an event bus target in one deliverBatch with the Source and DetailType of EventBridgeEventBusParameters', async () => {
    // Prepare
    const { tableName, streamArn } = await streamTable();
    await putItems(tableName, [{ pk: 'o-1' }, { pk: 'o-2' }, { pk: 'o-3' }]);
    const sender = new RecordingSender();

    // Act
    const { pipe } = await createPipe('ddb-bus', {
      Source: streamArn,
      SourceParameters: { DynamoDBStreamParameters: { StartingPosition: 'TRIM_HORIZON', BatchSize: 10 } },
      Target: BUS_TARGET,
      TargetParameters: { EventBridgeEventBusParameters: { Source: 'wims.cdc', DetailType: 'cdcEvent' } },
    }, { senders: sender });
    await waitUntil(() => pipe.stats.records >= 3, { description: 'three records through the pipe' });

    // Assess
    expect(sender.deliveries).toHaveLength(1);
    const [delivery] = sender.deliveries;
    expect(delivery).toMatchObject({ arn: BUS_TARGET, batch: true, failed: false, options: { eventBus: { Source: 'wims.cdc', DetailType: 'cdcEvent' } } });
    expect(delivery?.inputs.map(pkOf)).toEqual(['o-1', 'o-2', 'o-3']);
  }, WAIT_MS);

  test.each([
    ['Lambda function', LAMBDA_TARGET],
    ['Step Functions state machine', STATES_TARGET],
  ])('hands a %s target the whole batch as one JSON array', async (_kind, target) => {
    // Prepare
    const { tableName, streamArn } = await streamTable();
    await putItems(tableName, [{ pk: 'o-1' }, { pk: 'o-2' }]);
    const sender = new RecordingSender();

    // Act
    const { pipe } = await createPipe(`ddb-array-${target.split(':')[2]}`, {
      Source: streamArn,
      SourceParameters: { DynamoDBStreamParameters: { StartingPosition: 'TRIM_HORIZON', BatchSize: 10 } },
      Target: target,
    }, { senders: sender });
    await waitUntil(() => pipe.stats.records >= 2, { description: 'two records through the pipe' });

    // Assess
    expect(sender.deliveries).toHaveLength(1);
    expect(sender.deliveries[0]).toMatchObject({ arn: target, batch: false, failed: false });
    expect(sender.deliveries[0]?.inputs).toHaveLength(1);
    expect(pksInArrays(sender.deliveries)).toEqual(['o-1', 'o-2']);
  }, WAIT_MS);

  test('bisects a batch down to the record its target refuses, delivers the rest, and dead-letters that record after MaximumRetryAttempts', async () => {
    // Prepare: four records in one batch (written before the pipe starts at TRIM_HORIZON), the third refused
    const { tableName, streamArn } = await streamTable();
    await putItems(tableName, [{ pk: 'a' }, { pk: 'b' }, { pk: 'poison' }, { pk: 'd' }]);
    const sender = new RecordingSender((arn, input) => arn === BUS_TARGET && pkOf(input) === 'poison');
    const maximumRetryAttempts = 2;

    // Act
    const { pipe, deployed } = await createPipe('ddb-bisect', {
      Source: streamArn,
      SourceParameters: {
        DynamoDBStreamParameters: {
          StartingPosition: 'TRIM_HORIZON',
          BatchSize: 4,
          MaximumRetryAttempts: maximumRetryAttempts,
          OnPartialBatchItemFailure: 'AUTOMATIC_BISECT',
          DeadLetterConfig: { Arn: DEAD_LETTER_QUEUE },
        },
      },
      Target: BUS_TARGET,
      TargetParameters: { EventBridgeEventBusParameters: { Source: 'wims.cdc', DetailType: 'cdcEvent' } },
    }, { senders: sender });
    await waitUntil(() => sender.accepted(BUS_TARGET).some((delivery) => delivery.inputs.some((input) => pkOf(input) === 'd')), {
      description: 'the record after the refused one delivered',
    });

    // Assess: halves, then quarters, then the refused record alone, once plus each retry
    const toBus = sender.deliveries.filter((delivery) => delivery.arn === BUS_TARGET);
    expect(toBus.map((delivery) => [delivery.inputs.map(pkOf), delivery.failed])).toEqual([
      [['a', 'b', 'poison', 'd'], true],
      [['a', 'b'], false],
      [['poison', 'd'], true],
      ...Array.from({ length: maximumRetryAttempts + 1 }, () => [['poison'], true]),
      [['d'], false],
    ]);
    expect(pipe.stats.deadLettered).toBe(1);

    const poison = (await streamRecords(streamArn)).find((record) => record.dynamodb?.Keys?.pk?.S === 'poison');
    const sequenceNumber = poison?.dynamodb?.SequenceNumber;
    const createdAt = poison?.dynamodb?.ApproximateCreationDateTime;
    expect(sequenceNumber).toEqual(expect.any(String));
    const arrival = new Date(Math.floor(Number(createdAt?.getTime()) / 1000) * 1000).toISOString();
    const deadLetters = sender.deliveries.filter((delivery) => delivery.arn === DEAD_LETTER_QUEUE);
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]?.inputs).toHaveLength(1);
    expect(JSON.parse(deadLetters[0]?.inputs[0] ?? '')).toEqual({
      context: { pipeArn: deployed.attributes.Arn, condition: 'RetryAttemptsExhausted', approximateInvokeCount: maximumRetryAttempts + 1 },
      version: '1.0',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      DDBStreamBatchInfo: {
        startSequenceNumber: sequenceNumber,
        endSequenceNumber: sequenceNumber,
        approximateArrivalOfFirstRecord: arrival,
        approximateArrivalOfLastRecord: arrival,
        batchSize: 1,
        streamArn,
      },
    });
    expect(deployed.attributes.Arn).toBe(`arn:aws:pipes:${REGION}:${ACCOUNT}:pipe/ddb-bisect`);
    expect(deployed.attributes.CurrentState).toBe('RUNNING');
  }, WAIT_MS);

  test('gives events on an event bus target without EventBridgeEventBusParameters the Source "Pipe <name>" and DetailType "Event from aws:dynamodb"', async () => {
    // Prepare
    const { tableName, streamArn } = await streamTable();
    await putItems(tableName, [{ pk: 'o-1' }]);
    const sender = new RecordingSender();

    // Act
    const { pipe } = await createPipe('ddb-bus-defaults', {
      Source: streamArn,
      SourceParameters: { DynamoDBStreamParameters: { StartingPosition: 'TRIM_HORIZON', BatchSize: 10 } },
      Target: BUS_TARGET,
    }, { senders: sender });
    await waitUntil(() => pipe.stats.records >= 1, { description: 'the record through the pipe' });

    // Assess
    expect(sender.deliveries[0]?.options).toEqual({ eventBus: { Source: 'Pipe ddb-bus-defaults', DetailType: 'Event from aws:dynamodb' } });
  }, WAIT_MS);

  test('sends a dead letter that failed again, without delivering again the records of its batch that were delivered', async () => {
    // Prepare: the second record refused by the target, the dead letter refused twice
    const { tableName, streamArn } = await streamTable();
    await putItems(tableName, [{ pk: 'a' }, { pk: 'poison' }]);
    let deadLetterRefusals = 2;
    const sender = new RecordingSender((arn, input) =>
      (arn === BUS_TARGET && pkOf(input) === 'poison') || (arn === DEAD_LETTER_QUEUE && deadLetterRefusals-- > 0));

    // Act
    const { pipe } = await createPipe('ddb-dead-letter-retry', {
      Source: streamArn,
      SourceParameters: {
        DynamoDBStreamParameters: {
          StartingPosition: 'TRIM_HORIZON',
          BatchSize: 2,
          MaximumRetryAttempts: 0,
          OnPartialBatchItemFailure: 'AUTOMATIC_BISECT',
          DeadLetterConfig: { Arn: DEAD_LETTER_QUEUE },
        },
      },
      Target: BUS_TARGET,
    }, { senders: sender });
    await waitUntil(() => sender.accepted(DEAD_LETTER_QUEUE).length > 0, { description: 'the dead letter sent' });

    // Assess
    const toBus = sender.deliveries.filter((delivery) => delivery.arn === BUS_TARGET);
    expect(toBus.map((delivery) => [delivery.inputs.map(pkOf), delivery.failed])).toEqual([
      [['a', 'poison'], true],
      [['a'], false],
      [['poison'], true],
    ]);
    expect(sender.deliveries.filter((delivery) => delivery.arn === DEAD_LETTER_QUEUE).map((delivery) => delivery.failed)).toEqual([true, true, false]);
    expect(pipe.stats.deadLettered).toBe(1);
  }, WAIT_MS);
});

describe('a pipe from an SQS queue', () => {
  test('matches an SQS body that is JSON as an object; what does not match is never delivered and leaves the queue', async () => {
    // Prepare
    const queue = await createQueue('pipes-filter');
    const sender = new RecordingSender();
    const { pipe } = await createPipe('sqs-filter', {
      Source: queue.arn,
      SourceParameters: {
        SqsQueueParameters: { BatchSize: 10 },
        FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ body: { kind: ['payment'] } }) }] },
      },
      Target: QUEUE_TARGET,
    }, { senders: sender });

    // Act
    for (const body of ['{"kind":"payment","orderId":"o-1"}', '{"kind":"refund","orderId":"o-2"}', 'kind payment, not JSON']) {
      await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: body }));
    }
    await waitUntil(() => pipe.stats.records + pipe.stats.filteredOut >= 3, { description: 'the three messages through the filter' });

    // Assess
    expect(pipe.stats.filteredOut).toBe(2);
    expect(sender.accepted(QUEUE_TARGET).map((delivery) => (JSON.parse(delivery.inputs[0] ?? '') as SQSRecord).body)).toEqual([
      '{"kind":"payment","orderId":"o-1"}',
    ]);
    await waitUntil(async () => (await messagesOn(queue.url)) === 0, { description: 'the queue drained' });
  }, WAIT_MS);

  test('renders a template from the decoded SQS body, with wildcards and the reserved variables', async () => {
    // Prepare
    const queue = await createQueue('pipes-template');
    const sender = new RecordingSender();
    const body = { orderId: 'o-1', note: 'say "hi"', items: [{ sku: 'A' }, { sku: 'B' }], meta: { k: 'v' } };
    await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: JSON.stringify(body) }));

    // Act
    const { pipe, deployed } = await createPipe('sqs-template', {
      Source: queue.arn,
      SourceParameters: { SqsQueueParameters: { BatchSize: 1 } },
      Target: QUEUE_TARGET,
      TargetParameters: {
        InputTemplate: `{"orderId": "<$.body.orderId>", "note": <$.body.note>, "skus": <$.body.items[*].sku>, "first": "<$.body.items[0].sku>",
          "meta": <$.body.meta>, "metaInText": "meta <$.body.meta>", "missing": "<$.body.nothing>", "name": <aws.pipes.pipe-name>,
          "arn": "<aws.pipes.pipe-arn>", "source": "<aws.pipes.source-arn>", "target": "<aws.pipes.target-arn>",
          "at": "<aws.pipes.event.ingestion-time>", "event": <aws.pipes.event.json>, "raw": <aws.pipes.event>}`,
      },
    }, { senders: sender });
    await waitUntil(() => sender.accepted(QUEUE_TARGET).length > 0, { description: 'a delivery to the target' });
    await pipe.stop();

    // Assess
    const delivered = JSON.parse(sender.accepted(QUEUE_TARGET)[0]?.inputs[0] ?? '') as Record<string, unknown>;
    expect(delivered).toEqual({
      orderId: 'o-1',
      note: 'say "hi"',
      skus: ['A', 'B'],
      first: 'A',
      meta: { k: 'v' },
      metaInText: 'meta {k:v}',
      missing: '',
      name: 'sqs-template',
      arn: deployed.attributes.Arn,
      source: queue.arn,
      target: QUEUE_TARGET,
      at: expect.stringMatching(ISO_TIME),
      event: expect.objectContaining({ eventSource: 'aws:sqs', body }),
      raw: expect.objectContaining({ eventSource: 'aws:sqs', body: JSON.stringify(body) }),
    });
  }, WAIT_MS);

  test('gives a template that is only <$.body> the body without its quotes, as a string, and dynamic HTTP parameters the decoded body', async () => {
    // Prepare
    const queue = await createQueue('pipes-lone-body');
    const sender = new RecordingSender();
    await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: '{"key": "k-1"}' }));

    // Act
    await createPipe('sqs-lone-body', {
      Source: queue.arn,
      SourceParameters: { SqsQueueParameters: { BatchSize: 1 } },
      Target: API_DESTINATION,
      TargetParameters: {
        InputTemplate: '<$.body>',
        HttpParameters: { HeaderParameters: { 'Idempotency-Key': '$.body.key' }, QueryStringParameters: { id: '$.messageId' } },
      },
    }, { senders: sender });
    await waitUntil(() => sender.accepted(API_DESTINATION).length > 0, { description: 'a call to the API destination' });

    // Assess: the Pipes page's example, {"key": "value"} becomes "{key: value}"
    const [call] = sender.accepted(API_DESTINATION);
    expect(call?.inputs).toEqual(['"{key:k-1}"']);
    expect(call?.options?.httpParameters).toEqual({
      HeaderParameters: { 'Idempotency-Key': 'k-1' },
      QueryStringParameters: { id: expect.any(String) },
    });
  }, WAIT_MS);

  test('counts a batch whose template has an unquoted placeholder the event lacks in stats.failures, and leaves it on the queue', async () => {
    // Prepare
    const queue = await createQueue('pipes-missing', { VisibilityTimeout: '1' });
    const sender = new RecordingSender();
    await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: '{"orderId":"o-1"}' }));

    // Act
    const { pipe } = await createPipe('sqs-missing', {
      Source: queue.arn,
      SourceParameters: { SqsQueueParameters: { BatchSize: 1 } },
      Target: QUEUE_TARGET,
      TargetParameters: { InputTemplate: '{"orderId": "<$.body.orderId>", "amount": <$.body.amountCents>}' },
    }, { senders: sender });
    await waitUntil(() => pipe.stats.failures >= 1, { description: 'the batch failed' });
    await pipe.stop();

    // Assess: nothing, and nothing invalid, delivered; the message still there
    expect(sender.deliveries).toEqual([]);
    expect((await receiveOne(queue.url)).Body).toBe('{"orderId":"o-1"}');
  }, WAIT_MS);

  test('leaves a batch its target refused on the queue, where the pipe receives it again', async () => {
    // Prepare
    const queue = await createQueue('pipes-refused', { VisibilityTimeout: '1' });
    const sender = new RecordingSender((arn) => arn === LAMBDA_TARGET);
    await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: '{"orderId":"o-1"}' }));
    const receiveCounts = (): number[] => sender.deliveries.flatMap((delivery) =>
      delivery.inputs.flatMap((input) => (JSON.parse(input) as SQSRecord[]).map((record) => Number(record.attributes.ApproximateReceiveCount))));

    // Act
    const { pipe } = await createPipe('sqs-refused', {
      Source: queue.arn,
      SourceParameters: { SqsQueueParameters: { BatchSize: 1 } },
      Target: LAMBDA_TARGET,
    }, { senders: sender });
    await waitUntil(() => receiveCounts().length >= 2, { description: 'the message delivered twice' });
    await pipe.stop();

    // Assess
    expect(receiveCounts().slice(0, 2)).toEqual([1, 2]);
    expect(sender.deliveries.every((delivery) => delivery.failed)).toBe(true);
    expect(pipe.stats.failures).toBe(sender.deliveries.length);
    const [first] = JSON.parse(sender.deliveries[0]?.inputs[0] ?? '[]') as SQSRecord[];
    const left = await receiveOne(queue.url);
    expect(left.MessageId).toBe(first?.messageId);
    expect(left.Body).toBe('{"orderId":"o-1"}');
    expect(Number(left.Attributes?.ApproximateReceiveCount)).toBeGreaterThan(receiveCounts().length);
  }, WAIT_MS);

  test('does not read its source while DesiredState is STOPPED', async () => {
    // Prepare
    const queue = await createQueue('pipes-stopped');
    const sender = new RecordingSender();
    const { pipe, deployed } = await createPipe('sqs-stopped', {
      Source: queue.arn,
      DesiredState: 'STOPPED',
      SourceParameters: { SqsQueueParameters: { BatchSize: 1 } },
      Target: QUEUE_TARGET,
    }, { senders: sender });

    // Act
    await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'untouched' }));
    const message = await receiveOne(queue.url);

    // Assess: the first receive of the message is this test's
    expect(message.Body).toBe('untouched');
    expect(message.Attributes?.ApproximateReceiveCount).toBe('1');
    expect(pipe.stats.batches).toBe(0);
    expect(sender.deliveries).toEqual([]);
    expect(deployed.attributes.CurrentState).toBe('STOPPED');
  }, WAIT_MS);
});

describe('the AWS::Pipes::Pipe provider', () => {
  test.each([
    ['an API destination', 'Payments', `arn:aws:sqs:${REGION}:${ACCOUNT}:payments`,
      { SqsQueueParameters: { BatchSize: 2 } }, `arn:aws:events:${REGION}:${ACCOUNT}:api-destination/provider/abc`,
      'Payments: BatchSize 2 is more than the target accepts (1); Pipes refuses this pipe too'],
    ['an event bus', 'Cdc', `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/t/stream/2026-01-01T00:00:00.000`,
      { DynamoDBStreamParameters: { StartingPosition: 'LATEST', BatchSize: 11 } }, BUS_TARGET,
      'Cdc: BatchSize 11 is more than the target accepts (10); Pipes refuses this pipe too'],
  ])('refuses a BatchSize above what %s takes, before reading the source', async (_target, logicalId, source, sourceParameters, target, message) => {
    // Prepare
    const sender = new RecordingSender();
    const pipes = new Map<string, Pipe>();
    const provider = createPipeProvider(
      { dynamodbEndpoint: dynamodb.endpoint, sqsEndpoint: messaging.endpoint, lambda: new RecordingLambda(), senders: sender },
      pipes,
    );

    // Act
    const created = provider.create(
      { logicalId, type: 'AWS::Pipes::Pipe', properties: { Source: source, SourceParameters: sourceParameters, Target: target }, metadata: {} },
      testRuntimeContext({ region: REGION, accountId: ACCOUNT }),
    );

    // Assess
    await expect(created).rejects.toThrow(message);
    expect(pipes.size).toBe(0);
  });
});
