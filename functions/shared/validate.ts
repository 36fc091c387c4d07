/** Small type guards for untrusted JSON (events, message bodies, request bodies). */
import { InvalidInputError } from './errors.js';

/** A plain JSON object. */
export type JsonObject = Record<string, unknown>;

/** True for a JSON object (not null, not an array). */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** True for a string with at least one non-blank character. */
export function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

/** True for an integer ≥ 1 that JavaScript represents exactly. */
export function isPositiveInteger(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) > 0;
}

/**
 * Parses JSON text that must hold an object.
 *
 * @param what names the input in the error (e.g. "payment message m-1"); never the text itself,
 *   which may carry customer data.
 * @throws InvalidInputError when the text is not JSON or not an object.
 */
export function parseJsonObject(text: string | null | undefined, what: string): JsonObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text ?? '');
  } catch (error) {
    throw new InvalidInputError(`${what} is not valid JSON`, { cause: error });
  }
  if (!isObject(parsed)) throw new InvalidInputError(`${what} must be a JSON object`);
  return parsed;
}
