/**
 * EventBridge connections and API destinations, locally: an API destination call is a `fetch` of
 * the InvocationEndpoint (its `*` path wildcards filled from the target's PathParameterValues),
 * rewritten by `toLocalUrl` so that an execute-api URL reaches the local API server, with the
 * connection's authorization and invocation parameters.
 *
 * InvocationRateLimitPerSecond is enforced: calls wait their turn in order (never dropped) and each
 * starts at least 1000 / rate ms after the previous one actually started, so no second ever holds
 * more than `rate` call starts and a stalled event loop cannot release a burst to catch up. No
 * margin is added for the jitter between sending a call and its arrival: a provider's throttle is
 * a token bucket (API Gateway's, the template's stand-in with burst = rate) that absorbs it, and a
 * margin would cost its share of the rate on every call.
 *
 * Header and query-string parameters of the caller (a rule target's or pipe's HttpParameters) are
 * merged with the connection's InvocationHttpParameters; on a clash the connection's value wins,
 * as EventBridge documents. The connection's BodyParameters are added to a JSON-object body.
 * Responses: 2xx is delivered; 429 and 5xx are retryable failures (a `Retry-After` is passed on);
 * any other status is a failure that is not retried; a network error or the 5-second client
 * timeout EventBridge applies is retryable.
 *
 * LIMITATIONS: OAUTH_CLIENT_CREDENTIALS connections and private (VPC Lattice) connectivity are
 * rejected; the connection's secret lives in memory (SecretArn names no real secret); `IsValueSecret`
 * changes nothing; ArnForPolicy is not provided.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { toLocalUrl, type ApiEndpointMap } from '../apigateway/endpoints.js';
import { TargetError } from '../targets/error.js';
import { traceHop } from '../../trace.js';

/** A caller's HttpParameters (AWS::Events::Rule Target / AWS::Pipes::Pipe TargetParameters). */
export interface HttpParameters {
  HeaderParameters?: Record<string, string>;
  QueryStringParameters?: Record<string, string>;
  /** Values for the `*` wildcards of the InvocationEndpoint, in order. */
  PathParameterValues?: string[];
}

/** One `{Key, Value}` of a connection's InvocationHttpParameters. */
export interface ConnectionParameter {
  Key: string;
  Value: string;
  IsValueSecret?: boolean;
}

/** The CreateConnection request (also the AWS::Events::Connection properties). */
export interface ConnectionInput {
  Name: string;
  AuthorizationType: string;
  AuthParameters: {
    ApiKeyAuthParameters?: { ApiKeyName: string; ApiKeyValue: string };
    BasicAuthParameters?: { Username: string; Password: string };
    OAuthParameters?: unknown;
    InvocationHttpParameters?: {
      HeaderParameters?: ConnectionParameter[];
      QueryStringParameters?: ConnectionParameter[];
      BodyParameters?: ConnectionParameter[];
    };
  };
}

/** The CreateApiDestination request (also the AWS::Events::ApiDestination properties). */
export interface ApiDestinationInput {
  Name: string;
  ConnectionArn: string;
  HttpMethod: string;
  InvocationEndpoint: string;
  /** Defaults to 300, as on AWS. */
  InvocationRateLimitPerSecond?: number;
}

/** Calls made through one API destination, for `status` and the benchmark. */
export interface ApiDestinationStats {
  calls: number;
  /** 2xx responses. */
  succeeded: number;
  /** 429 responses. */
  throttled: number;
  /** Other statuses, network errors and timeouts. */
  failed: number;
}

/** EventBridge's client execution timeout for API destinations. */
const CALL_TIMEOUT_MS = 5_000;
const DEFAULT_RATE_PER_SECOND = 300;

interface Connection {
  name: string;
  arn: string;
  authorizationType: string;
  secretArn: string;
  headers: Record<string, string>;
  query: Record<string, string>;
  body: Record<string, string>;
}

interface Destination {
  name: string;
  arn: string;
  connection: Connection;
  method: string;
  endpoint: string;
  intervalMs: number;
  /** When the latest call started (performance.now() time). */
  lastStart: number;
  /** Settles when the latest waiting call has started: calls start in order, one after another. */
  queue: Promise<void>;
  stats: ApiDestinationStats;
}

/** The connections and API destinations of one runtime. */
export class ApiDestinationService {
  private readonly connections = new Map<string, Connection>();
  private readonly destinations = new Map<string, Destination>();
  private readonly stopping = new AbortController();

  constructor(private readonly options: { region: string; accountId: string }) {}

  /** Creates a connection; returns its ARN and the ARN of the secret AWS would create for it. */
  createConnection(input: ConnectionInput): { name: string; arn: string; secretArn: string } {
    const { Name: name, AuthorizationType: type, AuthParameters: auth } = input;
    const headers: Record<string, string> = {};
    if (type === 'API_KEY' && auth.ApiKeyAuthParameters) {
      headers[auth.ApiKeyAuthParameters.ApiKeyName.toLowerCase()] = auth.ApiKeyAuthParameters.ApiKeyValue;
    } else if (type === 'BASIC' && auth.BasicAuthParameters) {
      const { Username, Password } = auth.BasicAuthParameters;
      headers.authorization = `Basic ${Buffer.from(`${Username}:${Password}`).toString('base64')}`;
    } else if (type === 'OAUTH_CLIENT_CREDENTIALS') {
      throw new Error(`Connection ${name}: AuthorizationType OAUTH_CLIENT_CREDENTIALS is not supported locally (use API_KEY or BASIC)`);
    } else {
      throw new Error(`Connection ${name}: AuthorizationType ${type} needs its matching AuthParameters`);
    }
    const invocation = auth.InvocationHttpParameters ?? {};
    const id = stableId(`${this.options.accountId}/${this.options.region}/connection/${name}`);
    const connection: Connection = {
      name,
      arn: `arn:aws:events:${this.options.region}:${this.options.accountId}:connection/${name}/${id}`,
      authorizationType: type,
      secretArn: `arn:aws:secretsmanager:${this.options.region}:${this.options.accountId}:secret:events!connection/${name}/${id}-${id.slice(0, 6)}`,
      // The auth header last: no invocation parameter may override the credentials.
      headers: { ...keyValues(invocation.HeaderParameters, true), ...headers },
      query: keyValues(invocation.QueryStringParameters),
      body: keyValues(invocation.BodyParameters),
    };
    this.connections.set(connection.arn, connection);
    return { name, arn: connection.arn, secretArn: connection.secretArn };
  }

  /** Creates an API destination on an existing connection. */
  createApiDestination(input: ApiDestinationInput): { name: string; arn: string } {
    const connection = this.connections.get(input.ConnectionArn);
    if (connection === undefined) throw new Error(`API destination ${input.Name}: connection ${input.ConnectionArn} does not exist`);
    const rate = input.InvocationRateLimitPerSecond ?? DEFAULT_RATE_PER_SECOND;
    if (!(rate >= 1)) throw new Error(`API destination ${input.Name}: InvocationRateLimitPerSecond must be at least 1, got ${rate}`);
    const id = stableId(`${this.options.accountId}/${this.options.region}/api-destination/${input.Name}`);
    const destination: Destination = {
      name: input.Name,
      arn: `arn:aws:events:${this.options.region}:${this.options.accountId}:api-destination/${input.Name}/${id}`,
      connection,
      method: input.HttpMethod.toUpperCase(),
      endpoint: input.InvocationEndpoint,
      intervalMs: 1000 / rate,
      lastStart: -Infinity,
      queue: Promise.resolve(),
      stats: { calls: 0, succeeded: 0, throttled: 0, failed: 0 },
    };
    this.destinations.set(destination.arn, destination);
    return { name: destination.name, arn: destination.arn };
  }

  /**
   * Calls the API destination with `body`, waiting for its turn under the rate limit. Resolves on
   * a 2xx response; throws a {@link TargetError} otherwise (retryable for 429, 5xx, network
   * errors and timeouts).
   */
  async invoke(
    arn: string,
    body: string,
    options: { httpParameters?: HttpParameters | undefined; endpoints: ApiEndpointMap },
  ): Promise<void> {
    const destination = this.destinations.get(arn);
    if (destination === undefined) {
      throw new TargetError(`API destination ${arn} does not exist`, { code: 'NO_RESOURCE', retryable: false });
    }
    const request = buildRequest(destination, body, options.httpParameters ?? {}, options.endpoints);
    await this.waitTurn(destination);
    destination.stats.calls++;
    let response: Response;
    try {
      response = await fetch(request.url, {
        method: destination.method,
        headers: request.headers,
        body: request.body,
        signal: AbortSignal.any([AbortSignal.timeout(CALL_TIMEOUT_MS), this.stopping.signal]),
      });
      // Drained so the connection is reused; a short excerpt helps explain failures.
      const text = await response.text();
      traceHop('events', 'ApiDestination', destination.name, { url: request.url, body: request.body, status: response.status, answer: text }, response.ok ? {} : { error: `HTTP ${response.status}` });
      if (response.ok) {
        destination.stats.succeeded++;
        return;
      }
      throw statusError(destination, response, text);
    } catch (error) {
      const failure = error instanceof TargetError ? error : networkError(destination, error);
      if (failure.code === 'THROTTLING') destination.stats.throttled++;
      else destination.stats.failed++;
      throw failure;
    }
  }

  /** The connections, as ListConnections describes them (a local connection is authorized as soon as it exists). */
  listConnections(): Array<{ Name: string; ConnectionArn: string; AuthorizationType: string; ConnectionState: 'AUTHORIZED' }> {
    return [...this.connections.values()].map((connection) => ({
      Name: connection.name, ConnectionArn: connection.arn, AuthorizationType: connection.authorizationType, ConnectionState: 'AUTHORIZED',
    }));
  }

  /** The API destinations, as ListApiDestinations describes them. */
  listApiDestinations(): Array<{
    Name: string; ApiDestinationArn: string; ApiDestinationState: 'ACTIVE'; ConnectionArn: string;
    InvocationEndpoint: string; HttpMethod: string; InvocationRateLimitPerSecond: number;
  }> {
    return [...this.destinations.values()].map((destination) => ({
      Name: destination.name,
      ApiDestinationArn: destination.arn,
      ApiDestinationState: 'ACTIVE',
      ConnectionArn: destination.connection.arn,
      InvocationEndpoint: destination.endpoint,
      HttpMethod: destination.method,
      InvocationRateLimitPerSecond: Math.round(1000 / destination.intervalMs),
    }));
  }

  /** Counters per API destination name. */
  stats(): Record<string, ApiDestinationStats> {
    return Object.fromEntries([...this.destinations.values()].map((destination) => [destination.name, { ...destination.stats }]));
  }

  /** Ends waiting and running calls (they fail); later calls fail at once. */
  stop(): void {
    this.stopping.abort();
  }

  /** Resolves when it is this call's turn: after the calls before it, and one interval after the latest start. */
  private waitTurn(destination: Destination): Promise<void> {
    const turn = destination.queue.then(() => this.startWhenDue(destination));
    destination.queue = turn.catch(() => undefined);
    return turn;
  }

  private async startWhenDue(destination: Destination): Promise<void> {
    // Timers may fire a little early, so the wait is checked again after each sleep.
    for (;;) {
      if (this.stopping.signal.aborted) {
        throw new TargetError(`API destination ${destination.name}: the runtime is stopping`, { code: 'INTERNAL_ERROR', retryable: false });
      }
      const wait = destination.lastStart + destination.intervalMs - performance.now();
      if (wait <= 0) break;
      await sleep(wait, undefined, { signal: this.stopping.signal }).catch(() => undefined);
    }
    destination.lastStart = performance.now();
  }
}

/** The URL, headers and body of one call; the connection's parameters win over the caller's. */
function buildRequest(
  destination: Destination,
  body: string,
  parameters: HttpParameters,
  endpoints: ApiEndpointMap,
): { url: string; headers: Record<string, string>; body: string | undefined } {
  const { connection } = destination;
  const pathValues = [...(parameters.PathParameterValues ?? [])];
  const wildcards = destination.endpoint.split('*').length - 1;
  if (pathValues.length < wildcards) {
    throw new TargetError(`API destination ${destination.name}: its endpoint has ${wildcards} path wildcard(s) but PathParameterValues has ${pathValues.length}`, {
      code: 'INVALID_PARAMETER',
      retryable: false,
    });
  }
  const url = new URL(destination.endpoint.replace(/\*/g, () => encodeURIComponent(pathValues.shift() ?? '')));
  for (const [key, value] of Object.entries({ ...parameters.QueryStringParameters, ...connection.query })) {
    url.searchParams.set(key, value);
  }
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'Amazon/EventBridge/ApiDestinations',
    ...lowerCaseKeys(parameters.HeaderParameters),
    ...connection.headers,
  };
  const hasBody = destination.method !== 'GET' && destination.method !== 'HEAD';
  return { url: toLocalUrl(url.toString(), endpoints), headers, body: hasBody ? withBodyParameters(body, connection.body) : undefined };
}

function withBodyParameters(body: string, parameters: Record<string, string>): string {
  if (Object.keys(parameters).length === 0) return body;
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return JSON.stringify({ ...parsed, ...parameters });
  } catch {
    // Not JSON: sent as it is.
  }
  return body;
}

function statusError(destination: Destination, response: Response, text: string): TargetError {
  const status = response.status;
  const retryAfterSeconds = Number(response.headers.get('retry-after'));
  return new TargetError(
    `Unable to invoke ApiDestination endpoint ${destination.name}: the endpoint returned ${status}: ${text.slice(0, 200)}`,
    {
      code: status === 429 ? 'THROTTLING' : 'SDK_CLIENT_ERROR',
      retryable: status === 429 || status >= 500,
      retryAfterMs: Number.isFinite(retryAfterSeconds) && retryAfterSeconds > 0 ? retryAfterSeconds * 1000 : undefined,
    },
  );
}

function networkError(destination: Destination, error: unknown): TargetError {
  const timedOut = (error as Error).name === 'TimeoutError';
  return new TargetError(
    `Unable to invoke ApiDestination endpoint ${destination.name}: ${timedOut ? 'no response within 5 s' : (error as Error).message}`,
    { code: timedOut ? 'TIMEOUT' : 'CONNECTION_FAILURE', retryable: true, cause: error },
  );
}

function keyValues(parameters: ConnectionParameter[] | undefined, lowerCase = false): Record<string, string> {
  return Object.fromEntries((parameters ?? []).map(({ Key, Value }) => [lowerCase ? Key.toLowerCase() : Key, Value]));
}

/** HTTP header names are case-insensitive: one spelling, so that the connection's value replaces the caller's. */
function lowerCaseKeys(record: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(record ?? {}).map(([key, value]) => [key.toLowerCase(), value]));
}

/** A UUID-shaped id derived from `seed`, so ARNs stay the same from one run to the next. */
function stableId(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
