/**
 * The usage meters through the local runtime: one order placed over HTTP must cost exactly the
 * billable requests its path through template.yaml implies, a stack without traffic must grow
 * only its polling counters, and the DynamoDB metering proxy must answer as DynamoDB does.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  ConditionalCheckFailedException, CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { startLocalStack, type LocalStack } from '../../local/runtime.js';
import { localClientConfig, waitUntil } from '../../local/net.js';
import type { UsageReport } from '../../local/services/usage.js';
import { perOrder } from '../../loadtest/cost.js';

let stack: LocalStack;
let api: string;

/** Express workflows bill 100 ms increments of 64 MB. */
const EXPRESS_INCREMENT_GB_SECONDS = 0.1 * (64 / 1024);

/** The usage without the polling counters, whose growth depends on time, not on traffic. */
function withoutPolling(usage: UsageReport): unknown {
  // requestsByAction counts every request, the pollers' too.
  const {
    sqs: { emptyReceives: _emptyReceives, ...sqs },
    dynamodb: { streamsEmptyReadRequests: _streams, requestsByAction: _requests, ...dynamodb },
    ...rest
  } = usage;
  return { ...rest, sqs, dynamodb };
}

/** Resolves with the usage once no billable counter has moved for a while: everything an order caused has happened. */
async function settledUsage(): Promise<UsageReport> {
  let previous = '';
  return waitUntil(() => {
    const usage = stack.usage();
    const current = JSON.stringify(withoutPolling(usage));
    const settled = current === previous;
    previous = current;
    return settled && usage;
  }, { intervalMs: 400, timeoutMs: 20_000, description: 'billable counters at rest' });
}

/** Places an order over HTTP and resolves once it is READY_FOR_FULFILLMENT and nothing billable moves any more. */
async function placeOrder(customerId: string): Promise<UsageReport> {
  const ready = new Promise<void>((resolve) => {
    const unsubscribe = stack.events.onEvent(({ event }) => {
      const image = (event.detail as { data?: { NewImage?: { customerId?: string; status?: string } } }).data?.NewImage;
      if (image?.customerId === customerId && image.status === 'READY_FOR_FULFILLMENT') {
        unsubscribe();
        resolve();
      }
    });
  });
  const response = await fetch(`${api}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ customerId, quantity: 2 }),
  });
  expect(response.status).toBe(202);
  await ready;
  return settledUsage();
}

beforeAll(async () => {
  stack = await startLocalStack({ inMemory: true, apiPort: 0, stackName: 'wims-usage' });
  api = stack.endpoints.apis.find((entry) => entry.logicalId === 'OrdersApi')!.url;
}, 120_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

describe('usage', () => {
  it('of one order is what template.yaml implies', async () => {
    // Prepare: a first order pays one-time costs (the fulfillment rule target looks its queue URL up once).
    const before = await placeOrder('warm-up');

    // Act
    const usage = perOrder(before, await placeOrder('measured'), 1);

    // Assess
    // OrdersApi: POST /orders and the provider's POST /payments/webhook; PaymentsProviderApi: the API destination's POST /payments.
    expect(usage.apiGateway).toEqual({ restRequests: 3, byApi: { OrdersApi: 2, PaymentsProviderApi: 1 } });

    // WimsTable, as DynamoDB Local meters it: the order's PutItem 1 + its ByCustomerNewest entry 1
    // + its OpenOrders entry 1 (orders carry no entityType, so no ByEntityType entry) = 3;
    // ReserveStock's TransactWriteItems 4 (OpenOrders is KEYS_ONLY and its keys do not change, so no
    // entry); the webhook's UpdateItem (PAID) 1 + ByCustomerNewest 1 (paymentStatus is projected) = 2;
    // the fulfillment workflow's UpdateItem (READY) 1 + ByCustomerNewest 1 (status is projected) + the
    // OpenOrders entry's removal 1 = 3. AWS bills the transaction
    // 8: doubled, the stock item 1 + its ByEntityType entry 1 (the sparse index projects ALL) + the
    // order 1 + its ByCustomerNewest entry 1. DynamoDB Local reports 4 for it once the table has two
    // indexes (6 with one), so this meter undercounts a reservation by 4 units.
    // IdempotencyTable: Powertools' in-progress record (PutItem) and its completion (UpdateItem).
    // ProviderLedgerTable: the charge. Reads: the payments enrichment's eventually consistent
    // GetItem of the price, half a unit.
    expect(usage.dynamodb).toMatchObject({
      writeRequestUnits: 15,
      readRequestUnits: 0.5,
      byTable: {
        WimsTable: { writeRequestUnits: 12, readRequestUnits: 0.5 },
        IdempotencyTable: { writeRequestUnits: 2, readRequestUnits: 0 },
        ProviderLedgerTable: { writeRequestUnits: 1, readRequestUnits: 0 },
      },
      failedConditionalWrites: 0,
      cancelledTransactions: 0,
    });

    // Five stream records (INSERT, the transaction's two MODIFYs, PAID, READY) reach CdcPipe in 4
    // or 5 GetRecords batches (the transaction's records usually share one); each batch is one
    // enrichment invocation, and each record one event after the (absent) filter. The stream's
    // second reader, FulfillmentHandoffPipe, polls on its own (its batches split the records
    // differently: 7 and 8 GetRecords in all were measured) and passes only READY's record.
    const batches = usage.dynamodb.streamsReadRequests;
    expect(batches).toBeGreaterThanOrEqual(7);
    expect(batches).toBeLessThanOrEqual(10);
    expect(usage.pipes).toEqual({ requests: 7, byPipe: { CdcPipe: 5, PaymentsPipe: 1, FulfillmentHandoffPipe: 1 } });

    // Lambda: one enrichment per CdcPipe batch (the hand-off pipe has none), one per payment
    // (PaymentsPipe's enrichment, the provider behind its API, the webhook); nothing failed, no
    // seeding. All arm64 at 256 MB, so GB-seconds come in steps of 1 ms × 0.25 GB.
    const cdcBatches = usage.lambda.requests - 3;
    expect(cdcBatches === 4 || cdcBatches === 5).toBe(true);
    expect(batches).toBeGreaterThan(cdcBatches);
    expect(Object.fromEntries(Object.entries(usage.lambda.byFunction).map(([id, fn]) => [id, fn.requests]))).toEqual({
      CdcEnrichmentFunction: cdcBatches,
      PaymentsEnrichmentFunction: 1,
      PaymentsProviderFunction: 1,
      PaymentWebhookFunction: 1,
      PaymentFailedFunction: 0,
      SeedInventoryFunction: 0,
      ReconcilerClockFunction: 0,
    });
    expect(usage.lambda.gbSeconds.x86_64).toBe(0);
    expect(usage.lambda.gbSeconds.arm64).toBeGreaterThan(0);
    const milliseconds = usage.lambda.gbSeconds.arm64 / 0.25 * 1000;
    expect(milliseconds).toBeCloseTo(Math.round(milliseconds), 6);

    // The orders workflow (started by the INSERT) and the fulfillment workflow (started by the PAID update), each at least one 100 ms increment.
    expect(usage.stepFunctions.expressRequests).toBe(2);
    expect(usage.stepFunctions.byStateMachine).toMatchObject({ OrdersStateMachine: { requests: 1 }, FulfillmentStateMachine: { requests: 1 } });
    const increments = usage.stepFunctions.expressGbSeconds / EXPRESS_INCREMENT_GB_SECONDS;
    expect(Math.round(increments)).toBeGreaterThanOrEqual(2);
    expect(increments).toBeCloseTo(Math.round(increments), 6);

    // SQS: the orders workflow's SendMessage to PaymentsQueue, PaymentsPipe's ReceiveMessage that
    // got it and its DeleteMessageBatch, FulfillmentHandoffPipe's SendMessage to FulfillmentQueue.
    expect(usage.sqs.requests).toBe(4);
    // Stock stays far above the low-stock threshold and nothing failed: no notification.
    expect(usage.sns).toEqual({ publishes: 0, emailDeliveries: 0 });

    // Every CDC event is a custom event, archived and ingested by schema discovery; one payment call.
    expect(usage.eventBridge).toMatchObject({
      customEvents: 5,
      archivedEvents: 5,
      schemaDiscoveryEvents: 5,
      apiDestinationInvocations: 1,
      replayedEvents: 0,
    });
    expect(usage.eventBridge.archiveProcessedBytes).toBeGreaterThan(0);
  }, 90_000);

  it('without traffic grows only the polling counters', async () => {
    // Prepare
    const before = stack.usage();

    // Act: wait until the pollers have polled the idle queues and stream again.
    const after = await waitUntil(() => {
      const usage = stack.usage();
      return usage.sqs.emptyReceives > before.sqs.emptyReceives && usage.dynamodb.streamsEmptyReadRequests > before.dynamodb.streamsEmptyReadRequests && usage;
    }, { timeoutMs: 10_000, description: 'idle polls' });

    // Assess
    expect(withoutPolling(after)).toEqual(withoutPolling(before));
  }, 30_000);

  it('of DynamoDB is counted by the proxy, which shows consumed capacity only to callers that ask', async () => {
    // Prepare: a table of the test's own, through the printed endpoint (the proxy).
    const client = new DynamoDBClient(localClientConfig(stack.endpoints.dynamodb, 'us-east-1'));
    const TableName = 'usage-proxy-test';
    try {
      await client.send(new CreateTableCommand({
        TableName, BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      }));
      const before = stack.usage().dynamodb;

      // Act
      const plain = await client.send(new PutItemCommand({ TableName, Item: { id: { S: 'a' } } }));
      const asked = await client.send(new PutItemCommand({ TableName, Item: { id: { S: 'b' }, text: { S: 'x'.repeat(1500) } }, ReturnConsumedCapacity: 'TOTAL' }));
      await client.send(new GetItemCommand({ TableName, Key: { id: { S: 'b' } }, ConsistentRead: true }));
      await client.send(new GetItemCommand({ TableName, Key: { id: { S: 'a' } } }));
      const refused = client.send(new PutItemCommand({ TableName, Item: { id: { S: 'a' } }, ConditionExpression: 'attribute_not_exists(id)' }));

      // Assess: 1 WRU (small item) + 2 (1.5 KB) + 1 for the refused conditional write;
      // 1 RRU strongly consistent + 0.5 eventually consistent.
      await expect(refused).rejects.toBeInstanceOf(ConditionalCheckFailedException);
      expect(plain.ConsumedCapacity).toBeUndefined();
      expect(asked.ConsumedCapacity).toEqual({ TableName, CapacityUnits: 2 });
      const after = stack.usage().dynamodb;
      expect(after.byTable[TableName]).toEqual({ writeRequestUnits: 4, readRequestUnits: 1.5 });
      expect(after.writeRequestUnits - before.writeRequestUnits).toBe(4);
      expect(after.readRequestUnits - before.readRequestUnits).toBe(1.5);
      expect(after.failedConditionalWrites - before.failedConditionalWrites).toBe(1);
    } finally {
      client.destroy();
    }
  });
});
