/**
 * POST /payments/webhook on the orders API (Lambda proxy): the payment provider's signed
 * confirmation marks the order's payment PAID. The write is conditional, so a repeated
 * confirmation is a no-op, and a paid order is never written twice.
 */
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { createDocumentClient, isConditionalCheckFailed } from '#shared/dynamodb.js';
import { requireEnv } from '#shared/env.js';
import { InvalidInputError } from '#shared/errors.js';
import { PaymentStatus } from '#shared/events.js';
import { errorResponse, getHeader, jsonResponse, rawBody } from '#shared/http.js';
import { parsePaymentConfirmation, type PaymentConfirmation } from '#shared/payments.js';
import { BusinessMetric, countMetric, logger, withPowertools } from '#shared/powertools.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyWebhook } from '#shared/signature.js';

/** What {@link recordPayment} needs. */
export interface PaymentWebhookDeps {
  documentClient: DynamoDBDocumentClient;
  tableName: string;
  webhookSecret: string;
  /** The clock, in milliseconds (tests move it). */
  now?: () => number;
}

const deps: PaymentWebhookDeps = {
  documentClient: createDocumentClient(),
  tableName: requireEnv('TABLE_NAME'),
  webhookSecret: requireEnv('PAYMENT_WEBHOOK_SECRET'),
};

/**
 * Handles a webhook call: 401 unless signed with the shared secret within the last 5 minutes,
 * 400 for a malformed confirmation, else 200 `{status: 'recorded'}`, or
 * `{status: 'already-recorded'}` when the order was paid already (or is not this order).
 */
export async function recordPayment(event: APIGatewayProxyEvent, deps: PaymentWebhookDeps): Promise<APIGatewayProxyResult> {
  const body = rawBody(event);
  const now = deps.now?.() ?? Date.now();
  const invalid = verifyWebhook(
    deps.webhookSecret,
    { body, timestamp: getHeader(event, TIMESTAMP_HEADER), signature: getHeader(event, SIGNATURE_HEADER) },
    Math.floor(now / 1000),
  );
  if (invalid) {
    logger.warn('Rejected a webhook call', { reason: invalid });
    return errorResponse(401, 'Unauthorized', 'The request signature is missing, invalid or expired');
  }

  let confirmation: PaymentConfirmation;
  try {
    confirmation = parsePaymentConfirmation(body);
  } catch (error) {
    if (error instanceof InvalidInputError) return errorResponse(400, 'BadRequestBody', error.message);
    throw error;
  }

  const { chargeId, orderId, metadata } = confirmation;
  try {
    await deps.documentClient.send(
      new UpdateCommand({
        TableName: deps.tableName,
        Key: { pk: metadata.pk, sk: metadata.sk },
        ConditionExpression: 'attribute_exists(pk) AND orderId = :orderId AND paymentStatus <> :paid',
        UpdateExpression: 'SET paymentStatus = :paid, chargeId = :chargeId, paidAt = :paidAt',
        ExpressionAttributeValues: {
          ':orderId': orderId,
          ':paid': PaymentStatus.Paid,
          ':chargeId': chargeId,
          ':paidAt': new Date(now).toISOString(),
        },
      }),
    );
  } catch (error) {
    if (!isConditionalCheckFailed(error)) throw error;
    logger.info('Payment already recorded', { orderId, chargeId });
    return jsonResponse(200, { status: 'already-recorded' });
  }
  countMetric(BusinessMetric.PaymentsConfirmed);
  logger.info('Payment recorded', { orderId, chargeId });
  return jsonResponse(200, { status: 'recorded' });
}

/** Lambda entry point. */
export const handler = withPowertools((event: APIGatewayProxyEvent) => recordPayment(event, deps));
