/**
 * The stand-in payment provider (POST /payments on PaymentsProviderApi, Lambda proxy). It charges
 * at most once per Idempotency-Key: the charge (one ledger item) runs under Powertools
 * idempotency, so a repeated key returns the recorded charge without writing, and the ledger
 * write is idempotent itself (the charge id comes from the key), so a charge whose idempotency
 * record an interrupted invocation never completed is found, not made again. It then confirms
 * the charge to the shop's webhook, signed; that call stays outside the idempotent part, so when
 * it fails (502) the caller's retry re-sends the confirmation without charging again.
 *
 * Fault injection (template Parameters ProviderFault*, all off by default) makes it the unreliable
 * provider a chaos test needs, the same on AWS and locally: added latency, outage windows (503),
 * bursts of 429 with Retry-After, a share of requests answered 500 before or after the charge is
 * written, and webhooks that arrive late, early (before the charge is written) or twice. See
 * {@link ProviderFaults} for where each applies and why. The settings are read once at load;
 * the 429 cycle counts per sandbox (each concurrent Lambda instance keeps its own count).
 */
import { createHash } from 'node:crypto';
import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  IdempotencyValidationError,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { createDocumentClient } from '#shared/dynamodb.js';
import { optionalEnv, optionalNumberEnv, requireEnv } from '#shared/env.js';
import { ConfigurationError, InjectedFaultError, InvalidInputError, WebhookDeliveryError } from '#shared/errors.js';
import { CHARGE_SUCCEEDED } from '#shared/events.js';
import { errorResponse, getHeader, jsonResponse, rawBody } from '#shared/http.js';
import { inIntervals, parseIntervals, type TimeInterval } from '#shared/intervals.js';
import { isCurrency } from '#shared/payments.js';
import { logger, withPowertools } from '#shared/powertools.js';
import { constantTimeEquals, signWebhook } from '#shared/signature.js';
import { isNonEmptyString, isObject, isPositiveInteger, parseJsonObject, type JsonObject } from '#shared/validate.js';

/** What is charged. */
export interface ChargeRequest {
  idempotencyKey: string;
  orderId: string;
  amountCents: number;
  currency: string;
}

/** A charge, as written to the ledger and returned for every repeat of its Idempotency-Key. */
export interface Charge extends ChargeRequest {
  chargeId: string;
  createdAt: string;
}

/** Called inside the idempotent charge once the ledger holds it; what it throws fails the charge (fault injection). */
export interface ChargeHooks {
  afterLedgerWrite?: (charge: Charge) => void;
}

/**
 * Charges once per `request.idempotencyKey`; `context` lets an interrupted charge's lock expire
 * with the invocation.
 */
export type Charger = (request: ChargeRequest, context?: Context, hooks?: ChargeHooks) => Promise<Charge>;

/** What {@link createCharger} needs. */
export interface ChargerDeps {
  client: DynamoDBClient;
  ledgerTableName: string;
  idempotencyTableName: string;
}

/** What {@link handlePayment} needs. */
export interface PaymentsProviderDeps {
  charge: Charger;
  apiKey: string;
  webhookUrl: string;
  webhookSecret: string;
  /** Fault injection; {@link NO_FAULTS} when omitted. */
  faults?: ProviderFaults;
}

/**
 * How long a key is remembered: as long as a dead-lettered payment can wait for its re-drive
 * (PaymentsDeadLetterQueue keeps messages 14 days), so a re-driven payment never charges twice.
 */
const IDEMPOTENCY_TTL_SECONDS = 14 * 24 * 60 * 60;
/** Longest Idempotency-Key accepted (Stripe's limit). */
const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
/** An API destination waits 5 s for this API's answer, the webhook call included. */
const WEBHOOK_TIMEOUT_MS = 3000;

/** The charge id of an Idempotency-Key: the first 128 bits of its SHA-256, written as a UUID. */
export function chargeIdOf(idempotencyKey: string): string {
  const hex = createHash('sha256').update(idempotencyKey).digest('hex');
  return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20, 32)].join('-');
}

/**
 * Builds the idempotent charge: one ledger item per Idempotency-Key. A repeat of a key with a
 * different order, amount or currency is refused (IdempotencyValidationError) rather than
 * answered with the first charge.
 */
export function createCharger({ client, ledgerTableName, idempotencyTableName }: ChargerDeps): Charger {
  const documentClient = createDocumentClient(client);
  const config = new IdempotencyConfig({
    eventKeyJmesPath: 'idempotencyKey',
    payloadValidationJmesPath: '[orderId, amountCents, currency]',
    expiresAfterSeconds: IDEMPOTENCY_TTL_SECONDS,
  });
  // The hooks ride as a second argument: makeIdempotent hashes only the first (the request).
  const chargeOnce = makeIdempotent(
    async (request: ChargeRequest, hooks?: ChargeHooks): Promise<Charge> => {
      const charge: Charge = { chargeId: chargeIdOf(request.idempotencyKey), ...request, createdAt: new Date().toISOString() };
      try {
        await documentClient.send(
          new PutCommand({ TableName: ledgerTableName, Item: charge, ConditionExpression: 'attribute_not_exists(chargeId)' }),
        );
        hooks?.afterLedgerWrite?.(charge);
        return charge;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
      // Charged before, by an invocation cut short between the ledger write and the completion
      // of its idempotency record (a timeout, a crash), whose record has since expired.
      const { Item } = await documentClient.send(new GetCommand({ TableName: ledgerTableName, Key: { chargeId: charge.chargeId }, ConsistentRead: true }));
      const existing = Item as Charge;
      if (existing.orderId !== request.orderId || existing.amountCents !== request.amountCents || existing.currency !== request.currency) {
        throw new IdempotencyValidationError('The Idempotency-Key was charged for a different payment');
      }
      hooks?.afterLedgerWrite?.(existing);
      return existing;
    },
    {
      persistenceStore: new DynamoDBPersistenceLayer({ tableName: idempotencyTableName, awsSdkV3Client: client }),
      config,
      // A fixed prefix keeps the keys valid if the function is renamed.
      keyPrefix: 'payments-provider.charge',
    },
  );
  return (request, context, hooks) => {
    if (context) config.registerLambdaContext(context);
    return chargeOnce(request, hooks);
  };
}

/** Where an injected 500 happens: before the charge is written, after it, or either (one in two each). */
export const FAILURE_POINTS = ['before-charge', 'after-charge', 'either'] as const;
export type FailurePoint = (typeof FAILURE_POINTS)[number];

/** The stand-in provider's fault injection, one field per template parameter (ProviderFault*). */
export interface FaultSettings {
  /** Share (0-1) of charge requests answered 500. */
  failureRate: number;
  failurePoint: FailurePoint;
  /** Added before every request is handled, whatever its answer. */
  latencyMs: number;
  /** While now falls in one, every request is answered 503. */
  outages: TimeInterval[];
  /** After every `throttleEvery` requests (0: never), the next `throttleBurst` are answered 429. */
  throttleEvery: number;
  throttleBurst: number;
  /** The 429's Retry-After. */
  throttleRetryAfterSeconds: number;
  /** Added before each webhook call (it is made inline, so the answer waits too). */
  webhookDelayMs: number;
  /** Share (0-1) of charges confirmed before the ledger write, and not again after it. */
  webhookEarlyRate: number;
  /** Share (0-1) of confirmations delivered twice, the same body each time. */
  webhookDuplicateRate: number;
}

/** Every fault off: the provider as it is without fault injection. */
export const NO_FAULTS: Readonly<FaultSettings> = {
  failureRate: 0,
  failurePoint: 'either',
  latencyMs: 0,
  outages: [],
  throttleEvery: 0,
  throttleBurst: 1,
  throttleRetryAfterSeconds: 1,
  webhookDelayMs: 0,
  webhookEarlyRate: 0,
  webhookDuplicateRate: 0,
};

/** What the faults draw on: tests inject a seeded `random`, a set clock and a recording `sleep`. */
export interface FaultEnvironment {
  /** Uniform in [0, 1), as Math.random. */
  random: () => number;
  /** Epoch milliseconds, as Date.now. */
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

const SYSTEM: FaultEnvironment = { random: Math.random, now: Date.now, sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };
/** Below the function's 10 s Timeout, so an added wait cannot by itself kill the invocation. */
const MAX_FAULT_DELAY_MS = 9000;

/**
 * The fault settings from the environment, read once at load; an unset variable is a fault off.
 *
 * @throws ConfigurationError naming the variable whose value is out of range or malformed
 *   (PROVIDER_FAULT_OUTAGE: see `#shared/intervals.js`), so a bad setting fails the cold start.
 */
export function faultSettingsFromEnv(): FaultSettings {
  const share = { min: 0, max: 1 };
  const delay = { min: 0, max: MAX_FAULT_DELAY_MS };
  const failurePoint = optionalEnv('PROVIDER_FAULT_FAILURE_POINT') ?? NO_FAULTS.failurePoint;
  if (!(FAILURE_POINTS as readonly string[]).includes(failurePoint)) {
    throw new ConfigurationError(`Environment variable PROVIDER_FAULT_FAILURE_POINT must be one of ${FAILURE_POINTS.join(', ')}, got "${failurePoint}"`);
  }
  let outages: TimeInterval[];
  try {
    outages = parseIntervals(optionalEnv('PROVIDER_FAULT_OUTAGE') ?? '');
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    throw new ConfigurationError(`Environment variable PROVIDER_FAULT_OUTAGE: ${error.message}`, { cause: error });
  }
  return {
    failureRate: optionalNumberEnv('PROVIDER_FAULT_FAILURE_RATE', NO_FAULTS.failureRate, share),
    failurePoint: failurePoint as FailurePoint,
    latencyMs: optionalNumberEnv('PROVIDER_FAULT_LATENCY_MS', NO_FAULTS.latencyMs, delay),
    outages,
    throttleEvery: optionalNumberEnv('PROVIDER_FAULT_THROTTLE_EVERY', NO_FAULTS.throttleEvery, { min: 0, max: 1_000_000, integer: true }),
    throttleBurst: optionalNumberEnv('PROVIDER_FAULT_THROTTLE_BURST', NO_FAULTS.throttleBurst, { min: 1, max: 1_000_000, integer: true }),
    throttleRetryAfterSeconds: optionalNumberEnv('PROVIDER_FAULT_THROTTLE_RETRY_AFTER_SECONDS', NO_FAULTS.throttleRetryAfterSeconds, { min: 1, max: 3600, integer: true }),
    webhookDelayMs: optionalNumberEnv('PROVIDER_FAULT_WEBHOOK_DELAY_MS', NO_FAULTS.webhookDelayMs, delay),
    webhookEarlyRate: optionalNumberEnv('PROVIDER_FAULT_WEBHOOK_EARLY_RATE', NO_FAULTS.webhookEarlyRate, share),
    webhookDuplicateRate: optionalNumberEnv('PROVIDER_FAULT_WEBHOOK_DUPLICATE_RATE', NO_FAULTS.webhookDuplicateRate, share),
  };
}

/**
 * The faults of one sandbox: its settings, its source of chance and its 429 cycle. Where each
 * fault applies, in the order a request meets them:
 * 1. latency, on every request (a slow provider is slow to refuse too);
 * 2. outage: 503 to everything, before the API key is checked, as a provider that is down;
 * 3. 429 burst, before anything is read or written, as a rate limiter in front of the API;
 * 4. (the API key and body are checked: a bad request still gets its 4xx)
 * 5. early webhook, before the charge: the confirmation can reach the shop before the ledger holds
 *    the charge (and before a failure in 6);
 * 6. failure before the charge: 500, nothing written, so the retry is the first charge;
 * 7. failure after the charge: 500 thrown inside the idempotent charge just after the ledger
 *    write, so Powertools deletes its in-progress record and only the ledger's own idempotency
 *    (its conditional write on the key's charge id) stands between the retry and a second charge:
 *    the narrowest window there is. A repeat answered from a completed record is failed after the
 *    charge returns, so the rate holds for repeats too;
 * 8. late webhook (delay) and duplicate delivery, after the charge.
 * Only 500, 503 and 429 are injected: an API destination retries 429 and 5xx, so every fault is
 * one the payments pipe recovers from by trying again with the same Idempotency-Key.
 */
export class ProviderFaults {
  /** Requests counted by the 429 cycle (those not refused by an outage). */
  private counted = 0;

  constructor(
    readonly settings: Readonly<FaultSettings>,
    private readonly environment: FaultEnvironment = SYSTEM,
  ) {}

  /** Waits the added latency. */
  async delayRequest(): Promise<void> {
    if (this.settings.latencyMs > 0) await this.environment.sleep(this.settings.latencyMs);
  }

  /** Whether the provider is down now. */
  inOutage(): boolean {
    return this.settings.outages.length > 0 && inIntervals(this.settings.outages, this.environment.now());
  }

  /** Whether this request falls in a 429 burst: each cycle is `throttleEvery` requests answered, then `throttleBurst` refused. */
  throttled(): boolean {
    const { throttleEvery, throttleBurst } = this.settings;
    if (throttleEvery === 0) return false;
    const position = this.counted++ % (throttleEvery + throttleBurst);
    return position >= throttleEvery;
  }

  /** Whether this charge request fails, and where. */
  failure(): 'before-charge' | 'after-charge' | undefined {
    if (!this.chance(this.settings.failureRate)) return undefined;
    const point = this.settings.failurePoint;
    if (point !== 'either') return point;
    return this.environment.random() < 0.5 ? 'before-charge' : 'after-charge';
  }

  /** Whether this charge is confirmed before it is written. */
  webhookEarly(): boolean {
    return this.chance(this.settings.webhookEarlyRate);
  }

  /** Whether this confirmation is delivered twice. */
  webhookDuplicate(): boolean {
    return this.chance(this.settings.webhookDuplicateRate);
  }

  /** Waits the webhook's delay. */
  async delayWebhook(): Promise<void> {
    if (this.settings.webhookDelayMs > 0) await this.environment.sleep(this.settings.webhookDelayMs);
  }

  /** True with probability `rate`; draws nothing when the fault is off (0) or certain (1). */
  private chance(rate: number): boolean {
    if (rate <= 0) return false;
    if (rate >= 1) return true;
    return this.environment.random() < rate;
  }
}

const NO_FAULT_INJECTION = new ProviderFaults(NO_FAULTS);

/** Validates the request body; the Idempotency-Key header, when the body repeats it, must match. */
function parseChargeBody(body: JsonObject, idempotencyKey: string): { request: ChargeRequest; metadata: JsonObject } {
  const { orderId, amountCents, currency, metadata } = body;
  if (body.idempotencyKey !== undefined && body.idempotencyKey !== idempotencyKey) {
    throw new InvalidInputError('idempotencyKey in the body differs from the Idempotency-Key header');
  }
  if (!isNonEmptyString(orderId)) throw new InvalidInputError('orderId must be a non-empty string');
  if (!isPositiveInteger(amountCents)) throw new InvalidInputError('amountCents must be a positive integer');
  if (!isCurrency(currency)) throw new InvalidInputError('currency must be a three-letter code such as USD');
  if (!isObject(metadata)) throw new InvalidInputError('metadata must be an object');
  return { request: { idempotencyKey, orderId, amountCents, currency }, metadata };
}

/** Posts the signed confirmation; throws WebhookDeliveryError unless the webhook answers 2xx. */
async function postToWebhook(body: string, deps: PaymentsProviderDeps): Promise<void> {
  const headers = { 'content-type': 'application/json', ...signWebhook(deps.webhookSecret, body, Math.floor(Date.now() / 1000)) };
  let response: Response;
  try {
    response = await fetch(deps.webhookUrl, { method: 'POST', headers, body, signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS) });
  } catch (error) {
    throw new WebhookDeliveryError('The webhook could not be reached', { cause: error });
  }
  await response.body?.cancel(); // the answer's body is not needed; free the connection
  if (!response.ok) throw new WebhookDeliveryError(`The webhook answered ${response.status}`);
}

/**
 * Confirms a charge to the webhook: after the injected delay, once, or twice in a row with the
 * same body (each call signed at its own time, as a provider's redelivery is).
 */
async function confirmToWebhook(confirmation: JsonObject, deps: PaymentsProviderDeps, faults: ProviderFaults): Promise<void> {
  const body = JSON.stringify(confirmation);
  await faults.delayWebhook();
  await postToWebhook(body, deps);
  if (faults.webhookDuplicate()) await postToWebhook(body, deps);
}

function injectedFailure(where: 'before-charge' | 'after-charge'): APIGatewayProxyResult {
  const detail = where === 'before-charge' ? 'nothing was charged' : 'the charge was recorded';
  return errorResponse(500, 'InjectedFault', `Injected failure ${where} (${detail}): retry with the same Idempotency-Key`);
}

/**
 * Handles POST /payments: 403 without the API key, 400 for a missing Idempotency-Key or a bad
 * body, 422/409 for a key reused with another payload / still being charged, 502 when the
 * webhook did not take the confirmation (retry: no second charge), else 201 `{chargeId, status}`.
 * Injected faults (see {@link ProviderFaults}) answer 503 (outage), 429 with Retry-After (burst)
 * or 500 (failure before or after the charge).
 */
export async function handlePayment(
  event: APIGatewayProxyEvent,
  deps: PaymentsProviderDeps,
  context?: Context,
): Promise<APIGatewayProxyResult> {
  const faults = deps.faults ?? NO_FAULT_INJECTION;
  await faults.delayRequest();
  if (faults.inOutage()) {
    return errorResponse(503, 'ServiceUnavailable', 'The payment provider is unavailable (injected outage): retry later');
  }
  if (faults.throttled()) {
    const retryAfter = faults.settings.throttleRetryAfterSeconds;
    const response = errorResponse(429, 'TooManyRequests', `Too many requests (injected burst): retry after ${retryAfter} s`);
    return { ...response, headers: { ...response.headers, 'retry-after': String(retryAfter) } };
  }

  const apiKey = getHeader(event, 'x-api-key');
  if (apiKey === undefined || !constantTimeEquals(apiKey, deps.apiKey)) {
    return errorResponse(403, 'Forbidden', 'A valid x-api-key header is required');
  }
  const idempotencyKey = getHeader(event, 'Idempotency-Key');
  if (!isNonEmptyString(idempotencyKey) || idempotencyKey.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    return errorResponse(400, 'MissingIdempotencyKey', `An Idempotency-Key header of 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters is required`);
  }
  let parsed: ReturnType<typeof parseChargeBody>;
  try {
    parsed = parseChargeBody(parseJsonObject(rawBody(event), 'The request body'), idempotencyKey);
  } catch (error) {
    if (error instanceof InvalidInputError) return errorResponse(400, 'BadRequestBody', error.message);
    throw error;
  }

  const { request, metadata } = parsed;
  const confirmationOf = ({ chargeId, orderId, amountCents, currency }: ChargeRequest & { chargeId: string }): JsonObject =>
    ({ chargeId, orderId, status: CHARGE_SUCCEEDED, amountCents, currency, metadata });
  const early = faults.webhookEarly();
  const failure = faults.failure();
  try {
    // Early: the confirmation the charge would get, sent before the charge exists (the charge id is the key's).
    if (early) await confirmToWebhook(confirmationOf({ ...request, chargeId: chargeIdOf(idempotencyKey) }), deps, faults);
  } catch (error) {
    logger.warn('Early confirmation not taken by the webhook; nothing charged, the caller will retry', { orderId: request.orderId, error: error as Error });
    return errorResponse(502, 'WebhookDeliveryFailed', 'The confirmation failed before the charge: retry with the same Idempotency-Key');
  }
  if (failure === 'before-charge') return injectedFailure(failure);

  let charge: Charge;
  const hooks: ChargeHooks | undefined = failure === 'after-charge'
    ? { afterLedgerWrite: ({ chargeId }) => { throw new InjectedFaultError(`Injected failure after charge ${chargeId} was written`); } }
    : undefined;
  try {
    charge = await deps.charge(request, context, hooks);
  } catch (error) {
    if (error instanceof InjectedFaultError) return injectedFailure('after-charge');
    if (error instanceof IdempotencyValidationError) {
      return errorResponse(422, 'IdempotencyKeyReused', 'This Idempotency-Key was used for a different payment');
    }
    if (error instanceof IdempotencyAlreadyInProgressError) {
      return errorResponse(409, 'ChargeInProgress', 'A charge with this Idempotency-Key is in progress: retry later');
    }
    throw error;
  }
  // A repeat answered from its completed idempotency record never ran the hook: it fails here, after the charge.
  if (failure === 'after-charge') return injectedFailure(failure);

  const { chargeId, orderId } = charge;
  if (!early) {
    try {
      await confirmToWebhook(confirmationOf(charge), deps, faults);
    } catch (error) {
      logger.warn('Charge not confirmed to the webhook; the caller will retry', { chargeId, orderId, error: error as Error });
      return errorResponse(502, 'WebhookDeliveryFailed', 'The charge succeeded but its confirmation failed: retry with the same Idempotency-Key');
    }
  }
  logger.info('Charge confirmed', { chargeId, orderId, early });
  return jsonResponse(201, { chargeId, status: CHARGE_SUCCEEDED });
}

const deps: PaymentsProviderDeps = {
  charge: createCharger({
    client: new DynamoDBClient({}),
    ledgerTableName: requireEnv('LEDGER_TABLE_NAME'),
    idempotencyTableName: requireEnv('IDEMPOTENCY_TABLE_NAME'),
  }),
  apiKey: requireEnv('PROVIDER_API_KEY'),
  webhookUrl: requireEnv('PAYMENT_WEBHOOK_URL'),
  webhookSecret: requireEnv('PAYMENT_WEBHOOK_SECRET'),
  faults: new ProviderFaults(faultSettingsFromEnv()),
};

/** Lambda entry point. */
export const handler = withPowertools((event: APIGatewayProxyEvent, context: Context) => handlePayment(event, deps, context));
