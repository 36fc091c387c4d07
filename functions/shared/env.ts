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
