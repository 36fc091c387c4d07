/**
 * The reconciler's clock: Step Functions' JSONPath intrinsics have no clock in epoch
 * milliseconds (only ISO 8601 context times, and no arithmetic beyond addition), while the
 * OpenOrders index sorts orders by `openSince`, the epoch milliseconds API Gateway stamped them
 * with. This returns now and the cutoff (now minus the deadline) in those units.
 */
import { InvalidInputError } from '#shared/errors.js';
import { withPowertools } from '#shared/powertools.js';

/** The reconciler's request: how long an order may stay non-terminal before it is re-driven. */
export interface ClockRequest {
  deadlineSeconds: number;
}

/**
 * Now, and the moment at or before which an order (or its last re-drive) is overdue, in epoch
 * milliseconds as decimal strings: the form DynamoDB numbers take in the requests (`{"N": ...}`).
 */
export interface ClockReading {
  nowMs: string;
  cutoffMs: string;
}

/** Reads the clock; `now` is injectable for tests. */
export function readClock(request: ClockRequest, now: () => number = Date.now): ClockReading {
  const deadlineSeconds = request?.deadlineSeconds;
  if (typeof deadlineSeconds !== 'number' || !Number.isFinite(deadlineSeconds) || deadlineSeconds < 0) {
    throw new InvalidInputError('deadlineSeconds must be a number of seconds, 0 or more');
  }
  const nowMs = now();
  return { nowMs: String(nowMs), cutoffMs: String(nowMs - Math.round(deadlineSeconds * 1000)) };
}

/** Lambda entry point. */
export const handler = withPowertools(async (request: ClockRequest) => readClock(request));
