import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { DeleteCommand, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { createCharger, handlePayment, type PaymentsProviderDeps } from '../../functions/payments-provider/handler.js';
import { recordPayment } from '../../functions/payment-webhook/handler.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyWebhook } from '../../functions/shared/signature.js';
import { createTableLike, localDynamoDb } from '../helpers/dynamodb.js';
import { loadEvent } from '../helpers/events.js';
import { startRecordingServer, type RecordingServer } from '../helpers/http.js';
import { lambdaContext } from '../helpers/lambda.js';

const API_KEY = 'local-provider-api-key-change-me'; // the sample event's x-api-key
const SECRET = 'local-webhook-secret-change-me';
const { client, documentClient } = localDynamoDb();
let ledgerTableName: string;
let idempotencyTableName: string;
let webhook: RecordingServer;
let deps: PaymentsProviderDeps;
let keyCounter = 0;
let idempotencyKey: string;

/** The sample charge request, under this test's Idempotency-Key, with body fields changed. */
function chargeEvent(changes: Record<string, unknown> = {}): APIGatewayProxyEvent {
  const event = loadEvent<APIGatewayProxyEvent>('payments-provider/charge-requested.json');
  event.headers['Idempotency-Key'] = idempotencyKey;
  event.body = JSON.stringify({ ...JSON.parse(event.body!), idempotencyKey, ...changes });
  return event;
}

async function ledgerItems(key: string): Promise<Record<string, unknown>[]> {
  const { Items } = await documentClient.send(
    new ScanCommand({ TableName: ledgerTableName, FilterExpression: 'idempotencyKey = :key', ExpressionAttributeValues: { ':key': key } }),
  );
  return Items ?? [];
}

/** Deletes every idempotency record (each test uses its own keys). */
async function deleteIdempotencyRecords(): Promise<void> {
  const { Items = [] } = await documentClient.send(new ScanCommand({ TableName: idempotencyTableName }));
  for (const item of Items) await documentClient.send(new DeleteCommand({ TableName: idempotencyTableName, Key: { id: item.id } }));
}

describe('payments-provider', () => {
  beforeAll(async () => {
    ledgerTableName = await createTableLike(client, 'ProviderLedgerTable');
    idempotencyTableName = await createTableLike(client, 'IdempotencyTable');
    webhook = await startRecordingServer();
    deps = {
      charge: createCharger({ client, ledgerTableName, idempotencyTableName }),
      apiKey: API_KEY,
      webhookUrl: webhook.url,
      webhookSecret: SECRET,
    };
  });

  afterAll(() => webhook.close());

  beforeEach(() => {
    idempotencyKey = `payment-test-${++keyCounter}-${Date.now()}`;
    webhook.respondWith(200);
    webhook.requests.length = 0;
  });

  it('charges once, records the charge in the ledger and confirms it to the webhook, signed', async () => {
    // Prepare
    const event = chargeEvent();

    // Act
    const response = await handlePayment(event, deps, lambdaContext('PaymentsProviderFunction'));

    // Assess
    expect(response.statusCode).toBe(201);
    const { chargeId, status } = JSON.parse(response.body);
    expect(status).toBe('succeeded');
    expect(await ledgerItems(idempotencyKey)).toEqual([
      { chargeId, idempotencyKey, orderId: 'd4f9a3c2-5b1e-4c8a-9f0e-2a7b6c3d1e58', amountCents: 5000, currency: 'USD', createdAt: expect.any(String) },
    ]);
    const [call, ...more] = webhook.requests;
    expect(more).toHaveLength(0);
    expect(call?.method).toBe('POST');
    expect(JSON.parse(call!.body)).toEqual({
      chargeId,
      orderId: 'd4f9a3c2-5b1e-4c8a-9f0e-2a7b6c3d1e58',
      status: 'succeeded',
      amountCents: 5000,
      currency: 'USD',
      metadata: { pk: 'CUSTOMER#c-7f3a9e21', sk: 'ORDER#1795773600123#d4f9a3c2-5b1e-4c8a-9f0e-2a7b6c3d1e58' },
    });
    const signed = {
      body: call!.body,
      timestamp: call!.headers[TIMESTAMP_HEADER.toLowerCase()] as string,
      signature: call!.headers[SIGNATURE_HEADER.toLowerCase()] as string,
    };
    expect(signed.signature).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(verifyWebhook(SECRET, signed, Math.floor(Date.now() / 1000))).toBeUndefined();
  });

  it('answers a repeated Idempotency-Key with the same charge and writes no second ledger item', async () => {
    // Prepare
    const first = await handlePayment(chargeEvent(), deps);

    // Act
    const repeat = await handlePayment(chargeEvent(), deps);

    // Assess
    expect(repeat.statusCode).toBe(201);
    expect(JSON.parse(repeat.body).chargeId).toBe(JSON.parse(first.body).chargeId);
    expect(await ledgerItems(idempotencyKey)).toHaveLength(1);
    expect(webhook.requests).toHaveLength(2); // the confirmation is sent again: the webhook ignores repeats
    const { Items: records = [] } = await documentClient.send(new ScanCommand({ TableName: idempotencyTableName }));
    expect(records).toContainEqual(
      expect.objectContaining({ id: expect.stringMatching(/^payments-provider\.charge#/), status: 'COMPLETED', data: expect.objectContaining({ chargeId: JSON.parse(first.body).chargeId }) }),
    );
  });

  it('charges once when an interrupted invocation left the ledger item but no completed idempotency record', async () => {
    // Prepare: a first charge, then its idempotency record gone, as when the invocation that wrote
    // the ledger item was cut short and its in-progress record expired.
    const first = await handlePayment(chargeEvent(), deps);
    await deleteIdempotencyRecords();

    // Act
    const retried = await handlePayment(chargeEvent(), deps);
    await deleteIdempotencyRecords();
    const reused = await handlePayment(chargeEvent({ amountCents: 9999 }), deps);

    // Assess
    expect(retried.statusCode).toBe(201);
    expect(JSON.parse(retried.body).chargeId).toBe(JSON.parse(first.body).chargeId);
    expect(await ledgerItems(idempotencyKey)).toHaveLength(1);
    expect(reused.statusCode).toBe(422);
  });

  it('answers 502 when the webhook fails, and a retry confirms the same charge without charging twice', async () => {
    // Prepare
    webhook.respondWith(500);

    // Act
    const failed = await handlePayment(chargeEvent(), deps);
    webhook.respondWith(200);
    const retried = await handlePayment(chargeEvent(), deps);

    // Assess
    expect(failed.statusCode).toBe(502);
    expect(JSON.parse(failed.body)).toMatchObject({ error: 'WebhookDeliveryFailed' });
    expect(retried.statusCode).toBe(201);
    const charges = await ledgerItems(idempotencyKey);
    expect(charges).toHaveLength(1);
    expect(JSON.parse(retried.body).chargeId).toBe(charges[0]?.chargeId);
    expect(webhook.requests.map((request) => JSON.parse(request.body).chargeId)).toEqual([charges[0]?.chargeId, charges[0]?.chargeId]);
  });

  it('answers 502 when the webhook cannot be reached', async () => {
    // Act
    const response = await handlePayment(chargeEvent(), { ...deps, webhookUrl: 'http://127.0.0.1:9/payments/webhook' });

    // Assess
    expect(response.statusCode).toBe(502);
    expect(await ledgerItems(idempotencyKey)).toHaveLength(1);
  });

  it.each([
    ['no API key', undefined],
    ['a wrong API key', 'not-the-key'],
  ])('answers 403 to a request with %s, charging nothing', async (_case, apiKey) => {
    // Prepare
    const event = chargeEvent();
    delete event.headers['x-api-key'];
    if (apiKey !== undefined) event.headers['X-API-Key'] = apiKey;

    // Act
    const response = await handlePayment(event, deps);

    // Assess
    expect(response.statusCode).toBe(403);
    expect(JSON.parse(response.body)).toEqual({ error: 'Forbidden', message: expect.any(String) });
    expect(await ledgerItems(idempotencyKey)).toHaveLength(0);
  });

  it('reads headers whatever their case', async () => {
    // Prepare
    const event = chargeEvent();
    event.headers = { 'X-API-KEY': API_KEY, 'idempotency-key': idempotencyKey, 'content-type': 'application/json' };

    // Act
    const response = await handlePayment(event, deps);

    // Assess
    expect(response.statusCode).toBe(201);
  });

  it('answers 400 without an Idempotency-Key', async () => {
    // Prepare
    const event = chargeEvent();
    delete event.headers['Idempotency-Key'];

    // Act
    const response = await handlePayment(event, deps);

    // Assess
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({ error: 'MissingIdempotencyKey' });
  });

  it.each([
    ['amountCents 0', { amountCents: 0 }, /amountCents/],
    ['a fractional amount', { amountCents: 12.5 }, /amountCents/],
    ['a lower-case currency', { currency: 'usd' }, /currency/],
    ['no orderId', { orderId: undefined }, /orderId/],
    ['metadata that is not an object', { metadata: 'CUSTOMER#c-1' }, /metadata/],
    ['an idempotencyKey that differs from the header', { idempotencyKey: 'payment-other' }, /differs/],
  ])('answers 400 to a body with %s, charging nothing', async (_case, changes, reason) => {
    // Act
    const response = await handlePayment(chargeEvent(changes), deps);

    // Assess
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toEqual({ error: 'BadRequestBody', message: expect.stringMatching(reason) });
    expect(await ledgerItems(idempotencyKey)).toHaveLength(0);
  });

  it('answers 400 to a body that is not JSON', async () => {
    // Prepare
    const event = chargeEvent();
    event.body = 'amount=5000';

    // Act
    const response = await handlePayment(event, deps);

    // Assess
    expect(response.statusCode).toBe(400);
  });

  it('answers 422 when an Idempotency-Key is reused for a different payment', async () => {
    // Prepare
    await handlePayment(chargeEvent(), deps);

    // Act
    const response = await handlePayment(chargeEvent({ amountCents: 9999 }), deps);

    // Assess
    expect(response.statusCode).toBe(422);
    expect(await ledgerItems(idempotencyKey)).toHaveLength(1);
  });

  it('sends a confirmation the payment webhook accepts', async () => {
    // Prepare: the order the sample charge pays for, waiting for its payment.
    const tableName = await createTableLike(client, 'WimsTable');
    const key = { pk: 'CUSTOMER#c-7f3a9e21', sk: 'ORDER#1795773600123#d4f9a3c2-5b1e-4c8a-9f0e-2a7b6c3d1e58' };
    await documentClient.send(
      new PutCommand({ TableName: tableName, Item: { ...key, orderId: 'd4f9a3c2-5b1e-4c8a-9f0e-2a7b6c3d1e58', status: 'RESERVED', paymentStatus: 'QUEUED' } }),
    );
    await handlePayment(chargeEvent(), deps);
    const [call] = webhook.requests;
    const webhookEvent = loadEvent<APIGatewayProxyEvent>('payment-webhook/payment-confirmed.json');
    webhookEvent.headers = call!.headers as Record<string, string>;
    webhookEvent.body = call!.body;

    // Act
    const response = await recordPayment(webhookEvent, { documentClient, tableName, webhookSecret: SECRET });

    // Assess
    expect(response.statusCode).toBe(200);
    const { Item } = await documentClient.send(new GetCommand({ TableName: tableName, Key: key }));
    expect(Item).toMatchObject({ paymentStatus: 'PAID', chargeId: JSON.parse(call!.body).chargeId });
  });
});
