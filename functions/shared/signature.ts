/**
 * Signing of the payment provider's webhook calls, and its verification by the webhook: one
 * implementation for both sides. The signature is HMAC-SHA256 with the shared secret over
 * `<timestamp>.<body>`, sent as `X-Wims-Signature: v1=<hex>` next to `X-Wims-Timestamp`
 * (Unix seconds); signing the timestamp lets the receiver reject replays of old calls.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** Header carrying the signing time, in Unix seconds. */
export const TIMESTAMP_HEADER = 'X-Wims-Timestamp';
/** Header carrying `v1=<hex HMAC>`. */
export const SIGNATURE_HEADER = 'X-Wims-Signature';
/** How far a signature's timestamp may be from the receiver's clock (either way). */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

const SCHEME = 'v1=';

function hmac(secret: string, timestamp: string, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** Compares two strings in time independent of where they differ (and of their lengths). */
export function constantTimeEquals(a: string, b: string): boolean {
  // Hashing first gives equal-length inputs, which timingSafeEqual requires.
  const digest = (value: string): Buffer => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** The two headers that sign `body` at `timestampSeconds`. */
export function signWebhook(secret: string, body: string, timestampSeconds: number): Record<string, string> {
  const timestamp = String(timestampSeconds);
  return { [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: `${SCHEME}${hmac(secret, timestamp, body)}` };
}

/** What {@link verifyWebhook} checks. */
export interface SignedRequest {
  body: string;
  timestamp: string | undefined;
  signature: string | undefined;
}

/**
 * Checks a webhook call's signature and freshness.
 *
 * @returns undefined when the call is authentic, else why not (for the log, not the caller).
 */
export function verifyWebhook(secret: string, request: SignedRequest, nowSeconds: number): string | undefined {
  const { body, timestamp, signature } = request;
  if (timestamp === undefined || !/^\d+$/.test(timestamp)) return `missing or malformed ${TIMESTAMP_HEADER}`;
  if (Math.abs(nowSeconds - Number(timestamp)) > SIGNATURE_TOLERANCE_SECONDS) {
    return `${TIMESTAMP_HEADER} is more than ${SIGNATURE_TOLERANCE_SECONDS} s away from now`;
  }
  if (signature === undefined || !signature.startsWith(SCHEME)) return `missing or malformed ${SIGNATURE_HEADER}`;
  if (!constantTimeEquals(signature.slice(SCHEME.length), hmac(secret, timestamp, body))) return 'signature mismatch';
  return undefined;
}
