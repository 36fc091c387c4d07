/**
 * The stand-in payment provider (POST /payments on PaymentsProviderApi, Lambda proxy). It charges
 * at most once per Idempotency-Key: the charge (one ledger item) runs under Powertools
 * idempotency, so a repeated key returns the recorded charge without writing, and the ledger
 * write is idempotent itself (the charge id comes from the key), so a charge whose idempotency
 * record an interrupted invocation never completed is found, not made again. It then confirms
 * the charge to the shop's webhook, signed; that call stays outside the idempotent part, so when
 * it fails (502) the caller's retry re-sends the confirmation without charging again.
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
import { requireEnv } from '#shared/env.js';
import { InvalidInputError, WebhookDeliveryError } from '#shared/errors.js';
import { CHARGE_SUCCEEDED } from '#shared/events.js';
import { errorResponse, getHeader, jsonResponse, rawBody } from '#shared/http.js';
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

/** Charges once per `request.idempotencyKey`; `context` lets an interrupted charge's lock expire with the invocation. */
export type Charger = (request: ChargeRequest, context?: Context) => Promise<Charge>;

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
  const chargeOnce = makeIdempotent(
    async (request: ChargeRequest): Promise<Charge> => {
      const charge: Charge = { chargeId: chargeIdOf(request.idempotencyKey), ...request, createdAt: new Date().toISOString() };
      try {
        await documentClient.send(
          new PutCommand({ TableName: ledgerTableName, Item: charge, ConditionExpression: 'attribute_not_exists(chargeId)' }),
        );
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
      return existing;
    },
    {
      persistenceStore: new DynamoDBPersistenceLayer({ tableName: idempotencyTableName, awsSdkV3Client: client }),
      config,
      // A fixed prefix keeps the keys valid if the function is renamed.
      keyPrefix: 'payments-provider.charge',
    },
  );
  return (request, context) => {
    if (context) config.registerLambdaContext(context);
    return chargeOnce(request);
  };
}

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
async function confirmToWebhook(confirmation: JsonObject, deps: PaymentsProviderDeps): Promise<void> {
  const body = JSON.stringify(confirmation);
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
 * Handles POST /payments: 403 without the API key, 400 for a missing Idempotency-Key or a bad
 * body, 422/409 for a key reused with another payload / still being charged, 502 when the
 * webhook did not take the confirmation (retry: no second charge), else 201 `{chargeId, status}`.
 */
export async function handlePayment(
  event: APIGatewayProxyEvent,
  deps: PaymentsProviderDeps,
  context?: Context,
): Promise<APIGatewayProxyResult> {
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

  let charge: Charge;
  try {
    charge = await deps.charge(parsed.request, context);
  } catch (error) {
    if (error instanceof IdempotencyValidationError) {
      return errorResponse(422, 'IdempotencyKeyReused', 'This Idempotency-Key was used for a different payment');
    }
    if (error instanceof IdempotencyAlreadyInProgressError) {
      return errorResponse(409, 'ChargeInProgress', 'A charge with this Idempotency-Key is in progress: retry later');
    }
    throw error;
  }

  const { chargeId, orderId, amountCents, currency } = charge;
  try {
    await confirmToWebhook({ chargeId, orderId, status: CHARGE_SUCCEEDED, amountCents, currency, metadata: parsed.metadata }, deps);
  } catch (error) {
    logger.warn('Charge not confirmed to the webhook; the caller will retry', { chargeId, orderId, error: error as Error });
    return errorResponse(502, 'WebhookDeliveryFailed', 'The charge succeeded but its confirmation failed: retry with the same Idempotency-Key');
  }
  logger.info('Charge confirmed', { chargeId, orderId });
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
};

/** Lambda entry point. */
export const handler = withPowertools((event: APIGatewayProxyEvent, context: Context) => handlePayment(event, deps, context));
