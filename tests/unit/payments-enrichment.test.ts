import { afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { enrichPayments, type PaymentsEnrichmentDeps } from '../../functions/payments-enrichment/handler.js';
import { InvalidInputError, UnknownSkuError } from '../../functions/shared/errors.js';
import { createTableLike, localDynamoDb } from '../helpers/dynamodb.js';
import { loadEvent } from '../helpers/events.js';

const { client, documentClient } = localDynamoDb();
let deps: PaymentsEnrichmentDeps;

/** The sample message with its body changed. */
function message(changes: Record<string, unknown>, messageId = 'm-changed'): SQSRecord {
  const [sample] = loadEvent<SQSRecord[]>('payments-enrichment/payment-queued.json');
  return { ...sample!, messageId, body: JSON.stringify({ ...JSON.parse(sample!.body), ...changes }) };
}

describe('payments-enrichment', () => {
  beforeAll(async () => {
    const tableName = await createTableLike(client, 'WimsTable');
    deps = { documentClient, tableName };
    await documentClient.send(
      new PutCommand({
        TableName: tableName,
        Item: { pk: 'INVENTORY#MACGUFFIN', sk: 'MODEL#LX', entityType: 'INVENTORY', sku: 'MACGUFFIN-LX', productName: 'MacGuffin LX', quantity: 1000, priceCents: 2500, lowStockThreshold: 100 },
      }),
    );
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('prices a queued payment and keys it on the order', async () => {
    // Prepare
    const messages = loadEvent<SQSRecord[]>('payments-enrichment/payment-queued.json');

    // Act
    const requests = await enrichPayments(messages, deps);

    // Assess
    expect(requests).toEqual([
      {
        // SHA-256 of the JSON of [pk, sk]
        idempotencyKey: 'payment-bc373d47fd4b803a940dc58830ee533d0be664ca169a206215d15e7d70e58cf3',
        orderId: 'd4f9a3c2-5b1e-4c8a-9f0e-2a7b6c3d1e58',
        amountCents: 5000,
        currency: 'USD',
        metadata: { pk: 'CUSTOMER#c-7f3a9e21', sk: 'ORDER#1795773600123#d4f9a3c2-5b1e-4c8a-9f0e-2a7b6c3d1e58' },
      },
    ]);
  });

  it('keys two customers\' orders named by the same Idempotency-Key apart, and bounds the key whatever the order key\'s length', async () => {
    // Prepare: the same client-chosen orderId under two customers, and one under a 1 KB customer id.
    const sameKey = { orderId: 'checkout-42', sk: 'ORDER#checkout-42' };
    const batch = [
      message({ ...sameKey, pk: 'CUSTOMER#alice' }, 'm-alice'),
      message({ ...sameKey, pk: 'CUSTOMER#bob' }, 'm-bob'),
      message({ ...sameKey, pk: `CUSTOMER#${'x'.repeat(1024)}` }, 'm-long'),
    ];

    // Act
    const keys = (await enrichPayments(batch, deps)).map((request) => request.idempotencyKey);

    // Assess
    expect(new Set(keys).size).toBe(3);
    for (const key of keys) expect(key).toMatch(/^payment-[0-9a-f]{64}$/);
  });

  it('reads each SKU\'s price once per invocation', async () => {
    // Prepare
    const send = jest.spyOn(documentClient, 'send');
    const batch = [message({ quantity: 1 }, 'm-1'), message({ quantity: 3, orderId: 'o-2' }, 'm-2')];

    // Act
    const requests = await enrichPayments(batch, deps);

    // Assess
    expect(requests.map((request) => request.amountCents)).toEqual([2500, 7500]);
    expect(send.mock.calls.filter(([command]) => command instanceof GetCommand)).toHaveLength(1);
  });

  it('fails on a SKU that has no inventory item, so the message is retried and dead-lettered', async () => {
    // Act / Assess
    await expect(enrichPayments([message({ sku: 'WIDGET-X1' })], deps)).rejects.toThrow(UnknownSkuError);
    await expect(enrichPayments([message({ sku: 'WIDGET-X1' })], deps)).rejects.toThrow('No inventory item for SKU WIDGET-X1');
  });

  it.each([
    ['not JSON', 'payment for order 42', /is not valid JSON/],
    ['no quantity', JSON.stringify({ orderId: 'o-1', pk: 'CUSTOMER#c-1', sk: 'ORDER#1', sku: 'MACGUFFIN-LX' }), /quantity must be a positive integer/],
    ['a negative quantity', JSON.stringify({ orderId: 'o-1', pk: 'CUSTOMER#c-1', sk: 'ORDER#1', sku: 'MACGUFFIN-LX', quantity: -2 }), /quantity/],
    ['an inventory key', JSON.stringify({ orderId: 'o-1', pk: 'INVENTORY#MACGUFFIN', sk: 'MODEL#LX', sku: 'MACGUFFIN-LX', quantity: 1 }), /order's key/],
  ])('rejects a body with %s, naming the message but not echoing the body', async (_case, body, reason) => {
    // Prepare
    const [sample] = loadEvent<SQSRecord[]>('payments-enrichment/payment-queued.json');

    // Act
    const result = enrichPayments([{ ...sample!, messageId: 'm-bad', body }], deps);

    // Assess
    await expect(result).rejects.toThrow(InvalidInputError);
    await expect(result).rejects.toThrow(reason);
    await expect(result).rejects.toThrow(/^Payment message m-bad/);
    await expect(result).rejects.not.toThrow('c-1');
  });
});
