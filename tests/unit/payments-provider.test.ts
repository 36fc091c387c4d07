import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { DeleteCommand, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import {
  chargeIdOf,
  createCharger,
  faultSettingsFromEnv,
  handlePayment,
  NO_FAULTS,
  ProviderFaults,
  type FaultEnvironment,
  type FaultSettings,
  type PaymentsProviderDeps,
} from '../../functions/payments-provider/handler.js';
import { recordPayment } from '../../functions/payment-webhook/handler.js';
import { ConfigurationError } from '../../functions/shared/errors.js';
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

async function idempotencyRecordCount(): Promise<number> {
  const { Items = [] } = await documentClient.send(new ScanCommand({ TableName: idempotencyTableName }));
  return Items.length;
}

/** mulberry32: a seeded source of chance, so a run of draws can be replayed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A source of chance that gives these draws, in order, and fails the test if asked for more. */
function draws(...values: number[]): () => number {
  return () => {
    const next = values.shift();
    if (next === undefined) throw new Error('more random draws than the test scripted');
    return next;
  };
}

/** Faults with these settings (the rest off); chance, clock and sleep as given, else a draw fails the test, the clock is real and sleeps are instant. */
function faultsWith(settings: Partial<FaultSettings>, environment: Partial<FaultEnvironment> = {}): ProviderFaults {
  return new ProviderFaults(
    { ...NO_FAULTS, ...settings },
    { random: draws(), now: Date.now, sleep: () => Promise.resolve(), ...environment },
  );
}

/** The fault settings with these variables set (tests of the settings reset them afterwards). */
function faultSettingsFromEnvWith(variables: Record<string, string>): FaultSettings {
  Object.assign(process.env, variables);
  return faultSettingsFromEnv();
}

/** The webhook call's signature, checked as the payment webhook checks it. */
function signatureProblem(call: { body: string; headers: Record<string, unknown> }): string | undefined {
  return verifyWebhook(SECRET, {
    body: call.body,
    timestamp: call.headers[TIMESTAMP_HEADER.toLowerCase()] as string,
    signature: call.headers[SIGNATURE_HEADER.toLowerCase()] as string,
  }, Math.floor(Date.now() / 1000));
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

  afterEach(() => {
    for (const name of Object.keys(process.env)) if (name.startsWith('PROVIDER_FAULT_')) delete process.env[name];
  });

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

  describe('fault injection', () => {
    const statusOf = async (faults: ProviderFaults, event = chargeEvent()): Promise<number> => (await handlePayment(event, { ...deps, faults })).statusCode;

    it('with every fault off, charges as without fault injection and draws no chance', async () => {
      // Act
      const response = await handlePayment(chargeEvent(), { ...deps, faults: faultsWith({}) });

      // Assess
      expect(response.statusCode).toBe(201);
      expect(await ledgerItems(idempotencyKey)).toHaveLength(1);
      expect(webhook.requests).toHaveLength(1);
    });

    it('adds the latency before every request, even one it refuses', async () => {
      // Prepare
      const sleeps: number[] = [];
      const faults = faultsWith({ latencyMs: 250 }, { sleep: async (ms) => void sleeps.push(ms) });
      const unauthorised = chargeEvent();
      unauthorised.headers['x-api-key'] = 'not-the-key';

      // Act
      const statuses = [await statusOf(faults), await statusOf(faults, unauthorised)];

      // Assess
      expect(statuses).toEqual([201, 403]);
      expect(sleeps).toEqual([250, 250]);
    });

    it('answers 503 to everything during an outage window, charging nothing, and charges once it is over', async () => {
      // Prepare: down for 60 s from start, then back.
      const start = Date.parse('2026-11-27T10:00:00Z');
      let now = start + 1000;
      const faults = faultsWith({ outages: [{ start, end: start + 60_000 }] }, { now: () => now });
      const unauthorised = chargeEvent();
      delete unauthorised.headers['x-api-key'];

      // Act
      const during = await handlePayment(chargeEvent(), { ...deps, faults });
      const duringUnauthorised = await statusOf(faults, unauthorised);
      now = start + 59_999;
      const lastMoment = await statusOf(faults);
      const ledgerDuring = await ledgerItems(idempotencyKey);
      now = start + 60_000;
      const after = await statusOf(faults);

      // Assess
      expect(during.statusCode).toBe(503);
      expect(JSON.parse(during.body)).toMatchObject({ error: 'ServiceUnavailable' });
      expect([duringUnauthorised, lastMoment]).toEqual([503, 503]);
      expect(ledgerDuring).toHaveLength(0);
      expect(after).toBe(201);
      expect(await ledgerItems(idempotencyKey)).toHaveLength(1);
      expect(webhook.requests).toHaveLength(1);
    });

    it('stays down for good after an outage with an open end', async () => {
      // Prepare
      const [outage] = faultSettingsFromEnvWith({ PROVIDER_FAULT_OUTAGE: '2026-11-27T10:00:00Z/..' }).outages;
      const faults = faultsWith({ outages: [outage!] }, { now: () => Date.parse('2126-11-27T10:00:00Z') });

      // Act / Assess
      expect(await statusOf(faults)).toBe(503);
      expect(await ledgerItems(idempotencyKey)).toHaveLength(0);
    });

    it('answers bursts of 429 with Retry-After: after every N requests, the next M, writing nothing', async () => {
      // Prepare
      const faults = faultsWith({ throttleEvery: 2, throttleBurst: 2, throttleRetryAfterSeconds: 7 });
      const keys: string[] = [];

      // Act
      const responses = [];
      for (let request = 0; request < 7; request++) {
        idempotencyKey = `payment-test-${++keyCounter}-${Date.now()}`;
        keys.push(idempotencyKey);
        responses.push(await handlePayment(chargeEvent(), { ...deps, faults }));
      }

      // Assess
      expect(responses.map((response) => response.statusCode)).toEqual([201, 201, 429, 429, 201, 201, 429]);
      const throttled = responses.filter((response) => response.statusCode === 429);
      for (const response of throttled) {
        expect(response.headers).toMatchObject({ 'retry-after': '7' });
        expect(JSON.parse(response.body)).toMatchObject({ error: 'TooManyRequests' });
      }
      const charged = await Promise.all(keys.map(async (key) => (await ledgerItems(key)).length));
      expect(charged).toEqual([1, 1, 0, 0, 1, 1, 0]);
      expect(webhook.requests).toHaveLength(4);
    });

    it('fails before the charge: 500, nothing written, nothing confirmed; the retry charges once', async () => {
      // Prepare
      const faults = faultsWith({ failureRate: 1, failurePoint: 'before-charge' });

      // Act
      const failed = await handlePayment(chargeEvent(), { ...deps, faults });
      const ledgerAfterFailure = await ledgerItems(idempotencyKey);
      const confirmationsAfterFailure = webhook.requests.length;
      const retried = await handlePayment(chargeEvent(), deps);

      // Assess
      expect(failed.statusCode).toBe(500);
      expect(JSON.parse(failed.body)).toMatchObject({ error: 'InjectedFault', message: expect.stringMatching(/before-charge/) });
      expect(ledgerAfterFailure).toHaveLength(0);
      expect(confirmationsAfterFailure).toBe(0);
      expect(retried.statusCode).toBe(201);
      expect(await ledgerItems(idempotencyKey)).toHaveLength(1);
      expect(webhook.requests).toHaveLength(1);
    });

    it('fails after the ledger write, idempotency record gone: the retry with the same Idempotency-Key does not charge twice', async () => {
      // Prepare
      const faults = faultsWith({ failureRate: 1, failurePoint: 'after-charge' });
      const recordsBefore = await idempotencyRecordCount();

      // Act
      const failed = await handlePayment(chargeEvent(), { ...deps, faults });
      const ledgerAfterFailure = await ledgerItems(idempotencyKey);
      const recordsAfterFailure = await idempotencyRecordCount();
      const confirmationsAfterFailure = webhook.requests.length;
      const retried = await handlePayment(chargeEvent(), deps);

      // Assess: the failure left the charge but no idempotency record (Powertools deletes the
      // in-progress record of a charge that threw), so only the ledger's own condition held.
      expect(failed.statusCode).toBe(500);
      expect(JSON.parse(failed.body)).toMatchObject({ error: 'InjectedFault', message: expect.stringMatching(/after-charge/) });
      expect(ledgerAfterFailure).toEqual([expect.objectContaining({ chargeId: chargeIdOf(idempotencyKey) })]);
      expect(recordsAfterFailure).toBe(recordsBefore);
      expect(confirmationsAfterFailure).toBe(0);
      expect(retried.statusCode).toBe(201);
      expect(JSON.parse(retried.body).chargeId).toBe(chargeIdOf(idempotencyKey));
      expect(await ledgerItems(idempotencyKey)).toHaveLength(1);
      expect(webhook.requests.map((call) => JSON.parse(call.body).chargeId)).toEqual([chargeIdOf(idempotencyKey)]);
    });

    it('fails after the charge on a repeat answered from its idempotency record, still one charge', async () => {
      // Prepare
      const first = await handlePayment(chargeEvent(), deps);

      // Act
      const failed = await handlePayment(chargeEvent(), { ...deps, faults: faultsWith({ failureRate: 1, failurePoint: 'after-charge' }) });
      const retried = await handlePayment(chargeEvent(), deps);

      // Assess
      expect([first.statusCode, failed.statusCode, retried.statusCode]).toEqual([201, 500, 201]);
      expect(JSON.parse(retried.body).chargeId).toBe(JSON.parse(first.body).chargeId);
      expect(await ledgerItems(idempotencyKey)).toHaveLength(1);
      expect(webhook.requests).toHaveLength(2);
    });

    it('draws the failure and its point from the injected chance: either fails before or after the write', async () => {
      // Prepare: rate 0.5; draws: fail (0.1) after (0.9), fail (0.3) before (0.2), pass (0.7).
      const faults = faultsWith({ failureRate: 0.5, failurePoint: 'either' }, { random: draws(0.1, 0.9, 0.3, 0.2, 0.7) });

      // Act
      const responses = [];
      for (let attempt = 0; attempt < 3; attempt++) responses.push(await handlePayment(chargeEvent(), { ...deps, faults }));

      // Assess
      expect(responses.map((response) => [response.statusCode, JSON.parse(response.body).message?.match(/(before|after)-charge/)?.[0]])).toEqual([
        [500, 'after-charge'],
        [500, 'before-charge'],
        [201, undefined],
      ]);
      expect(await ledgerItems(idempotencyKey)).toHaveLength(1);
      expect(webhook.requests).toHaveLength(1);
    });

    it('replays the same run of answers from the same seed, and charges each key once', async () => {
      // Prepare
      const run = async (): Promise<number[]> => {
        idempotencyKey = `payment-test-${++keyCounter}-${Date.now()}`;
        const faults = faultsWith({ failureRate: 0.5 }, { random: seeded(59) });
        const statuses: number[] = [];
        while (statuses.at(-1) !== 201) statuses.push(await statusOf(faults));
        expect(await ledgerItems(idempotencyKey)).toHaveLength(1);
        return statuses;
      };

      // Act
      const first = await run();
      const second = await run();

      // Assess
      expect(second).toEqual(first);
      expect(first).toEqual([500, 500, 500, 500, 201]); // seed 59: after, before, after, before, then through
    });

    it('sends a late webhook: waits the delay before the call', async () => {
      // Prepare
      const waits: Array<{ ms: number; callsSoFar: number }> = [];
      const faults = faultsWith({ webhookDelayMs: 1500 }, { sleep: async (ms) => void waits.push({ ms, callsSoFar: webhook.requests.length }) });

      // Act
      const response = await handlePayment(chargeEvent(), { ...deps, faults });

      // Assess
      expect(response.statusCode).toBe(201);
      expect(waits).toEqual([{ ms: 1500, callsSoFar: 0 }]);
      expect(webhook.requests).toHaveLength(1);
    });

    it('sends an early webhook: the confirmation, signed, reaches the shop before the charge is written, and only then', async () => {
      // Prepare: the charge reports what the webhook and the ledger had when it started.
      const seen: Array<{ calls: number; charges: number }> = [];
      const charge: PaymentsProviderDeps['charge'] = async (request, context, hooks) => {
        seen.push({ calls: webhook.requests.length, charges: (await ledgerItems(request.idempotencyKey)).length });
        return deps.charge(request, context, hooks);
      };

      // Act
      const response = await handlePayment(chargeEvent(), { ...deps, charge, faults: faultsWith({ webhookEarlyRate: 1 }) });

      // Assess
      expect(response.statusCode).toBe(201);
      expect(seen).toEqual([{ calls: 1, charges: 0 }]);
      const [call, ...more] = webhook.requests;
      expect(more).toHaveLength(0);
      expect(JSON.parse(call!.body)).toMatchObject({ chargeId: JSON.parse(response.body).chargeId, orderId: 'd4f9a3c2-5b1e-4c8a-9f0e-2a7b6c3d1e58', status: 'succeeded' });
      expect(signatureProblem(call!)).toBeUndefined();
      expect(await ledgerItems(idempotencyKey)).toHaveLength(1);
    });

    it('answers 502 and charges nothing when an early webhook is not taken', async () => {
      // Prepare
      webhook.respondWith(500);

      // Act
      const response = await handlePayment(chargeEvent(), { ...deps, faults: faultsWith({ webhookEarlyRate: 1 }) });

      // Assess
      expect(response.statusCode).toBe(502);
      expect(await ledgerItems(idempotencyKey)).toHaveLength(0);
    });

    it('delivers a webhook twice: exactly two calls with the same body, each signed', async () => {
      // Act
      const response = await handlePayment(chargeEvent(), { ...deps, faults: faultsWith({ webhookDuplicateRate: 1 }) });

      // Assess
      expect(response.statusCode).toBe(201);
      expect(webhook.requests).toHaveLength(2);
      const [first, second] = webhook.requests;
      expect(second!.body).toBe(first!.body);
      expect(JSON.parse(first!.body)).toMatchObject({ chargeId: JSON.parse(response.body).chargeId });
      expect([signatureProblem(first!), signatureProblem(second!)]).toEqual([undefined, undefined]);
      expect(await ledgerItems(idempotencyKey)).toHaveLength(1);
    });
  });

  describe('fault settings', () => {
    it('are all off when no variable is set', () => {
      // Act / Assess
      expect(faultSettingsFromEnv()).toEqual(NO_FAULTS);
    });

    it('read every variable', () => {
      // Act
      const settings = faultSettingsFromEnvWith({
        PROVIDER_FAULT_FAILURE_RATE: '0.25',
        PROVIDER_FAULT_FAILURE_POINT: 'after-charge',
        PROVIDER_FAULT_LATENCY_MS: '120',
        PROVIDER_FAULT_OUTAGE: '',
        PROVIDER_FAULT_THROTTLE_EVERY: '10',
        PROVIDER_FAULT_THROTTLE_BURST: '3',
        PROVIDER_FAULT_THROTTLE_RETRY_AFTER_SECONDS: '2',
        PROVIDER_FAULT_WEBHOOK_DELAY_MS: '800',
        PROVIDER_FAULT_WEBHOOK_EARLY_RATE: '0.1',
        PROVIDER_FAULT_WEBHOOK_DUPLICATE_RATE: '1',
      });

      // Assess
      expect(settings).toEqual({
        failureRate: 0.25, failurePoint: 'after-charge', latencyMs: 120, outages: [], throttleEvery: 10, throttleBurst: 3,
        throttleRetryAfterSeconds: 2, webhookDelayMs: 800, webhookEarlyRate: 0.1, webhookDuplicateRate: 1,
      });
    });

    const at = (text: string): number => Date.parse(text);
    it.each([
      ['down for 60 s', '2026-11-27T10:00:00Z/PT60S', [{ start: at('2026-11-27T10:00:00Z'), end: at('2026-11-27T10:01:00Z') }]],
      ['down for good (ISO 8601-2 open end)', '2026-11-27T10:00:00Z/..', [{ start: at('2026-11-27T10:00:00Z'), end: Infinity }]],
      ['down for good (empty end)', '2026-11-27T10:00:00Z/', [{ start: at('2026-11-27T10:00:00Z'), end: Infinity }]],
      ['start/end with offsets and fractions', '2026-11-27T11:00:00.250+01:00/2026-11-27T10:01Z', [{ start: at('2026-11-27T10:00:00.250Z'), end: at('2026-11-27T10:01:00Z') }]],
      ['a list', '2026-11-27T10:00:00Z/PT1M30S, 2026-11-28T00:00:00Z/P1DT12H', [
        { start: at('2026-11-27T10:00:00Z'), end: at('2026-11-27T10:01:30Z') },
        { start: at('2026-11-28T00:00:00Z'), end: at('2026-11-29T12:00:00Z') },
      ]],
      ['a fractional duration', '2026-11-27T10:00:00Z/PT0.5S', [{ start: at('2026-11-27T10:00:00Z'), end: at('2026-11-27T10:00:00.500Z') }]],
    ])('parse outage windows: %s', (_case, text, expected) => {
      // Act / Assess
      expect(faultSettingsFromEnvWith({ PROVIDER_FAULT_OUTAGE: text }).outages).toEqual(expected);
    });

    it.each([
      ['not a date', 'tomorrow/PT60S', /interval 1 \("tomorrow\/PT60S"\): "tomorrow" is not an ISO 8601 date-time with an offset/],
      ['no offset', '2026-11-27T10:00:00/PT60S', /is not an ISO 8601 date-time with an offset/],
      ['a day that does not exist', '2026-02-30T10:00:00Z/PT60S', /names a date or time that does not exist/],
      ['no end', '2026-11-27T10:00:00Z', /must be start\/end, start\/duration or start\/\.\./],
      ['a month-long duration', '2026-11-27T10:00:00Z/P1M', /years and months have no fixed length/],
      ['an empty duration', '2026-11-27T10:00:00Z/PT0S', /is an empty duration/],
      ['an end before the start', '2026-11-27T10:01:00Z/2026-11-27T10:00:00Z', /ends before it starts/],
      ['a bad second interval', '2026-11-27T10:00:00Z/PT60S,2026-11-27T10:00:00Z/PT', /interval 2 .*is not an ISO 8601 duration/],
    ])('refuse a malformed outage window (%s), naming the variable', (_case, text, reason) => {
      // Act / Assess
      expect(() => faultSettingsFromEnvWith({ PROVIDER_FAULT_OUTAGE: text })).toThrow(ConfigurationError);
      expect(() => faultSettingsFromEnvWith({ PROVIDER_FAULT_OUTAGE: text })).toThrow(/^Environment variable PROVIDER_FAULT_OUTAGE: /);
      expect(() => faultSettingsFromEnvWith({ PROVIDER_FAULT_OUTAGE: text })).toThrow(reason);
    });

    it.each([
      ['PROVIDER_FAULT_FAILURE_RATE', '1.5', /must be a number from 0 to 1/],
      ['PROVIDER_FAULT_FAILURE_POINT', 'sometimes', /must be one of before-charge, after-charge, either/],
      ['PROVIDER_FAULT_LATENCY_MS', '10000', /must be a number from 0 to 9000/],
      ['PROVIDER_FAULT_THROTTLE_EVERY', '2.5', /must be an integer from 0 to 1000000/],
      ['PROVIDER_FAULT_THROTTLE_BURST', '0', /must be an integer from 1 to 1000000/],
      ['PROVIDER_FAULT_WEBHOOK_DUPLICATE_RATE', 'often', /must be a number from 0 to 1/],
    ])('refuse %s=%s', (name, value, reason) => {
      // Act / Assess
      expect(() => faultSettingsFromEnvWith({ [name]: value })).toThrow(new RegExp(`^Environment variable ${name} ${reason.source}`));
    });

    it('fail the function at load on a malformed outage window', async () => {
      // Act: Node with tsx, as the local runtime loads sources.
      const run = promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', "await import('./functions/payments-provider/handler.ts')"],
        { cwd: fileURLToPath(new URL('../..', import.meta.url)), env: { ...process.env, PROVIDER_FAULT_OUTAGE: '2026-11-27T10:00:00/PT60S' } },
      );

      // Assess
      await expect(run).rejects.toMatchObject({
        stderr: expect.stringContaining('ConfigurationError: Environment variable PROVIDER_FAULT_OUTAGE: interval 1 ("2026-11-27T10:00:00/PT60S")'),
      });
    }, 30_000);
  });
});
