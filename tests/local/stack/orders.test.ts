/**
 * End to end through the local runtime: boots template.yaml (in memory) and drives it over
 * real HTTP and real SDK clients, as a user or the load test would.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ReceiveMessageCommand, SQSClient, CreateQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import type { LocalStack } from '../../../local/runtime.js';
import { startTestStack, type TestStack } from '../../helpers/stack.js';
import { localClientConfig, waitUntil } from '../../../local/net.js';
import { readOutbox } from '../../../local/services/messaging/topic-provider.js';

let running: TestStack;
let stack: LocalStack;
let api: string;
let documents: DynamoDBDocumentClient;
let sqs: SQSClient;
let table: string;

const SEED_STOCK = 1_000_000;

/** The API's answer to POST /orders: the order accepted, or an error. */
interface PostOrderAnswer {
  orderId?: string;
  status?: string;
  message?: string;
  error?: string;
}

/** An order as GET /orders/{customerId} lists it (the fields these tests read). */
interface ListedOrder {
  orderId: string;
  status: string;
  paymentStatus: string | null;
  quantity: number;
}

async function postOrder(body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: PostOrderAnswer }> {
  const response = await fetch(`${api}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as PostOrderAnswer };
}

async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(`${api}${path}`);
  expect(response.status).toBe(200);
  return response.json() as Promise<T>;
}

async function stockOf(sku: string): Promise<number> {
  const { items } = await getJson<{ items: Array<{ quantity: number }> }>(`/inventory?sku=${sku}`);
  return items[0]!.quantity;
}

async function ordersOf(customerId: string): Promise<ListedOrder[]> {
  return (await getJson<{ orders: ListedOrder[] }>(`/orders/${encodeURIComponent(customerId)}`)).orders;
}

async function orderCount(): Promise<number> {
  const { Items = [] } = await documents.send(new ScanCommand({ TableName: table, FilterExpression: 'begins_with(pk, :c)', ExpressionAttributeValues: { ':c': 'CUSTOMER#' } }));
  return Items.length;
}

beforeAll(async () => {
  running = await startTestStack({ stackName: 'wims-e2e' });
  ({ stack, api, table, documents, sqs } = running);
}, 120_000);

afterAll(() => running?.stop(), 60_000);

describe('an order', () => {
  it('goes PENDING → RESERVED → PAID → READY_FOR_FULFILLMENT, once, and lands in the fulfillment queue', async () => {
    // Prepare
    const before = await stockOf('MACGUFFIN-LX');
    expect(before).toBe(SEED_STOCK);

    // Act
    const { status, json } = await postOrder({ customerId: 'c1', quantity: 2 });

    // Assess
    expect(status).toBe(202);
    expect(json).toEqual({ orderId: expect.any(String), status: 'PENDING' });
    await waitUntil(async () => (await stockOf('MACGUFFIN-LX')) === before - 2, { timeoutMs: 10_000, description: 'stock reserved' });
    const [order] = await waitUntil(async () => {
      const orders = await ordersOf('c1');
      return orders[0]?.status === 'READY_FOR_FULFILLMENT' && orders;
    }, { timeoutMs: 20_000, description: 'order ready for fulfillment' });
    expect(order).toMatchObject({ orderId: json.orderId, quantity: 2, status: 'READY_FOR_FULFILLMENT', paymentStatus: 'PAID' });

    const fulfillment = await waitUntil(async () => {
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.outputs.FulfillmentQueueUrl, WaitTimeSeconds: 1 }));
      return Messages[0];
    }, { timeoutMs: 10_000, description: 'fulfillment message' });
    // quantity as the stream record carries it: a DynamoDB number, a decimal string.
    expect(JSON.parse(fulfillment.Body!)).toEqual({ orderId: json.orderId, customerId: 'c1', sku: 'MACGUFFIN-LX', quantity: '2' });

    const { Items: charges = [] } = await documents.send(new ScanCommand({ TableName: stack.outputs.ProviderLedgerTableName }));
    expect(charges.filter((charge) => charge.orderId === json.orderId)).toHaveLength(1);
    expect(await stockOf('MACGUFFIN-LX')).toBe(before - 2);
  }, 60_000);

  it('larger than the stock is BACKORDERED, never charged, and the customer is told', async () => {
    // Prepare: a second SKU with little stock, and a queue listening to customer notifications.
    await documents.send(new PutCommand({
      TableName: table,
      Item: { pk: 'INVENTORY#GIZMO', sk: 'MODEL#S', entityType: 'INVENTORY', sku: 'GIZMO-S', productName: 'Gizmo S', quantity: 5, priceCents: 100, lowStockThreshold: 1 },
    }));
    const { QueueUrl: notifications } = await sqs.send(new CreateQueueCommand({ QueueName: 'e2e-customer-notifications' }));
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: notifications, AttributeNames: ['QueueArn'] }));
    const sns = new SNSClient(localClientConfig(stack.endpoints.sqs, 'us-east-1'));
    await sns.send(new SubscribeCommand({ TopicArn: stack.outputs.CustomerNotificationsTopicArn, Protocol: 'sqs', Endpoint: Attributes!.QueueArn, Attributes: { RawMessageDelivery: 'true' } }));
    sns.destroy();

    // Act
    const { status, json } = await postOrder({ customerId: 'c2', quantity: 6, sku: 'GIZMO-S' });

    // Assess
    expect(status).toBe(202);
    const [order] = await waitUntil(async () => {
      const orders = await ordersOf('c2');
      return orders[0]?.status === 'BACKORDERED' && orders;
    }, { timeoutMs: 20_000, description: 'order backordered' });
    expect(order!.paymentStatus).toBeNull();
    const notice = await waitUntil(async () => {
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: notifications, WaitTimeSeconds: 1 }));
      return Messages[0];
    }, { timeoutMs: 10_000, description: 'customer notification' });
    expect(JSON.parse(notice.Body!)).toMatchObject({ customerId: 'c2', orderId: json.orderId, status: 'BACKORDERED' });
    const { Item: gizmo } = await documents.send(new GetCommand({ TableName: table, Key: { pk: 'INVENTORY#GIZMO', sk: 'MODEL#S' } }));
    expect(gizmo!.quantity).toBe(5);
    const { Items: charges = [] } = await documents.send(new ScanCommand({ TableName: stack.outputs.ProviderLedgerTableName }));
    expect(charges.some((charge) => charge.orderId === json.orderId)).toBe(false);
  }, 60_000);

  it('charges two customers who send the same Idempotency-Key once each, and lists keyed orders newest first', async () => {
    // Act
    const alice = await postOrder({ customerId: 'alice', quantity: 1 }, { 'Idempotency-Key': 'zz-checkout' });
    const bob = await postOrder({ customerId: 'bob', quantity: 1 }, { 'Idempotency-Key': 'zz-checkout' });
    await new Promise((resolve) => setTimeout(resolve, 5)); // a later createdAt
    const alicesSecond = await postOrder({ customerId: 'alice', quantity: 3 }, { 'Idempotency-Key': 'aa-checkout' });

    // Assess: each order is paid by its own charge ("aa-…" sorts before "zz-…" by key, after it by time).
    expect([alice.status, bob.status, alicesSecond.status]).toEqual([202, 202, 202]);
    const paid = (customerId: string, count: number) => waitUntil(async () => {
      const orders = await ordersOf(customerId);
      return orders.length === count && orders.every((order) => order.paymentStatus === 'PAID') && orders;
    }, { timeoutMs: 30_000, description: `${customerId}'s orders paid` });
    expect((await paid('alice', 2)).map((order) => order.orderId)).toEqual(['aa-checkout', 'zz-checkout']);
    await paid('bob', 1);
    const { Items: charges = [] } = await documents.send(new ScanCommand({ TableName: stack.outputs.ProviderLedgerTableName }));
    const shared = charges.filter((charge) => charge.orderId === 'zz-checkout');
    expect(shared).toHaveLength(2);
    expect(new Set(shared.map((charge) => charge.idempotencyKey)).size).toBe(2);
  }, 60_000);
});

describe('bad input', () => {
  it.each([
    ['a negative quantity', { customerId: 'bad', quantity: -1 }],
    ['no customerId', { quantity: 1 }],
    ['a quantity that is text', { customerId: 'bad', quantity: '2' }],
    ['an unknown field', { customerId: 'bad', quantity: 1, price: 0 }],
    ['a malformed sku', { customerId: 'bad', quantity: 1, sku: 'x"y' }],
    ['invalid JSON', '{"customerId": '],
  ])('is refused with a 4xx JSON error and writes nothing: %s', async (_name, body) => {
    const before = await orderCount();
    const { status, json } = await postOrder(body);
    expect(status).toBe(400);
    expect(json).toEqual({ message: expect.any(String), error: expect.any(String) });
    expect(await orderCount()).toBe(before);
  });

  it.each([
    ['U+0000', 'a\u0000b'],
    ['U+FFFE', 'a\uFFFEb'],
    ['a lone surrogate', 'a\uD83Db'],
    ['U+2028', 'a\u2028b'],
    ['U+202E', 'abc\u202Edef'],
    ['10,000 characters', 'c'.repeat(10_000)],
    ['a space', ' '],
    ['a tab', '\t'],
    ['a leading space', ' c1'],
    ['a trailing space', 'c1 '],
  ])('refuses a customerId with %s: 400 BadRequestBody, nothing written', async (_name, customerId) => {
    const before = await orderCount();
    const { status, json } = await postOrder({ customerId, quantity: 1 });
    expect({ status, json }).toEqual({ status: 400, json: { message: 'Invalid request body', error: 'BadRequestBody' } });
    expect(await orderCount()).toBe(before);
  });

  // API Gateway's parameter validation: required parameters must be "included and not blank"
  // (Request validation for REST APIs in API Gateway); a whitespace-only path segment is blank.
  it.each([['a space', ' '], ['a tab', '\t'], ['a line feed', '\n'], ['U+2028', '\u2028']])(
    'answers GET /orders/{customerId} for %s with 400 BadRequestParameters', async (_name, customerId) => {
      const response = await fetch(`${api}/orders/${encodeURIComponent(customerId)}`);
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ message: 'Missing required request parameters: [customerId]', error: 'BadRequestParameters' });
    },
  );

  it('carries a customerId that is not ASCII, an emoji included, to READY_FOR_FULFILLMENT', async () => {
    const customerId = 'Zoë 顧客 \u{1F6D2}';
    const { status, json } = await postOrder({ customerId, quantity: 1 });
    expect(status).toBe(202);
    const [order] = await waitUntil(async () => {
      const orders = await ordersOf(customerId);
      return orders[0]?.status === 'READY_FOR_FULFILLMENT' && orders;
    }, { timeoutMs: 30_000, description: 'the order ready for fulfillment' });
    expect(order).toMatchObject({ orderId: json.orderId, paymentStatus: 'PAID' });
    const { Items = [] } = await documents.send(new ScanCommand({ TableName: table, FilterExpression: 'orderId = :id', ExpressionAttributeValues: { ':id': json.orderId } }));
    expect(Items.map((item) => [item.pk, item.customerId])).toEqual([[`CUSTOMER#${customerId}`, customerId]]);
  }, 60_000);

  it('keeps quotes and backslashes in a customerId intact', async () => {
    const customerId = 'o\'brien "the \\ tester"';
    const { status } = await postOrder({ customerId, quantity: 1 });
    expect(status).toBe(202);
    const orders = await ordersOf(customerId);
    expect(orders).toHaveLength(1);
  });

  it('answers a repeated Idempotency-Key with 409 and creates one order, whatever the header\'s case', async () => {
    const first = await postOrder({ customerId: 'c3', quantity: 1 }, { 'Idempotency-Key': 'key-1' });
    const second = await postOrder({ customerId: 'c3', quantity: 1 }, { 'idempotency-key': 'key-1' });
    expect(first).toEqual({ status: 202, json: { orderId: 'key-1', status: 'PENDING' } });
    expect(second.status).toBe(409);
    expect(await ordersOf('c3')).toHaveLength(1);
  });

  it.each([['too long', 'k'.repeat(65)], ['with a space', 'my key'], ['with a quote', 'k"1']])(
    'refuses an Idempotency-Key %s with 400 and writes nothing', async (_name, key) => {
      const before = await orderCount();
      const { status, json } = await postOrder({ customerId: 'c-bad-key', quantity: 1 }, { 'Idempotency-Key': key });
      expect({ status, json }).toEqual({ status: 400, json: { message: expect.stringContaining('Idempotency-Key'), error: 'InvalidIdempotencyKey' } });
      expect(await orderCount()).toBe(before);
    },
  );
  it('refuses a payment webhook without the shared secret', async () => {
    const response = await fetch(`${api}/payments/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ orderId: 'x', status: 'succeeded', metadata: { pk: 'CUSTOMER#c1', sk: 'ORDER#1' } }),
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ message: expect.any(String) });
  });
});

describe('low stock', () => {
  it('sends exactly one e-mail per crossing of the threshold, whoever writes the stock', async () => {
    // Prepare: an item well above the threshold (100), written by a plain client.
    const key = { pk: 'INVENTORY#WIDGET', sk: 'MODEL#A' };
    await documents.send(new PutCommand({ TableName: table, Item: { ...key, entityType: 'INVENTORY', sku: 'WIDGET-A', productName: 'Widget A', quantity: 150, priceCents: 100, lowStockThreshold: 100 } }));
    const setStock = (quantity: number) => documents.send(new UpdateCommand({ TableName: table, Key: key, UpdateExpression: 'SET quantity = :q', ExpressionAttributeValues: { ':q': quantity } }));
    const lowStockMails = async () => (await readOutbox(stack.outboxDir)).filter((mail) => mail.message.includes('WIDGET-A'));
    const processed = () => [...stack.pipes.values()].reduce((sum, pipe) => sum + pipe.stats.records, 0);

    // Act: cross (150 → 100), stay below (99), restock (150), cross again (80).
    const recordsNeeded = processed() + 4;
    for (const quantity of [100, 99, 150, 80]) await setStock(quantity);

    // Assess
    await waitUntil(async () => (await lowStockMails()).length >= 2, { timeoutMs: 15_000, description: 'two low-stock e-mails' });
    await waitUntil(() => processed() >= recordsNeeded, { timeoutMs: 10_000, description: 'every stock change processed' });
    const mails = await lowStockMails();
    expect(mails).toHaveLength(2);
    expect(mails[0]!.message).toContain('down to 100 units');
    expect(mails[1]!.message).toContain('down to 80 units');
  }, 60_000);
});

describe('the fulfillment hand-off', () => {
  it('puts exactly one message per order in FulfillmentQueue, however often the archive is replayed', async () => {
    // Prepare: every order the tests above carried through, handed off.
    const queued = async (): Promise<number> => {
      const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({
        QueueUrl: stack.outputs.FulfillmentQueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }));
      return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible);
    };
    const ordersIn = async (status: string): Promise<number> => {
      const { Items = [] } = await documents.send(new ScanCommand({ TableName: table, FilterExpression: '#s = :s', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':s': status } }));
      return Items.length;
    };
    await waitUntil(async () => (await ordersIn('PENDING')) + (await ordersIn('RESERVED')) === 0, { timeoutMs: 30_000, description: 'every order settled' });
    const ready = await ordersIn('READY_FOR_FULFILLMENT');
    expect(ready).toBeGreaterThan(0);
    await waitUntil(async () => (await queued()) === ready, { timeoutMs: 15_000, description: 'one hand-off per ready order' });
    const fulfillment = stack.outputs.FulfillmentStateMachineArn!;
    const runs = () => stack.stepFunctions.registry.executions(fulfillment).length;

    // Act: the whole archive, three times.
    const archiveName = stack.resources.get('WimsEventArchive')!.physicalId;
    const runsBefore = runs();
    for (let replay = 0; replay < 3; replay++) {
      await stack.events.replay({ archiveName, startTime: new Date(0), endTime: new Date(Date.now() + 60_000) });
    }
    await waitUntil(() => runs() >= runsBefore + 3 * ready, { timeoutMs: 30_000, description: 'the replayed fulfillment executions' });
    await stack.events.idle();

    // Assess: the replayed promotions changed nothing, so nothing more was handed off.
    expect(await ordersIn('READY_FOR_FULFILLMENT')).toBe(ready);
    expect(await queued()).toBe(ready);
  }, 60_000);
});
