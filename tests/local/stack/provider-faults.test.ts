/**
 * End to end through the local runtime with the stand-in provider failing half its charge
 * requests (ProviderFaultFailureRate 0.5, before or after the ledger write): the payments pipe's
 * API destination calls again with the same Idempotency-Key, so every order is still paid once.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { GetQueueAttributesCommand, SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { LocalStack } from '../../../local/runtime.js';
import { startTestStack, type TestStack } from '../../helpers/stack.js';
import { waitUntil } from '../../../local/net.js';

const ORDERS = 10;

let running: TestStack;
let stack: LocalStack;
let api: string;
let documents: DynamoDBDocumentClient;
let sqs: SQSClient;

beforeAll(async () => {
  running = await startTestStack({
    stackName: 'wims-provider-faults',
    parameterOverrides: { ProviderFaultFailureRate: '0.5', ProviderFaultFailurePoint: 'either' },
  });
  ({ stack, api, documents, sqs } = running);
  // A failed call leaves the payment on PaymentsQueue until its visibility timeout (300 s), as
  // Pipes does with an SQS source: 1 s here so that the test is short. The receive budget is
  // raised from 10 to 30 so that no payment is dead-lettered by chance (at 50 %, one in 1024
  // would be with 10 receives; the dead-letter path has its own tests).
  const queueUrl = stack.outputs.PaymentsQueueUrl!;
  const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] }));
  const redrive = { ...JSON.parse(Attributes.RedrivePolicy!), maxReceiveCount: 30 };
  await sqs.send(new SetQueueAttributesCommand({ QueueUrl: queueUrl, Attributes: { VisibilityTimeout: '1', RedrivePolicy: JSON.stringify(redrive) } }));
}, 120_000);

afterAll(() => running?.stop(), 60_000);

describe('a provider failing half its requests', () => {
  it('still gets every order to READY_FOR_FULFILLMENT, with exactly one ledger charge each', async () => {
    // Act
    const orderIds: string[] = [];
    for (let order = 0; order < ORDERS; order++) {
      const response = await fetch(`${api}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ customerId: `chaos-${order}`, quantity: 1 }),
      });
      expect(response.status).toBe(202);
      orderIds.push(((await response.json()) as { orderId: string }).orderId);
    }

    // Assess
    const statuses = await waitUntil(async () => {
      const found = await Promise.all(orderIds.map(async (_orderId, order) => {
        const response = await fetch(`${api}/orders/chaos-${order}`);
        const { orders } = (await response.json()) as { orders: Array<{ status: string; paymentStatus: string | null }> };
        return orders[0];
      }));
      return found.every((order) => order?.status === 'READY_FOR_FULFILLMENT') && found;
    }, { timeoutMs: 90_000, description: 'every order ready for fulfillment' });
    expect(statuses.map((order) => order?.paymentStatus)).toEqual(orderIds.map(() => 'PAID'));

    const { Items: charges = [] } = await documents.send(new ScanCommand({ TableName: stack.outputs.ProviderLedgerTableName }));
    expect(charges.map((charge) => charge.orderId).sort()).toEqual([...orderIds].sort());

    // The faults did happen, and every failed call was made again (at 50 %, none in 10 orders is a 1-in-1024 run).
    // A call is counted when it starts: the last answers may still be on their way once the orders are ready.
    const stats = () => Object.values(stack.events.apiDestinations.stats())[0]!;
    const calls = await waitUntil(() => {
      const now = stats();
      return now.calls === now.succeeded + now.failed + now.throttled && now;
    }, { description: 'every API destination call answered' }).catch(() => stats());
    expect(calls.failed).toBeGreaterThan(0);
    expect(calls.succeeded).toBeGreaterThanOrEqual(ORDERS);
    expect(calls.calls).toBe(calls.succeeded + calls.failed + calls.throttled);
  }, 120_000);
});
