/**
 * The Powertools logger and metrics, created once per sandbox (module singletons), and the
 * wrapper every handler goes through. Service name and metrics namespace come from the
 * template's Globals (POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';

/** Structured JSON logger. Log ids and counts, never customer ids or whole payloads. */
export const logger = new Logger();

/** Business metrics, written as CloudWatch EMF when the invocation ends. */
export const metrics = new Metrics();

/** The business metrics the functions emit (unit: Count). */
export const BusinessMetric = {
  OrdersCreated: 'OrdersCreated',
  OrdersReserved: 'OrdersReserved',
  OrdersBackordered: 'OrdersBackordered',
  OrdersReadyForFulfillment: 'OrdersReadyForFulfillment',
  LowStock: 'LowStock',
  PaymentsSubmitted: 'PaymentsSubmitted',
  PaymentsConfirmed: 'PaymentsConfirmed',
  PaymentsFailed: 'PaymentsFailed',
} as const;
export type BusinessMetric = (typeof BusinessMetric)[keyof typeof BusinessMetric];

/** Adds `count` to a business metric (nothing for 0, so quiet invocations emit no EMF line). */
export function countMetric(name: BusinessMetric, count = 1): void {
  if (count > 0) metrics.addMetric(name, MetricUnit.Count, count);
}

/**
 * Wraps a raw handler for Lambda: adds the invocation's context to the log lines, logs a failure
 * (then rethrows it, so Lambda and the event source see it) and flushes the metrics after every
 * invocation, failed or not.
 */
export function withPowertools<TEvent, TResult>(
  fn: (event: TEvent, context: Context) => Promise<TResult>,
): (event: TEvent, context: Context) => Promise<TResult> {
  return async (event, context) => {
    logger.addContext(context);
    try {
      return await fn(event, context);
    } catch (error) {
      logger.error('Invocation failed', error as Error);
      throw error;
    } finally {
      // Publishing with nothing stored only logs a warning: skip it.
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };
}
