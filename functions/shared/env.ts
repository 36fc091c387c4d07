/** Configuration from the function's environment, read once when the module loads. */
import { ConfigurationError } from './errors.js';

/**
 * Returns the environment variable `name`.
 *
 * @throws ConfigurationError when it is missing or blank, naming the variable, so a broken
 *   deployment fails at cold start instead of on some later request.
 */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value.trim() === '') {
    throw new ConfigurationError(`Environment variable ${name} is required but not set`);
  }
  return value;
}

/**
 * Returns the environment variable `name` as a non-negative integer.
 *
 * @throws ConfigurationError when it is missing or not a non-negative integer.
 */
export function requireIntegerEnv(name: string): number {
  const value = requireEnv(name);
  if (!/^\d+$/.test(value.trim())) {
    throw new ConfigurationError(`Environment variable ${name} must be a non-negative integer, got "${value}"`);
  }
  return Number(value);
}

/** Returns the environment variable `name`, trimmed; undefined when it is unset or blank (a setting that is off). */
export function optionalEnv(name: string): string | undefined {
  const value = process.env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** The range {@link optionalNumberEnv} accepts. */
export interface NumberRange {
  min: number;
  max: number;
  /** Whole numbers only. */
  integer?: boolean;
}

/**
 * Returns the environment variable `name` as a number in `range`, or `fallback` when it is unset
 * or blank.
 *
 * @throws ConfigurationError when it is set to anything else, naming the variable and the range.
 */
export function optionalNumberEnv(name: string, fallback: number, range: NumberRange): number {
  const value = optionalEnv(name);
  if (value === undefined) return fallback;
  const number = /^[-+]?(\d+\.?\d*|\.\d+)$/.test(value) ? Number(value) : Number.NaN;
  const kind = range.integer ? 'an integer' : 'a number';
  if (!(number >= range.min && number <= range.max) || (range.integer && !Number.isInteger(number))) {
    throw new ConfigurationError(`Environment variable ${name} must be ${kind} from ${range.min} to ${range.max}, got "${value}"`);
  }
  return number;
}
