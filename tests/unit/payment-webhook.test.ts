import { beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { recordPayment, type PaymentWebhookDeps } from '../../functions/payment-webhook/handler.js';
import { signWebhook } from '../../functions/shared/signature.js';
import { createTableLike, localDynamoDb } from '../helpers/dynamodb.js';
import { loadEvent } from '../helpers/events.js';

const SECRET = 'local-webhook-secret-change-me'; // the secret the sample events are signed with
const ORDER_KEY = { pk: 'CUSTOMER#c-7f3a9e21', sk: 'ORDER#1795773600123#d4f9a3c2-5b1e-4c8a-9f0e-2a7b6c3d1e58' };
const ORDER_ID = 'd4f9a3c2-5b1e-4c8a-9f0e-2a7b6c3d1e58';
const { client, documentClient } = localDynamoDb();
let tableName: string;

/** Deps whose clock reads `secondsAfterSigning` after the sample event's signature. */
function depsAt(event: APIGatewayProxyEvent, secondsAfterSigning: number): PaymentWebhookDeps {
  const signedAt = Number(event.headers['x-wims-timestamp']);
  return { documentClient, tableName, webhookSecret: SECRET, now: () => (signedAt + secondsAfterSigning) * 1000 };
}

async function order(): Promise<Record<string, unknown> | undefined> {
  return (await documentClient.send(new GetCommand({ TableName: tableName, Key: ORDER_KEY }))).Item;
}

describe('payment-webhook', () => {
  beforeAll(async () => {
    tableName = await createTableLike(client, 'WimsTable');
  });

  beforeEach(async () => {
    await documentClient.send(
      new PutCommand({ TableName: tableName, Item: { ...ORDER_KEY, orderId: ORDER_ID, sku: 'MACGUFFIN-LX', quantity: 2, status: 'RESERVED', paymentStatus: 'QUEUED' } }),
    );
  });

  it('marks the order PAID on a signed confirmation', async () => {
    // Prepare
    const event = loadEvent<APIGatewayProxyEvent>('payment-webhook/payment-confirmed.json');

    // Act
    const response = await recordPayment(event, depsAt(event, 1));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ status: 'recorded' });
    expect(await order()).toMatchObject({
      status: 'RESERVED',
      paymentStatus: 'PAID',
      chargeId: '0c6f1f8e-3a52-4d7b-b8e1-6f2d9c4a7e30',
      paidAt: '2026-11-27T10:00:05.000Z',
    });
  });

  it('treats a repeated confirmation as a no-op', async () => {
    // Prepare
    const event = loadEvent<APIGatewayProxyEvent>('payment-webhook/payment-confirmed.json');
    await recordPayment(event, depsAt(event, 1));
    const recorded = await order();

    // Act
    const repeat = await recordPayment(event, depsAt(event, 30));

    // Assess
    expect(repeat.statusCode).toBe(200);
    expect(JSON.parse(repeat.body)).toEqual({ status: 'already-recorded' });
    expect(await order()).toEqual(recorded);
  });

  it('records the payment of an order whose payment was marked FAILED (the money was taken)', async () => {
    // Prepare
    await documentClient.send(new PutCommand({ TableName: tableName, Item: { ...ORDER_KEY, orderId: ORDER_ID, status: 'RESERVED', paymentStatus: 'FAILED' } }));
    const event = loadEvent<APIGatewayProxyEvent>('payment-webhook/payment-confirmed.json');

    // Act
    const response = await recordPayment(event, depsAt(event, 1));

    // Assess
    expect(JSON.parse(response.body)).toEqual({ status: 'recorded' });
    expect(await order()).toMatchObject({ paymentStatus: 'PAID' });
  });

  it('answers 401 to a bad signature and changes nothing', async () => {
    // Prepare
    const event = loadEvent<APIGatewayProxyEvent>('payment-webhook/bad-signature.json');

    // Act
    const response = await recordPayment(event, depsAt(event, 1));

    // Assess
    expect(response.statusCode).toBe(401);
    expect(JSON.parse(response.body)).toEqual({ error: 'Unauthorized', message: expect.any(String) });
    expect(await order()).toMatchObject({ paymentStatus: 'QUEUED' });
  });

  it.each([
    ['more than 5 minutes old', 301],
    ['more than 5 minutes in the future', -301],
  ])('answers 401 to a signature %s', async (_case, secondsAfterSigning) => {
    // Prepare
    const event = loadEvent<APIGatewayProxyEvent>('payment-webhook/payment-confirmed.json');

    // Act
    const response = await recordPayment(event, depsAt(event, secondsAfterSigning));

    // Assess
    expect(response.statusCode).toBe(401);
    expect(await order()).toMatchObject({ paymentStatus: 'QUEUED' });
  });

  it('answers 401 when the body was changed after signing', async () => {
    // Prepare
    const event = loadEvent<APIGatewayProxyEvent>('payment-webhook/payment-confirmed.json');
    event.body = event.body!.replace('"amountCents":5000', '"amountCents":1');

    // Act
    const response = await recordPayment(event, depsAt(event, 1));

    // Assess
    expect(response.statusCode).toBe(401);
  });

  it.each([
    ['no signature headers', {}],
    ['a malformed timestamp', { 'x-wims-timestamp': 'yesterday' }],
  ])('answers 401 to a call with %s', async (_case, headers: Record<string, string>) => {
    // Prepare
    const event = loadEvent<APIGatewayProxyEvent>('payment-webhook/payment-confirmed.json');
    const { 'x-wims-timestamp': _timestamp, 'x-wims-signature': _signature, ...unsigned } = event.headers;
    event.headers = { ...unsigned, ...headers };

    // Act
    const response = await recordPayment(event, depsAt(loadEvent('payment-webhook/payment-confirmed.json'), 1));

    // Assess
    expect(response.statusCode).toBe(401);
  });

  it.each([
    ['that is not JSON', 'chargeId=ch_1'],
    ['without metadata', JSON.stringify({ chargeId: 'ch_1', orderId: ORDER_ID, status: 'succeeded', amountCents: 5000, currency: 'USD' })],
    ['whose metadata is an inventory key', JSON.stringify({ chargeId: 'ch_1', orderId: ORDER_ID, status: 'succeeded', amountCents: 5000, currency: 'USD', metadata: { pk: 'INVENTORY#MACGUFFIN', sk: 'MODEL#LX' } })],
    ['with another status', JSON.stringify({ chargeId: 'ch_1', orderId: ORDER_ID, status: 'failed', amountCents: 5000, currency: 'USD', metadata: ORDER_KEY })],
  ])('answers 400 to a signed body %s', async (_case, body) => {
    // Prepare
    const now = Date.now();
    const event = loadEvent<APIGatewayProxyEvent>('payment-webhook/payment-confirmed.json');
    event.headers = { 'content-type': 'application/json', ...signWebhook(SECRET, body, Math.floor(now / 1000)) };
    event.body = body;

    // Act
    const response = await recordPayment(event, { documentClient, tableName, webhookSecret: SECRET, now: () => now });

    // Assess
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({ error: 'BadRequestBody' });
    expect(await order()).toMatchObject({ paymentStatus: 'QUEUED' });
  });

  it('never creates an order that does not exist', async () => {
    // Prepare
    const now = Date.now();
    const missing = { pk: 'CUSTOMER#c-nobody', sk: 'ORDER#1#o-missing' };
    const body = JSON.stringify({ chargeId: 'ch_1', orderId: 'o-missing', status: 'succeeded', amountCents: 2500, currency: 'USD', metadata: missing });
    const event = loadEvent<APIGatewayProxyEvent>('payment-webhook/payment-confirmed.json');
    event.headers = signWebhook(SECRET, body, Math.floor(now / 1000));
    event.body = body;

    // Act
    const response = await recordPayment(event, { documentClient, tableName, webhookSecret: SECRET, now: () => now });

    // Assess
    expect(JSON.parse(response.body)).toEqual({ status: 'already-recorded' });
    expect((await documentClient.send(new GetCommand({ TableName: tableName, Key: missing }))).Item).toBeUndefined();
  });

  it('reads a base64-encoded body as API Gateway passes binary bodies', async () => {
    // Prepare
    const event = loadEvent<APIGatewayProxyEvent>('payment-webhook/payment-confirmed.json');
    event.body = Buffer.from(event.body!).toString('base64');
    event.isBase64Encoded = true;

    // Act
    const response = await recordPayment(event, depsAt(event, 1));

    // Assess
    expect(JSON.parse(response.body)).toEqual({ status: 'recorded' });
  });
});
