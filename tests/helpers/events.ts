/** Loads the sample events under events/ (the same files `sam local invoke -e` takes). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const EVENTS_DIR = fileURLToPath(new URL('../../events/', import.meta.url));

/**
 * Reads `events/<path>` (e.g. `cdc-enrichment/order-inserted.json`), a fresh copy on every call
 * so a test may change it.
 */
export function loadEvent<T>(path: string): T {
  return JSON.parse(readFileSync(`${EVENTS_DIR}${path}`, 'utf8')) as T;
}
