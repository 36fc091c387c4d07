/**
 * The project's real orders and fulfillment workflows (statemachine/*.asl.json) against DynamoDB
 * Local and the embedded SQS, through the Step Functions provider.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  CreateTableCommand, DynamoDBClient, GetItemCommand, ProvisionedThroughputExceededException, PutItemCommand,
  TransactionCanceledException, TransactWriteItemsCommand, UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { localClientConfig } from '../../../local/net.js';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../../local/services/dynamodb/engine.js';
import { startMessaging, type Messaging } from '../../../local/services/messaging/engine.js';
import { StepFunctionsProvider } from '../../../local/services/stepfunctions/provider.js';
import type { SdkSender } from '../../../local/services/stepfunctions/integrations.js';
import type { ExecutionRecord } from '../../../local/services/stepfunctions/registry.js';
import { ACCOUNT, REGION, aslFile, cdcEvent, orderKey, stateMachineResource, testContext, type Order } from './fixtures.js';

const TABLE = 'wims-test-WimsTable';
const STOCK_KEY = { pk: { S: 'INVENTORY#MACGUFFIN' }, sk: { S: 'MODEL#LX' } };

let dynamodbLocal: DynamoDbLocal;
let messaging: Messaging;
let dynamodb: DynamoDBClient;
let sqs: SQSClient;
let queueUrl: string;
let orderNumber = 0;

beforeAll(async () => {
  [dynamodbLocal, messaging] = await Promise.all([startDynamoDbLocal(), startMessaging({ region: REGION, accountId: ACCOUNT })]);
  dynamodb = new DynamoDBClient(localClientConfig(dynamodbLocal.endpoint, REGION));
  sqs = new SQSClient(localClientConfig(messaging.endpoint, REGION));
  // Shaped like template.yaml's WimsTable (the key schema is what the workflows touch).
  await dynamodb.send(new CreateTableCommand({
    TableName: TABLE,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
  }));
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'payments' }))).QueueUrl ?? '';
}, 60_000);

afterAll(async () => {
  dynamodb?.destroy();
  sqs?.destroy();
  await Promise.all([dynamodbLocal?.stop(), messaging?.stop()]);
});

async function setStock(quantity: number): Promise<void> {
  await dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: { ...STOCK_KEY, quantity: { N: String(quantity) }, entityType: { S: 'INVENTORY' } } }));
}

async function stock(): Promise<number> {
  const { Item } = await dynamodb.send(new GetItemCommand({ TableName: TABLE, Key: STOCK_KEY, ConsistentRead: true }));
  return Number(Item?.quantity?.N);
}

/** A new PENDING order, as the intake API stores it. */
async function placeOrder(quantity: number, changes: Record<string, string> = {}): Promise<Order> {
  orderNumber += 1;
  const order: Order = { customerId: 'c1', orderId: `o${orderNumber}`, quantity };
  const item = { ...orderKey(order), orderId: order.orderId, customerId: order.customerId, sku: 'MACGUFFIN-LX', quantity, status: 'PENDING', ...changes };
  await dynamodb.send(new PutItemCommand({
    TableName: TABLE,
    Item: Object.fromEntries(Object.entries(item).map(([name, value]) => [name, typeof value === 'number' ? { N: String(value) } : { S: value }])),
  }));
  return order;
}

async function readOrder(order: Order): Promise<Record<string, unknown>> {
  const { pk, sk } = orderKey(order);
  const { Item } = await dynamodb.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: pk }, sk: { S: sk } }, ConsistentRead: true }));
  return unmarshall(Item ?? {});
}

/** Every payment message waiting in the queue (and takes them off it). */
async function drainPayments(): Promise<unknown[]> {
  const bodies: unknown[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 0,
      VisibilityTimeout: 300,
    }));
    if (Messages.length === 0) return bodies;
    bodies.push(...Messages.map((message) => JSON.parse(message.Body ?? 'null') as unknown));
  }
}

/** A DynamoDB client that fails the first `Command` with `error` (as the service would), then passes everything on. */
function failingOnce(Command: new (...args: never[]) => object, error: Error): SdkSender & { failures: number } {
  const wrapper = {
    failures: 0,
    send: async (command: object) => {
      if (command instanceof Command && wrapper.failures === 0) {
        wrapper.failures += 1;
        throw error;
      }
      return dynamodb.send(command as GetItemCommand);
    },
  };
  return wrapper;
}

/** Creates the orders and fulfillment state machines (optionally with a given DynamoDB client); returns their ARNs. */
async function deploy(dynamodbClient?: SdkSender) {
  const context = testContext();
  const provider = new StepFunctionsProvider({
    region: REGION,
    dynamodbEndpoint: dynamodbLocal.endpoint,
    sqsEndpoint: messaging.endpoint,
    clients: { dynamodb: dynamodbClient },
  });
  const orders = await provider.create(
    stateMachineResource('OrdersStateMachine', aslFile('orders'), { DefinitionSubstitutions: { TableName: TABLE, PaymentsQueueUrl: queueUrl } }),
    context,
  );
  const fulfillment = await provider.create(
    stateMachineResource('FulfillmentStateMachine', aslFile('fulfillment'), { DefinitionSubstitutions: { TableName: TABLE } }),
    context,
  );
  return { registry: provider.registry, orders: orders.physicalId, fulfillment: fulfillment.physicalId, stop: context.stop };
}

function taskEvents(record: ExecutionRecord, stateName: string) {
  return record.events.filter((event) => event.stateName === stateName && /^Task(Succeeded|Failed)$/.test(event.type));
}

describe('orders workflow', () => {
  let deployed: Awaited<ReturnType<typeof deploy>>;

  beforeAll(async () => {
    deployed = await deploy();
  }, 30_000);

  afterAll(async () => {
    await deployed.stop();
  });

  beforeEach(async () => {
    await drainPayments();
  });

  it('reserves stock and enqueues the payment once, and a repeat changes nothing twice', async () => {
    // Prepare
    await setStock(10);
    const order = await placeOrder(3);
    const event = cdcEvent('INSERT', order);

    // Act
    const first = await deployed.registry.startExecution(deployed.orders, event);
    const afterFirst = { stock: await stock(), order: await readOrder(order), payments: await drainPayments() };
    const repeat = await deployed.registry.startExecution(deployed.orders, event);
    const afterRepeat = { stock: await stock(), order: await readOrder(order), payments: await drainPayments() };

    // Assess
    expect(first.status).toBe('SUCCEEDED');
    expect(afterFirst.stock).toBe(7);
    expect(afterFirst.order).toMatchObject({ status: 'RESERVED', paymentStatus: 'QUEUED' });
    const entered = first.events.find((e) => e.type === 'TaskStateEntered' && e.stateName === 'ReserveStock')?.timestamp ?? '';
    expect(Math.abs(Date.parse(afterFirst.order.reservedAt as string) - Date.parse(entered))).toBeLessThanOrEqual(1); // $$.State.EnteredTime
    expect(afterFirst.payments).toEqual([{ orderId: order.orderId, ...orderKey(order), sku: 'MACGUFFIN-LX', quantity: 3 }]);

    // The repeat finds the order RESERVED with its payment only QUEUED: the ASL re-enqueues it (payments are idempotent).
    expect(repeat.status).toBe('SUCCEEDED');
    expect(afterRepeat.stock).toBe(7);
    expect(afterRepeat.order).toEqual(afterFirst.order);
    expect(afterRepeat.payments).toEqual(afterFirst.payments);
    expect(repeat.events.filter((e) => e.type.endsWith('StateEntered')).map((e) => e.stateName)).toEqual([
      'ReadNewOrder', 'ReserveStock', 'WasItAConflict', 'ReadOrder', 'RouteCancelledOrder', 'EnqueuePayment',
    ]);
  });

  it('does nothing for a repeat once the payment is confirmed', async () => {
    await setStock(10);
    const order = await placeOrder(2);
    const event = cdcEvent('INSERT', order);
    await deployed.registry.startExecution(deployed.orders, event);
    await drainPayments();
    const { pk, sk } = orderKey(order);
    await dynamodb.send(new UpdateItemCommand({
      TableName: TABLE, Key: { pk: { S: pk }, sk: { S: sk } }, UpdateExpression: 'SET paymentStatus = :paid', ExpressionAttributeValues: { ':paid': { S: 'PAID' } },
    }));

    const repeat = await deployed.registry.startExecution(deployed.orders, event);

    expect(repeat.status).toBe('SUCCEEDED');
    expect(repeat.events.at(-2)).toMatchObject({ type: 'SucceedStateExited', stateName: 'AlreadyHandled' });
    expect(await stock()).toBe(8);
    expect(await drainPayments()).toEqual([]);
  });

  it('backorders an order the stock cannot cover, without a payment, and names the cancellation reasons', async () => {
    // Prepare
    await setStock(5);
    const order = await placeOrder(6);

    // Act
    const record = await deployed.registry.startExecution(deployed.orders, cdcEvent('INSERT', order));

    // Assess
    expect(record.status).toBe('SUCCEEDED');
    expect(await readOrder(order)).toMatchObject({ status: 'BACKORDERED', backorderedAt: expect.any(String) });
    expect(await stock()).toBe(5);
    expect(await drainPayments()).toEqual([]);
    expect(taskEvents(record, 'ReserveStock')).toEqual([
      expect.objectContaining({
        type: 'TaskFailed',
        error: 'DynamoDb.TransactionCanceledException',
        cause: expect.stringMatching(
          /^Transaction cancelled, please refer cancellation reasons for specific reasons \[ConditionalCheckFailed, None\] \(Service: DynamoDb, Status Code: 400, Request ID: .+\)$/,
        ),
      }),
    ]);
    expect(record.events.find((e) => e.type === 'TaskStateExited' && e.stateName === 'ReadOrder')?.output).toMatchObject({
      current: { item: { status: { S: 'PENDING' } } },
    });
  });

  it('retries at once when a concurrent transaction conflicts (the Choice reads the reasons in the Cause)', async () => {
    // Prepare
    const conflict = new TransactionCanceledException({
      message: 'Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict, None]',
      $metadata: { httpStatusCode: 400, requestId: 'CONFLICT' },
      CancellationReasons: [{ Code: 'TransactionConflict' }, { Code: 'None' }],
    });
    const client = failingOnce(TransactWriteItemsCommand, conflict);
    const conflicted = await deploy(client);
    await setStock(10);
    const order = await placeOrder(1);

    // Act
    const record = await conflicted.registry.startExecution(conflicted.orders, cdcEvent('INSERT', order));
    await conflicted.stop();

    // Assess
    expect(record.status).toBe('SUCCEEDED');
    expect(client.failures).toBe(1);
    expect(record.events.filter((e) => e.type.endsWith('StateEntered')).map((e) => e.stateName)).toEqual([
      'ReadNewOrder', 'ReserveStock', 'WasItAConflict', 'CountConflict', 'ReserveStock', 'EnqueuePayment',
    ]);
    expect(record.events.find((e) => e.type === 'PassStateExited' && e.stateName === 'CountConflict')?.output).toMatchObject({ conflicts: 1 });
    expect(await readOrder(order)).toMatchObject({ status: 'RESERVED', paymentStatus: 'QUEUED' });
    expect(await stock()).toBe(9);
  });
});

describe('fulfillment workflow', () => {
  let deployed: Awaited<ReturnType<typeof deploy>>;

  beforeAll(async () => {
    deployed = await deploy();
  }, 30_000);

  afterAll(async () => {
    await deployed.stop();
  });

  it('promotes a RESERVED and PAID order, and is a no-op otherwise', async () => {
    // Prepare
    const paid = await placeOrder(1, { status: 'RESERVED', paymentStatus: 'PAID' });
    const unpaid = await placeOrder(1, { status: 'RESERVED', paymentStatus: 'QUEUED' });

    // Act
    const promoted = await deployed.registry.startExecution(deployed.fulfillment, cdcEvent('UPDATE', paid, { status: 'RESERVED', paymentStatus: 'PAID' }));
    const repeat = await deployed.registry.startExecution(deployed.fulfillment, cdcEvent('UPDATE', paid, { status: 'RESERVED', paymentStatus: 'PAID' }));
    const skipped = await deployed.registry.startExecution(deployed.fulfillment, cdcEvent('UPDATE', unpaid, { status: 'RESERVED' }));

    // Assess
    expect([promoted.status, repeat.status, skipped.status]).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    const promotedOrder = await readOrder(paid);
    expect(promotedOrder).toMatchObject({ status: 'READY_FOR_FULFILLMENT', readyAt: expect.any(String) });
    expect(await readOrder(unpaid)).toMatchObject({ status: 'RESERVED', paymentStatus: 'QUEUED' });
    expect(await readOrder(unpaid)).not.toHaveProperty('readyAt');
    expect(taskEvents(repeat, 'PromoteOrder')).toEqual([
      expect.objectContaining({
        error: 'DynamoDB.ConditionalCheckFailedException',
        cause: expect.stringMatching(/^The conditional request failed \(Service: AmazonDynamoDBv2; Status Code: 400; Error Code: ConditionalCheckFailedException; Request ID: .+; Proxy: null\)$/),
      }),
    ]);
    expect(repeat.events.at(-2)).toMatchObject({ type: 'SucceedStateExited', stateName: 'AlreadyPromoted' });
  });

  it('retries a throttled update as its Retry says', async () => {
    // Prepare
    const throttled = new ProvisionedThroughputExceededException({
      message: 'The level of configured provisioned throughput for the table was exceeded.',
      $metadata: { httpStatusCode: 400, requestId: 'THROTTLED' },
    });
    const client = failingOnce(UpdateItemCommand, throttled);
    const retrying = await deploy(client);
    const order = await placeOrder(1, { status: 'RESERVED', paymentStatus: 'PAID' });

    // Act
    const record = await retrying.registry.startExecution(retrying.fulfillment, cdcEvent('UPDATE', order, { status: 'RESERVED', paymentStatus: 'PAID' }));
    await retrying.stop();

    // Assess
    expect(record.status).toBe('SUCCEEDED');
    expect(taskEvents(record, 'PromoteOrder')).toEqual([
      expect.objectContaining({ type: 'TaskFailed', error: 'DynamoDB.ProvisionedThroughputExceededException', cause: expect.stringContaining('Request ID: THROTTLED') }),
      expect.objectContaining({ type: 'TaskSucceeded' }),
    ]);
    expect(await readOrder(order)).toMatchObject({ status: 'READY_FOR_FULFILLMENT' });
  });
});
