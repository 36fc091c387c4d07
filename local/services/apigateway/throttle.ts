/**
 * Stage throttling: token buckets built from a stage's `MethodSettings`. The `/*` + `*` entry
 * sets the stage-wide bucket; an entry naming a resource path (CloudFormation encodes its
 * slashes as `~1`) and method gets a bucket of its own, which replaces the stage's for it.
 *
 * LIMITATIONS: the account-level limits are not enforced; a setting that gives only one of
 * ThrottlingRateLimit/ThrottlingBurstLimit takes AWS's account default for the other; buckets
 * live in memory and start full.
 */

/** AWS's default account-level throttle (requests per second, burst). */
const ACCOUNT_RATE_LIMIT = 10_000;
const ACCOUNT_BURST_LIMIT = 5_000;

/** One `MethodSettings` entry, as far as throttling goes. */
export interface ThrottleSetting {
  resourcePath: string;
  httpMethod: string;
  rateLimit: number | undefined;
  burstLimit: number | undefined;
}

/** A token bucket: `burst` tokens at most, refilled at `rate` per second. */
class TokenBucket {
  private readonly rate: number;
  private readonly burst: number;
  private tokens: number;
  private updated = performance.now();

  constructor(rate: number, burst: number) {
    this.rate = rate;
    this.burst = burst;
    this.tokens = burst;
  }

  /** Takes one token; false when none is left (the request is throttled). */
  take(): boolean {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updated) / 1000) * this.rate);
    this.updated = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** The buckets of one stage. */
export class StageThrottle {
  private readonly stageBucket: TokenBucket | undefined;
  private readonly methodBuckets = new Map<string, TokenBucket>();

  constructor(settings: ThrottleSetting[]) {
    let stageBucket: TokenBucket | undefined;
    for (const setting of settings) {
      if (setting.rateLimit === undefined && setting.burstLimit === undefined) continue;
      const bucket = new TokenBucket(setting.rateLimit ?? ACCOUNT_RATE_LIMIT, setting.burstLimit ?? ACCOUNT_BURST_LIMIT);
      if (setting.resourcePath === '/*') stageBucket = bucket;
      else this.methodBuckets.set(methodKey(decodeResourcePath(setting.resourcePath), setting.httpMethod), bucket);
    }
    this.stageBucket = stageBucket;
  }

  /** Takes a token for a request to `resourcePath` (`/orders/{customerId}`) with `method`. */
  allow(resourcePath: string, method: string): boolean {
    const bucket =
      this.methodBuckets.get(methodKey(resourcePath, method)) ??
      this.methodBuckets.get(methodKey(resourcePath, '*')) ??
      this.stageBucket;
    return bucket?.take() ?? true;
  }
}

function methodKey(resourcePath: string, method: string): string {
  return `${method.toUpperCase()} ${resourcePath}`;
}

/** `/~1orders~1{customerId}` → `/orders/{customerId}` (JSON-pointer escaping, as CloudFormation takes it). */
function decodeResourcePath(path: string): string {
  return path.replace(/~1/g, '/').replace(/~0/g, '~').replace(/^\/\//, '/');
}
