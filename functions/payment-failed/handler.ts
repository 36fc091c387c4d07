/**
 * Consumer of the payments dead-letter queue: a payment that exhausted its retries marks its
 * order paymentStatus FAILED (the customer is notified from that change). Only a QUEUED payment
 * is marked, so a paid order is never marked failed and a redelivery changes nothing.
 */
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchItemFailure, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createDocumentClient, isConditionalCheckFailed } from '#shared/dynamodb.js';
import { requireEnv } from '#shared/env.js';
import { InvalidInputError } from '#shared/errors.js';
import { PaymentStatus } from '#shared/events.js';
import { parsePaymentMessage, type PaymentMessage } from '#shared/payments.js';
import { BusinessMetric, countMetric, logger, withPowertools } from '#shared/powertools.js';

/** What {@link markPaymentsFailed} needs. */
export interface PaymentFailedDeps {
  documentClient: DynamoDBDocumentClient;
  tableName: string;
}

const deps: PaymentFailedDeps = { documentClient: createDocumentClient(), tableName: requireEnv('TABLE_NAME') };

/** What happened to one message. */
type Outcome = 'marked' | 'unchanged' | 'dropped' | 'retry';

async function markOne({ messageId, body }: SQSRecord, { documentClient, tableName }: PaymentFailedDeps): Promise<Outcome> {
  let payment: PaymentMessage;
  try {
    payment = parsePaymentMessage(body, `Payment message ${messageId}`);
  } catch (error) {
    // It can never succeed: retrying would only keep it cycling. The error names the bad field, not the data.
    if (error instanceof InvalidInputError) {
      logger.error('Dropping a malformed payment message', { messageId, error });
      return 'dropped';
    }
    throw error;
  }
  try {
    await documentClient.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { pk: payment.pk, sk: payment.sk },
        ConditionExpression: 'attribute_exists(pk) AND paymentStatus = :queued',
        UpdateExpression: 'SET paymentStatus = :failed, paymentFailedAt = :now',
        ExpressionAttributeValues: { ':queued': PaymentStatus.Queued, ':failed': PaymentStatus.Failed, ':now': new Date().toISOString() },
      }),
    );
    logger.info('Payment marked FAILED', { messageId, orderId: payment.orderId });
    return 'marked';
  } catch (error) {
    if (isConditionalCheckFailed(error)) {
      logger.info('Payment no longer QUEUED (paid, failed already, or no such order): nothing to do', { messageId, orderId: payment.orderId });
      return 'unchanged';
    }
    logger.warn('Could not mark the payment FAILED; the message will be retried', { messageId, error: error as Error });
    return 'retry';
  }
}

/**
 * Processes a batch; returns the messages to retry (transient errors) as batchItemFailures, so
 * the rest of the batch is not redelivered (ReportBatchItemFailures).
 */
export async function markPaymentsFailed(event: SQSEvent, deps: PaymentFailedDeps): Promise<SQSBatchResponse> {
  const results = await Promise.all(
    event.Records.map(async (record) => ({ messageId: record.messageId, outcome: await markOne(record, deps) })),
  );
  countMetric(BusinessMetric.PaymentsFailed, results.filter(({ outcome }) => outcome === 'marked').length);
  const batchItemFailures: SQSBatchItemFailure[] = results
    .filter(({ outcome }) => outcome === 'retry')
    .map(({ messageId }) => ({ itemIdentifier: messageId }));
  return { batchItemFailures };
}

/** Lambda entry point. */
export const handler = withPowertools((event: SQSEvent) => markPaymentsFailed(event, deps));
