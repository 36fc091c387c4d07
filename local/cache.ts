/**
 * The machine-wide cache of work the runtime can skip when its inputs have not changed (function
 * bundles, validated state machine definitions): a folder per kind under `WIMS_CACHE_DIR`, or
 * `<tmpdir>/wims-cache`. Entries are named by the hash of what produced them, so stacks running
 * side by side never overwrite each other's, and a stale entry is never found.
 */
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The folder for one kind of cached work (it may not exist yet). */
export function cacheDir(kind: string): string {
  return join(process.env.WIMS_CACHE_DIR ?? join(tmpdir(), 'wims-cache'), kind);
}

/** A short content hash for cache entry names. */
export function contentHash(...parts: Array<string | Buffer>): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex').slice(0, 32);
}
