/**
 * Why a delivery to a target failed, in EventBridge's terms: the `ERROR_CODE` it writes on
 * dead-lettered events, and whether another attempt may help. Sources and processors apply
 * their own retry policies on top of this classification.
 */

/**
 * A failed delivery. `code` is the `ERROR_CODE` EventBridge writes on dead-lettered events
 * (`THROTTLING`, `CONNECTION_FAILURE`, `TIMEOUT`, `NO_RESOURCE`, `SDK_CLIENT_ERROR`,
 * `INVALID_PARAMETER`, `INVALID_JSON`, `INTERNAL_ERROR`); `retryable` is true for throttling, 5xx,
 * timeouts and network failures, where another attempt may succeed.
 */
export class TargetError extends Error {
  override name = 'TargetError';
  readonly code: string;
  readonly retryable: boolean;
  /** The wait the target asked for (an HTTP `Retry-After`), if any. */
  readonly retryAfterMs: number | undefined;

  constructor(
    message: string,
    details: { code: string; retryable: boolean; retryAfterMs?: number; cause?: unknown },
  ) {
    super(message, { cause: details.cause });
    this.code = details.code;
    this.retryable = details.retryable;
    this.retryAfterMs = details.retryAfterMs;
  }
}

/**
 * Classifies any failure like EventBridge does: throttling, 5xx, timeouts and network errors are
 * retried; a missing resource or a rejected request is not.
 */
export function toTargetError(error: unknown, targetArn: string): TargetError {
  if (error instanceof TargetError) return error;
  const failure = error as { name?: string; message?: string; code?: string; $fault?: string; $metadata?: { httpStatusCode?: number } };
  const name = failure.name ?? 'Error';
  const message = `Target ${targetArn}: ${name}: ${failure.message ?? String(error)}`;
  const status = failure.$metadata?.httpStatusCode;
  if (/Throttl|TooManyRequests|RequestLimitExceeded/i.test(name) || status === 429) {
    return new TargetError(message, { code: 'THROTTLING', retryable: true, cause: error });
  }
  if (/NotFound|NonExistent|DoesNotExist/i.test(name)) {
    return new TargetError(message, { code: 'NO_RESOURCE', retryable: false, cause: error });
  }
  if (/TimeoutError|AbortError/.test(name)) {
    return new TargetError(message, { code: 'TIMEOUT', retryable: true, cause: error });
  }
  const networkCode = failure.code ?? (failure as { cause?: { code?: string } }).cause?.code;
  if (networkCode !== undefined && /^(ECONN|EPIPE|ENOTFOUND|EAI_AGAIN|UND_ERR)/.test(networkCode)) {
    return new TargetError(message, { code: 'CONNECTION_FAILURE', retryable: true, cause: error });
  }
  if (failure.$fault === 'client') {
    return new TargetError(message, { code: 'SDK_CLIENT_ERROR', retryable: false, cause: error });
  }
  return new TargetError(message, { code: 'INTERNAL_ERROR', retryable: true, cause: error });
}
