import { afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { markPaymentsFailed, type PaymentFailedDeps } from '../../functions/payment-failed/handler.js';
import { logger } from '../../functions/shared/powertools.js';
import { createTableLike, localDynamoDb } from '../helpers/dynamodb.js';
import { loadEvent } from '../helpers/events.js';

const ORDER_KEY = { pk: 'CUSTOMER#c-7f3a9e21', sk: 'ORDER#1795773600123#d4f9a3c2-5b1e-4c8a-9f0e-2a7b6c3d1e58' };
const { client, documentClient } = localDynamoDb();
let deps: PaymentFailedDeps;

async function putOrder(paymentStatus: string): Promise<void> {
  await documentClient.send(
    new PutCommand({ TableName: deps.tableName, Item: { ...ORDER_KEY, orderId: 'd4f9a3c2-5b1e-4c8a-9f0e-2a7b6c3d1e58', status: 'RESERVED', paymentStatus } }),
  );
}

async function order(): Promise<Record<string, unknown> | undefined> {
  return (await documentClient.send(new GetCommand({ TableName: deps.tableName, Key: ORDER_KEY }))).Item;
}

describe('payment-failed', () => {
  beforeAll(async () => {
    deps = { documentClient, tableName: await createTableLike(client, 'WimsTable') };
  });

  afterEach(() => {
    jest.restoreAllMocks();
    logger.setLogLevel('SILENT');
  });

  it('marks a QUEUED payment FAILED', async () => {
    // Prepare
    await putOrder('QUEUED');
    const event = loadEvent<SQSEvent>('payment-failed/payments-dead-lettered.json');

    // Act
    const response = await markPaymentsFailed(event, deps);

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(await order()).toMatchObject({ paymentStatus: 'FAILED', paymentFailedAt: expect.any(String) });
  });

  it.each(['PAID', 'FAILED'])('leaves a %s payment alone', async (paymentStatus) => {
    // Prepare
    await putOrder(paymentStatus);
    const before = await order();

    // Act
    const response = await markPaymentsFailed(loadEvent('payment-failed/payments-dead-lettered.json'), deps);

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(await order()).toEqual(before);
  });

  it('never creates an order that does not exist', async () => {
    // Prepare
    const event = loadEvent<SQSEvent>('payment-failed/payments-dead-lettered.json');
    const body = JSON.parse(event.Records[0]!.body);
    event.Records[0]!.body = JSON.stringify({ ...body, sk: 'ORDER#1#o-missing' });

    // Act
    const response = await markPaymentsFailed(event, deps);

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    const missing = await documentClient.send(new GetCommand({ TableName: deps.tableName, Key: { pk: ORDER_KEY.pk, sk: 'ORDER#1#o-missing' } }));
    expect(missing.Item).toBeUndefined();
  });

  it('drops a malformed message, logging its id but not its body', async () => {
    // Prepare
    logger.setLogLevel('INFO');
    const lines: string[] = [];
    for (const method of ['error', 'warn', 'info', 'log'] as const) {
      jest.spyOn(console, method).mockImplementation((...args: unknown[]) => lines.push(args.map(String).join(' ')));
    }
    const event = loadEvent<SQSEvent>('payment-failed/malformed-message.json');

    // Act
    const response = await markPaymentsFailed(event, deps);

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    const log = lines.join('\n');
    expect(log).toContain('Dropping a malformed payment message');
    expect(log).toContain('b8d4f0a2-3c5e-4a7b-9d1f-4e6a8c0b2d3f');
    expect(log).not.toContain('d4f9a3c2-5b1e-4c8a-9f0e-2a7b6c3d1e58'); // the body's orderId
    expect(log).not.toContain('two');
  });

  it('reports only the messages that hit a transient error for retry', async () => {
    // Prepare: a table that cannot be reached (here: does not exist) fails every write.
    const good = loadEvent<SQSEvent>('payment-failed/payments-dead-lettered.json').Records[0]!;
    const malformed = loadEvent<SQSEvent>('payment-failed/malformed-message.json').Records[0]!;
    const event: SQSEvent = { Records: [good, malformed, { ...good, messageId: 'second-good' }] };

    // Act
    const response = await markPaymentsFailed(event, { documentClient, tableName: 'no-such-table' });

    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: good.messageId }, { itemIdentifier: 'second-good' }] });
  });
});
