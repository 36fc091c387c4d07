/**
 * The reconciler, end to end through the local runtime: orders left non-terminal (a lost change
 * event, a lost or dead-lettered payment message, a payment that never completes) are found through the sparse
 * OpenOrders index when the schedule fires, re-driven idempotently, and failed with their stock
 * released once their attempts run out; terminal orders leave the index.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import {
  CreateQueueCommand, DeleteMessageCommand, GetQueueAttributesCommand, PurgeQueueCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient,
} from '@aws-sdk/client-sqs';
import { SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import type { LocalStack } from '../../../local/runtime.js';
import { startTestStack, type TestStack } from '../../helpers/stack.js';
import { localClientConfig, waitUntil } from '../../../local/net.js';

const MAX_ATTEMPTS = 2;
const STOCK_KEY = { pk: 'INVENTORY#MACGUFFIN', sk: 'MODEL#LX' };
const SHARDS = ['OPEN#0', 'OPEN#1', 'OPEN#2', 'OPEN#3'];

let running: TestStack;
let stack: LocalStack;
let api: string;
let documents: DynamoDBDocumentClient;
let sqs: SQSClient;
let table: string;

type Order = Record<string, unknown> & { pk: string; sk: string; orderId: string; status: string };

async function stock(): Promise<number> {
  const { Item } = await documents.send(new GetCommand({ TableName: table, Key: STOCK_KEY, ConsistentRead: true }));
  return Item!.quantity as number;
}

async function orderOf(customerId: string): Promise<Order | undefined> {
  const { Items = [] } = await documents.send(new QueryCommand({
    TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `CUSTOMER#${customerId}` }, ConsistentRead: true,
  }));
  return Items[0] as Order | undefined;
}

async function waitForOrder(customerId: string, test: (order: Order) => boolean, description: string): Promise<Order> {
  return waitUntil(async () => {
    const order = await orderOf(customerId);
    return order !== undefined && test(order) && order;
  }, { timeoutMs: 30_000, description });
}

/** The sort keys of every order in the OpenOrders index. */
async function openOrderKeys(): Promise<string[]> {
  const keys: string[] = [];
  for (const shard of SHARDS) {
    const { Items = [] } = await documents.send(new QueryCommand({
      TableName: table, IndexName: 'OpenOrders', KeyConditionExpression: 'openShard = :shard', ExpressionAttributeValues: { ':shard': shard },
    }));
    keys.push(...Items.map((item) => `${String(item.pk)}|${String(item.sk)}`));
  }
  return keys;
}

const keyOf = (order: Order): string => `${order.pk}|${order.sk}`;

async function charges(orderId: string): Promise<number> {
  const { Items = [] } = await documents.send(new ScanCommand({ TableName: stack.outputs.ProviderLedgerTableName, ConsistentRead: true }));
  return Items.filter((charge) => charge.orderId === orderId).length;
}

async function postOrder(customerId: string, body: Record<string, unknown> = {}): Promise<string> {
  const response = await fetch(`${api}/orders`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ customerId, quantity: 3, ...body }),
  });
  expect(response.status).toBe(202);
  return ((await response.json()) as { orderId: string }).orderId;
}

function pipe(logicalId: string): { start(): Promise<void>; stop(): Promise<void> } {
  return stack.pipes.get(stack.resources.get(logicalId)!.physicalId)!;
}

async function fireReconciler(): Promise<void> {
  const invocation = await stack.scheduler.fire(stack.outputs.ReconcilerScheduleArn!);
  expect(invocation).toMatchObject({ ok: true });
}

/** Removes the messages waiting in PaymentsQueue (the pipe must be stopped): the payments "lost". */
async function losePayments(): Promise<number> {
  let lost = 0;
  for (;;) {
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({
      QueueUrl: stack.outputs.PaymentsQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0,
    }));
    if (Messages.length === 0) return lost;
    for (const message of Messages) {
      await sqs.send(new DeleteMessageCommand({ QueueUrl: stack.outputs.PaymentsQueueUrl, ReceiptHandle: message.ReceiptHandle }));
      lost++;
    }
  }
}

beforeAll(async () => {
  running = await startTestStack({
    stackName: 'wims-reconciler',
    // Every open order is overdue at once; the schedule's own timer stays out of the way (the tests fire it).
    parameterOverrides: { ReconcileDeadlineSeconds: '0', ReconcileMaxAttempts: String(MAX_ATTEMPTS), ReconcileSchedule: 'rate(1 day)' },
  });
  ({ stack, api, table, documents, sqs } = running);
}, 120_000);

afterAll(() => running?.stop(), 60_000);

describe('the reconciler', () => {
  it('re-drives an order left PENDING (its change event lost) to READY_FOR_FULFILLMENT, reserving and charging it once', async () => {
    // Prepare: the order is written while CdcPipe is stopped; restarted at LATEST, the pipe never sees its INSERT.
    const before = await stock();
    await pipe('CdcPipe').stop();
    const orderId = await postOrder('rec-pending');
    await pipe('CdcPipe').start();
    const pending = await waitForOrder('rec-pending', (order) => order.status === 'PENDING', 'the order stored');
    expect(await openOrderKeys()).toContain(keyOf(pending));
    expect(pending.openShard).toMatch(/^OPEN#[0-3]$/);
    expect(pending.openSince).toBe(pending.createdAt);

    // Act
    await fireReconciler();

    // Assess
    const ready = await waitForOrder('rec-pending', (order) => order.status === 'READY_FOR_FULFILLMENT', 'the order ready for fulfillment');
    expect(ready).toMatchObject({ orderId, paymentStatus: 'PAID', reconcileAttempts: 1 });
    expect(ready.openShard).toBeUndefined();
    expect(ready.openSince).toBeUndefined();
    expect(await stock()).toBe(before - 3);
    expect(await charges(orderId)).toBe(1);
    expect(await openOrderKeys()).not.toContain(keyOf(ready));

    // Act: a later run finds nothing left to do for it.
    await fireReconciler();
    await stack.events.idle();

    // Assess
    expect(await stock()).toBe(before - 3);
    expect(await orderOf('rec-pending')).toMatchObject({ status: 'READY_FOR_FULFILLMENT', reconcileAttempts: 1 });
  }, 90_000);

  it('enqueues a lost payment again, and an order it re-drives twice is still charged once', async () => {
    // Prepare: the payment message is lost between the reservation and the provider.
    const before = await stock();
    await pipe('PaymentsPipe').stop();
    const orderId = await postOrder('rec-queued');
    await waitForOrder('rec-queued', (order) => order.status === 'RESERVED' && order.paymentStatus === 'QUEUED', 'the order reserved');
    await waitUntil(async () => (await losePayments()) > 0, { timeoutMs: 10_000, description: 'the payment message removed' });

    // Act: two runs, each enqueues the payment again (the deadline is 0), then the payments flow again.
    await fireReconciler();
    await fireReconciler();
    await pipe('PaymentsPipe').start();

    // Assess
    const ready = await waitForOrder('rec-queued', (order) => order.status === 'READY_FOR_FULFILLMENT', 'the order ready for fulfillment');
    expect(ready).toMatchObject({ orderId, paymentStatus: 'PAID', reconcileAttempts: 2 });
    await stack.events.idle();
    await waitUntil(async () => {
      const { Attributes } = await sqs.send(new GetQueueAttributesCommand({
        QueueUrl: stack.outputs.PaymentsQueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }));
      return Attributes?.ApproximateNumberOfMessages === '0' && Attributes.ApproximateNumberOfMessagesNotVisible === '0';
    }, { timeoutMs: 20_000, description: 'both payment messages consumed' });
    expect(await charges(orderId)).toBe(1);
    expect(await stock()).toBe(before - 3);
    expect(await openOrderKeys()).not.toContain(keyOf(ready));
  }, 90_000);

  it('pays an order whose payment was dead-lettered once the provider is back, charging it once', async () => {
    // Prepare: the payment exhausts its receives (moved to the dead-letter queue, as SQS does) and PaymentFailedFunction marks it.
    const before = await stock();
    await pipe('PaymentsPipe').stop();
    const orderId = await postOrder('rec-dead-lettered');
    await waitForOrder('rec-dead-lettered', (order) => order.status === 'RESERVED' && order.paymentStatus === 'QUEUED', 'the order reserved');
    const payment = await waitUntil(async () => {
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.outputs.PaymentsQueueUrl, WaitTimeSeconds: 1 }));
      return Messages[0];
    }, { timeoutMs: 10_000, description: 'the payment message' });
    await sqs.send(new SendMessageCommand({ QueueUrl: stack.outputs.PaymentsDeadLetterQueueUrl, MessageBody: payment.Body }));
    await sqs.send(new DeleteMessageCommand({ QueueUrl: stack.outputs.PaymentsQueueUrl, ReceiptHandle: payment.ReceiptHandle }));
    await waitForOrder('rec-dead-lettered', (order) => order.paymentStatus === 'FAILED', 'the payment marked FAILED');
    await pipe('PaymentsPipe').start();

    // Act
    await fireReconciler();

    // Assess
    const ready = await waitForOrder('rec-dead-lettered', (order) => order.status === 'READY_FOR_FULFILLMENT', 'the order ready for fulfillment');
    expect(ready).toMatchObject({ orderId, paymentStatus: 'PAID', reconcileAttempts: 1 });
    expect(await charges(orderId)).toBe(1);
    expect(await stock()).toBe(before - 3);
  }, 90_000);

  it(`fails an order after ${MAX_ATTEMPTS} re-drives, releases its stock once, tells the customer and takes it out of the index`, async () => {
    // Prepare: customer notifications to a queue; payments never reach the provider.
    const { QueueUrl: notifications } = await sqs.send(new CreateQueueCommand({ QueueName: 'reconciler-customer-notifications' }));
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: notifications, AttributeNames: ['QueueArn'] }));
    const sns = new SNSClient(localClientConfig(stack.endpoints.sqs, 'us-east-1'));
    await sns.send(new SubscribeCommand({
      TopicArn: stack.outputs.CustomerNotificationsTopicArn, Protocol: 'sqs', Endpoint: Attributes!.QueueArn, Attributes: { RawMessageDelivery: 'true' },
    }));
    sns.destroy();
    await pipe('PaymentsPipe').stop();
    const before = await stock();
    const orderId = await postOrder('rec-stuck');
    const reserved = await waitForOrder('rec-stuck', (order) => order.status === 'RESERVED' && order.paymentStatus === 'QUEUED', 'the order reserved');
    expect(await stock()).toBe(before - 3);
    expect(await openOrderKeys()).toContain(keyOf(reserved));

    // Act: every run re-enqueues a payment that never completes.
    for (let run = 1; run <= MAX_ATTEMPTS; run++) {
      await fireReconciler();
      expect(await orderOf('rec-stuck')).toMatchObject({ status: 'RESERVED', reconcileAttempts: run });
    }
    await fireReconciler();

    // Assess: failed, its stock back, out of the index, the customer told.
    const failed = await waitForOrder('rec-stuck', (order) => order.status === 'FAILED', 'the order failed');
    expect(failed).toMatchObject({ orderId, failureReason: 'ReconcileAttemptsExhausted', paymentStatus: 'QUEUED', reconcileAttempts: MAX_ATTEMPTS + 1 });
    expect(await stock()).toBe(before);
    expect(await openOrderKeys()).not.toContain(keyOf(failed));
    const notice = await waitUntil(async () => {
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: notifications, WaitTimeSeconds: 1 }));
      return Messages.find((message) => message.Body?.includes(orderId));
    }, { timeoutMs: 15_000, description: 'the customer notification' });
    expect(JSON.parse(notice.Body!)).toEqual({ customerId: 'rec-stuck', orderId, status: 'FAILED', failureReason: 'ReconcileAttemptsExhausted' });

    // Act: more runs, and the exhausted-orders rule's event seen on the bus.
    await fireReconciler();
    await fireReconciler();
    await stack.events.idle();

    // Assess: nothing released twice.
    expect(await stock()).toBe(before);
    expect(await orderOf('rec-stuck')).toMatchObject({ status: 'FAILED', reconcileAttempts: MAX_ATTEMPTS + 1 });
    // ReconcileAttemptsExhaustedRule (whose MatchedEvents the alarm counts) matched the failure once.
    const exhausted = stack.events.deliveries().filter((delivery) => delivery.rule.endsWith('/wims-reconciler-reconcile-exhausted'));
    expect(exhausted).toHaveLength(1);
    // The re-enqueued payments must never be charged after the failure: drop them.
    await sqs.send(new PurgeQueueCommand({ QueueUrl: stack.outputs.PaymentsQueueUrl }));
  }, 120_000);

  it('fails a PENDING order no re-drive can carry, without failing the run for the others', async () => {
    // Prepare: an open order written past the API, its quantity not a number, beside an ordinary lost one.
    const malformed = { pk: 'CUSTOMER#rec-malformed', sk: 'ORDER#malformed-1' };
    await documents.send(new PutCommand({ TableName: table, Item: {
      ...malformed, orderId: 'malformed-1', customerId: 'rec-malformed', status: 'PENDING', quantity: 'many', sku: 'MACGUFFIN-LX',
      createdAt: Date.now(), openShard: 'OPEN#0', openSince: Date.now(),
    } }));
    await pipe('CdcPipe').stop();
    const orderId = await postOrder('rec-beside-malformed');
    await pipe('CdcPipe').start();
    await waitForOrder('rec-beside-malformed', (order) => order.status === 'PENDING', 'the ordinary order stored');

    // Act
    await fireReconciler();

    // Assess
    expect(await orderOf('rec-malformed')).toMatchObject({ status: 'FAILED', failureReason: 'Unprocessable', reconcileAttempts: 1 });
    expect(await openOrderKeys()).not.toContain(`${malformed.pk}|${malformed.sk}`);
    // The run went on past the malformed order: the ordinary one is reserved (PaymentsPipe stays stopped since the test above).
    await waitForOrder('rec-beside-malformed', (order) => order.orderId === orderId && order.status === 'RESERVED', 'the ordinary order reserved');
  }, 90_000);

  it('never lists a terminal order in the index', async () => {
    // Prepare / Act: a backordered order (a SKU without stock); the orders above are READY_FOR_FULFILLMENT and FAILED.
    await postOrder('rec-backordered', { sku: 'NOSUCH-SKU' });
    const backordered = await waitForOrder('rec-backordered', (order) => order.status === 'BACKORDERED', 'the order backordered');
    await fireReconciler();

    // Assess
    const open = await openOrderKeys();
    const terminal = await Promise.all(['rec-pending', 'rec-queued', 'rec-dead-lettered', 'rec-stuck', 'rec-malformed'].map(async (customerId) => (await orderOf(customerId))!));
    expect(terminal.map((order) => order.status)).toEqual(['READY_FOR_FULFILLMENT', 'READY_FOR_FULFILLMENT', 'READY_FOR_FULFILLMENT', 'FAILED', 'FAILED']);
    for (const order of [backordered, ...terminal]) {
      expect(open).not.toContain(keyOf(order));
      expect(order.openShard).toBeUndefined();
    }
    expect(await orderOf('rec-backordered')).not.toHaveProperty('reconcileAttempts');
  }, 60_000);
});
