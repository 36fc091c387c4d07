/**
 * The retry policy EventBridge rules and EventBridge Scheduler apply to their targets
 * (RetryPolicy: MaximumRetryAttempts, default 185; MaximumEventAgeInSeconds, default 86 400): a
 * retryable failure (throttling, 5xx, network) is tried again after an exponential backoff with
 * jitter, or after the wait the target asked for, until one of the two limits runs out; a failure
 * that is not retryable ends the delivery at once. What happens then (a dead-letter queue, a log
 * line) is the caller's.
 *
 * LIMITATIONS: AWS does not publish its backoff base, so retries here start at
 * {@link DEFAULT_RETRY_BASE_MS} ms, double, and are capped at {@link DEFAULT_RETRY_CAP_MS} ms.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { toTargetError, type TargetError } from './error.js';

export const DEFAULT_MAX_RETRY_ATTEMPTS = 185;
export const DEFAULT_MAX_EVENT_AGE_SECONDS = 86_400;
export const DEFAULT_RETRY_BASE_MS = 100;
export const DEFAULT_RETRY_CAP_MS = 30_000;

/** A target's RetryPolicy, as the templates of both services spell it. */
export interface RetryPolicy {
  MaximumRetryAttempts?: number;
  MaximumEventAgeInSeconds?: number;
}

/** How one delivery goes. */
export interface RetryOptions {
  policy: RetryPolicy | undefined;
  /** When the event (or the schedule's invocation) was received: MaximumEventAgeInSeconds counts from it. */
  receivedAt: Date;
  /** Attempts already made (by a previous run, for a resumed delivery). */
  attemptsUsed?: number;
  /** First and longest backoff. */
  baseMs?: number;
  capMs?: number;
  /** Aborted when the runtime stops: a delivery waiting to retry then ends as `stopped`. */
  signal: AbortSignal;
  /** Called before each wait with the attempts made so far (the journal records them). */
  onRetry?: (attempts: number) => void;
}

/** The end of a delivery. */
export type RetryOutcome =
  | { delivered: true; attempts: number }
  | { delivered: false; attempts: number; error: TargetError; exhausted: 'MaximumRetryAttempts' | 'MaximumEventAgeInSeconds' | undefined }
  | { stopped: true };

/** Calls `send` until it succeeds or the policy gives up. */
export async function deliverWithRetries(send: () => Promise<void>, targetArn: string, options: RetryOptions): Promise<RetryOutcome> {
  const maxRetries = options.policy?.MaximumRetryAttempts ?? DEFAULT_MAX_RETRY_ATTEMPTS;
  const maxAgeMs = (options.policy?.MaximumEventAgeInSeconds ?? DEFAULT_MAX_EVENT_AGE_SECONDS) * 1000;
  for (let attempt = (options.attemptsUsed ?? 0) + 1; ; attempt++) {
    try {
      await send();
      return { delivered: true, attempts: attempt };
    } catch (caught) {
      const error = toTargetError(caught, targetArn);
      if (!error.retryable) return { delivered: false, attempts: attempt, error, exhausted: undefined };
      if (attempt > maxRetries) return { delivered: false, attempts: attempt, error, exhausted: 'MaximumRetryAttempts' };
      const delay = Math.max(backoff(attempt, options.baseMs ?? DEFAULT_RETRY_BASE_MS, options.capMs ?? DEFAULT_RETRY_CAP_MS), error.retryAfterMs ?? 0);
      if (Date.now() + delay - options.receivedAt.getTime() > maxAgeMs) {
        return { delivered: false, attempts: attempt, error, exhausted: 'MaximumEventAgeInSeconds' };
      }
      options.onRetry?.(attempt);
      try {
        await sleep(delay, undefined, { signal: options.signal });
      } catch {
        return { stopped: true };
      }
    }
  }
}

/** Exponential backoff with jitter: a random delay between half and all of base × 2^(attempt−1), capped. */
function backoff(attempt: number, baseMs: number, capMs: number): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** (attempt - 1));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}
