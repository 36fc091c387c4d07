/**
 * PaymentsPipe's enrichment: turns each queued payment (an SQS message as Pipes delivers it)
 * into the payment provider's request: an idempotency key derived from the order's table key, so
 * any redelivery charges once, and the amount, quantity × the SKU's price.
 *
 * A message that cannot be priced (malformed, unknown SKU) fails the batch: the queue redelivers
 * it and, after maxReceiveCount, dead-letters it, where payment-failed marks the order FAILED.
 */
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { createDocumentClient } from '#shared/dynamodb.js';
import { requireEnv } from '#shared/env.js';
import { InvalidInputError, UnknownSkuError } from '#shared/errors.js';
import { inventoryKey, type ItemKey } from '#shared/keys.js';
import { parsePaymentMessage, paymentIdempotencyKey } from '#shared/payments.js';
import { BusinessMetric, countMetric, withPowertools } from '#shared/powertools.js';
import { isPositiveInteger } from '#shared/validate.js';

/** The request the pipe sends to the payment provider (its InputTemplate copies these fields). */
export interface PaymentRequest {
  idempotencyKey: string;
  orderId: string;
  amountCents: number;
  currency: string;
  /** The order's key, echoed back by the provider's webhook call. */
  metadata: ItemKey;
}

/** What {@link enrichPayments} needs. */
export interface PaymentsEnrichmentDeps {
  documentClient: DynamoDBDocumentClient;
  tableName: string;
}

/** Prices are in US cents. */
const CURRENCY = 'USD';

const deps: PaymentsEnrichmentDeps = { documentClient: createDocumentClient(), tableName: requireEnv('TABLE_NAME') };

async function readPriceCents(sku: string, { documentClient, tableName }: PaymentsEnrichmentDeps): Promise<number> {
  const { Item } = await documentClient.send(
    new GetCommand({ TableName: tableName, Key: inventoryKey(sku), ProjectionExpression: 'priceCents' }),
  );
  if (!Item) throw new UnknownSkuError(`No inventory item for SKU ${sku}`);
  if (!isPositiveInteger(Item.priceCents)) throw new UnknownSkuError(`The inventory item for SKU ${sku} has no valid priceCents`);
  return Item.priceCents;
}

/**
 * Enriches a batch of payments-queue messages, one request per message, in order. Each SKU's
 * price is read once per invocation.
 *
 * @throws InvalidInputError for a malformed message body; UnknownSkuError for a SKU without a price.
 */
export async function enrichPayments(messages: SQSRecord[], deps: PaymentsEnrichmentDeps): Promise<PaymentRequest[]> {
  const prices = new Map<string, Promise<number>>();
  const priceOf = (sku: string): Promise<number> => {
    let price = prices.get(sku);
    if (!price) {
      price = readPriceCents(sku, deps);
      prices.set(sku, price);
    }
    return price;
  };
  const requests = await Promise.all(
    messages.map(async ({ messageId, body }): Promise<PaymentRequest> => {
      const { orderId, pk, sk, sku, quantity } = parsePaymentMessage(body, `Payment message ${messageId}`);
      const amountCents = quantity * (await priceOf(sku));
      if (!Number.isSafeInteger(amountCents)) throw new InvalidInputError(`Payment message ${messageId}: amount too large`);
      return { idempotencyKey: paymentIdempotencyKey({ pk, sk }), orderId, amountCents, currency: CURRENCY, metadata: { pk, sk } };
    }),
  );
  countMetric(BusinessMetric.PaymentsSubmitted, requests.length);
  return requests;
}

/** Lambda entry point. */
export const handler = withPowertools(async (messages: SQSRecord[]) => enrichPayments(messages, deps));
