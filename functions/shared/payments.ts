/**
 * The payment messages that travel between the functions: the payments-queue body (sent by the
 * orders workflow's EnqueuePayment state, read by payments-enrichment and payment-failed) and
 * the provider's confirmation (posted by payments-provider, read by payment-webhook).
 */
import { createHash } from 'node:crypto';
import { InvalidInputError } from './errors.js';
import { CHARGE_SUCCEEDED } from './events.js';
import { isOrderKey, isSku, type ItemKey } from './keys.js';
import { isNonEmptyString, isObject, isPositiveInteger, parseJsonObject } from './validate.js';

/** A payments-queue message body (statemachine/orders.asl.json, EnqueuePayment.MessageBody). */
export interface PaymentMessage {
  orderId: string;
  pk: string;
  sk: string;
  sku: string;
  quantity: number;
}

/** The webhook call confirming a charge. `metadata` is the order's key, passed through the provider. */
export interface PaymentConfirmation {
  chargeId: string;
  orderId: string;
  status: typeof CHARGE_SUCCEEDED;
  amountCents: number;
  currency: string;
  metadata: ItemKey;
}

/** ISO 4217 alphabetic code. */
const CURRENCY_PATTERN = /^[A-Z]{3}$/;

/** True for a three-letter (ISO 4217) currency code. */
export function isCurrency(value: unknown): value is string {
  return typeof value === 'string' && CURRENCY_PATTERN.test(value);
}

/**
 * The payment provider's Idempotency-Key for an order: a digest of the order's own table key, so
 * it is unique per order (orders of two customers may share an orderId, which is per customer)
 * and 72 characters whatever the key's length (Stripe-style providers take at most 255).
 */
export function paymentIdempotencyKey({ pk, sk }: ItemKey): string {
  return `payment-${createHash('sha256').update(JSON.stringify([pk, sk])).digest('hex')}`;
}

/**
 * Parses a payments-queue message body.
 *
 * @param what names the message in errors (e.g. its messageId)
 * @throws InvalidInputError naming the first field that is wrong (never echoing the body).
 */
export function parsePaymentMessage(body: string, what: string): PaymentMessage {
  const message = parseJsonObject(body, what);
  const { orderId, pk, sk, sku, quantity } = message;
  if (!isNonEmptyString(orderId)) throw new InvalidInputError(`${what}: orderId must be a non-empty string`);
  const key = { pk, sk };
  if (!isOrderKey(key)) throw new InvalidInputError(`${what}: pk/sk must be an order's key`);
  if (!isSku(sku)) throw new InvalidInputError(`${what}: sku must look like <PRODUCT>-<MODEL>`);
  if (!isPositiveInteger(quantity)) throw new InvalidInputError(`${what}: quantity must be a positive integer`);
  return { orderId, ...key, sku, quantity };
}

/**
 * Parses the body of a webhook call.
 *
 * @throws InvalidInputError naming the first field that is wrong.
 */
export function parsePaymentConfirmation(body: string): PaymentConfirmation {
  const what = 'payment confirmation';
  const { chargeId, orderId, status, amountCents, currency, metadata } = parseJsonObject(body, what);
  if (!isNonEmptyString(chargeId)) throw new InvalidInputError(`${what}: chargeId must be a non-empty string`);
  if (!isNonEmptyString(orderId)) throw new InvalidInputError(`${what}: orderId must be a non-empty string`);
  if (status !== CHARGE_SUCCEEDED) throw new InvalidInputError(`${what}: status must be "${CHARGE_SUCCEEDED}"`);
  if (!isPositiveInteger(amountCents)) throw new InvalidInputError(`${what}: amountCents must be a positive integer`);
  if (!isCurrency(currency)) throw new InvalidInputError(`${what}: currency must be a three-letter code`);
  if (!isObject(metadata) || !isOrderKey(metadata)) {
    throw new InvalidInputError(`${what}: metadata must hold the order's pk and sk`);
  }
  return { chargeId, orderId, status, amountCents, currency, metadata: { pk: metadata.pk, sk: metadata.sk } };
}
