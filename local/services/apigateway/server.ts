/**
 * The local API Gateway for REST APIs: each API defined by an OpenAPI body is served by its own
 * HTTP server on 127.0.0.1 once a stage is attached. Per request: stage (from the path prefix,
 * optional), route (unknown → 403 "Missing Authentication Token"), stage throttling (→ 429 before
 * anything else runs), request validation, integration, gateway responses for every error; then
 * a counter update and one access log line in `API-Gateway-Access-Logs/<apiId>/<stage>`.
 *
 * LIMITATIONS: no authorizers, API keys, usage plans, resource policies, CORS handling, caching,
 * canary stages, custom domains or WAF; binary media types are not supported (bodies are UTF-8
 * text); no 10 MB payload limit; `$context.domainName` is the Host the client used
 * (`127.0.0.1:3000`), not the execute-api name; access log lines have one fixed JSON format
 * (the stage's AccessLogSetting is not read); requests without a stage prefix go to the API's
 * stage from its `AWS::ApiGateway::Stage` (else the one its Deployment named).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LOOPBACK } from '../../net.ts';
import { traceHop } from '../../trace.ts';
import type { LambdaInvoker } from '../lambda/runtime.ts';
import type { LogStore } from '../logs/store.ts';
import type { ApiEndpointMap } from './endpoints.ts';
import { GatewayResponseError, renderGatewayResponse } from './gateway-responses.ts';
import { runIntegration, type IntegrationServices } from './integrations.ts';
import type { HttpAnswer } from './mapping.ts';
import { matchResource, type ApiDefinition } from './openapi.ts';
import { clfTime, headerValue, type MethodRequest, type RequestContext } from './request.ts';
import { StageThrottle, type ThrottleSetting } from './throttle.ts';
import { validateRequest } from './validation.ts';

/** Options for {@link ApiGatewayService}. */
export interface ApiGatewayServiceOptions {
  /** The region DynamoDB requests are signed for. */
  region: string;
  /** `$context.accountId`. */
  accountId: string;
  /** DynamoDB Local, for `aws` integrations with DynamoDB actions. */
  dynamodbEndpoint: string;
  lambda: LambdaInvoker;
  /** Receives one access log line per request. */
  logs: Pick<LogStore, 'append'>;
  /** Hears an API's counters after each request is counted (API Gateway's half on the intake thread reports them). */
  counted?(apiId: string, counters: ApiCounters): void;
  /** The port for an API's server by logical id (0 lets the OS pick a free one). */
  portFor(logicalId: string): number;
  /** Filled in with each API's base URL as its server listens (functions and API destinations read it). */
  endpoints: ApiEndpointMap;
}

/** A REST API to serve: what the RestApi provider knows. */
export interface RestApiDefinition {
  logicalId: string;
  apiId: string;
  definition: ApiDefinition;
  /** Diagnostics (integration errors, unsupported settings). */
  log(message: string): void;
}

/** A stage of a REST API. */
export interface StageDefinition {
  name: string;
  variables: Record<string, string>;
  throttle: ThrottleSetting[];
  /**
   * Whether the stage comes from an `AWS::ApiGateway::Stage` (it then answers requests without a
   * stage prefix) rather than from a Deployment's StageName.
   */
  primary: boolean;
}

/** Request counts of one API since it started serving. */
export interface ApiCounters {
  requests: number;
  status2xx: number;
  /** Includes the 429s. */
  status4xx: number;
  status429: number;
  status5xx: number;
}

interface Stage {
  name: string;
  variables: Record<string, string>;
  throttle: StageThrottle;
}

interface ServedApi extends RestApiDefinition {
  stages: Map<string, Stage>;
  defaultStage: { name: string; primary: boolean } | undefined;
  server: Server | undefined;
  baseUrl: string | undefined;
  counters: ApiCounters;
}

/** Serves the template's REST APIs; providers define APIs and attach stages. */
export class ApiGatewayService {
  private readonly apis = new Map<string, ServedApi>();
  private readonly integrationServices: IntegrationServices;
  private readonly options: ApiGatewayServiceOptions;

  constructor(options: ApiGatewayServiceOptions) {
    this.options = options;
    this.integrationServices = {
      lambda: options.lambda,
      dynamodbEndpoint: options.dynamodbEndpoint,
      region: options.region,
      endpoints: options.endpoints,
    };
  }

  /** Registers an API; it is served once {@link addStage} attaches its first stage. */
  defineApi(api: RestApiDefinition): void {
    if (this.apis.has(api.apiId)) throw new Error(`REST API ${api.apiId} (${api.logicalId}) is defined twice`);
    this.apis.set(api.apiId, {
      ...api,
      stages: new Map(),
      defaultStage: undefined,
      server: undefined,
      baseUrl: undefined,
      counters: { requests: 0, status2xx: 0, status4xx: 0, status429: 0, status5xx: 0 },
    });
  }

  /** Whether `apiId` names a defined API. */
  hasApi(apiId: string): boolean {
    return this.apis.has(apiId);
  }

  /**
   * Attaches (or replaces) a stage and starts the API's server if it is not running yet.
   * Resolves with the stage's base URL (`http://127.0.0.1:3000/dev`).
   */
  async addStage(apiId: string, stage: StageDefinition): Promise<string> {
    const api = this.apis.get(apiId);
    if (!api) throw new Error(`No REST API with id ${apiId}`);
    api.stages.set(stage.name, { name: stage.name, variables: stage.variables, throttle: new StageThrottle(stage.throttle) });
    if (api.defaultStage === undefined || (stage.primary && !api.defaultStage.primary)) {
      api.defaultStage = { name: stage.name, primary: stage.primary };
    }
    if (api.baseUrl === undefined) {
      api.baseUrl = await this.listen(api);
      this.options.endpoints[api.apiId] = api.baseUrl;
    }
    return `${api.baseUrl}/${stage.name}`;
  }

  /** One entry per served stage, each API's default stage first, for printing. */
  urls(): Array<{ logicalId: string; apiId: string; stage: string; url: string }> {
    return [...this.apis.values()].flatMap((api) => {
      if (api.baseUrl === undefined) return [];
      const stages = [...api.stages.keys()].sort((a, b) => Number(b === api.defaultStage?.name) - Number(a === api.defaultStage?.name));
      return stages.map((stage) => ({ logicalId: api.logicalId, apiId: api.apiId, stage, url: `${api.baseUrl}/${stage}` }));
    });
  }

  /** Request counters per API, for the status command. */
  stats(): Array<{ logicalId: string; apiId: string } & ApiCounters> {
    return [...this.apis.values()].map((api) => ({ logicalId: api.logicalId, apiId: api.apiId, ...api.counters }));
  }

  /** Closes every server (open keep-alive connections included); safe to call twice. */
  async stop(): Promise<void> {
    await Promise.all(
      [...this.apis.values()].map(async (api) => {
        const { server } = api;
        if (!server) return;
        api.server = undefined;
        api.baseUrl = undefined;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await closed;
      }),
    );
  }

  private async listen(api: ServedApi): Promise<string> {
    const server = createServer((req, res) => {
      this.handle(api, req, res).catch((error: unknown) => {
        api.log(`${req.method} ${req.url}: ${(error as Error).message}`);
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end('{"message":"Internal server error"}');
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.portFor(api.logicalId), LOOPBACK, () => {
        server.off('error', reject);
        resolve();
      });
    });
    api.server = server;
    return `http://${LOOPBACK}:${(server.address() as AddressInfo).port}`;
  }

  private async handle(api: ServedApi, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const { stage, path } = this.stageOf(api, url.pathname);
    const match = matchResource(api.definition, path);
    const request = methodRequest(req, url, body, started, { accountId: this.options.accountId, apiId: api.apiId, stage, path, match });
    const { method } = request;
    let answer: HttpAnswer;
    let failure: GatewayResponseError | undefined;
    try {
      const operation = match && (match.resource.operations.get(method) ?? match.resource.operations.get('ANY'));
      if (!match || !operation) throw new GatewayResponseError('MISSING_AUTHENTICATION_TOKEN', 'Missing Authentication Token');
      if (!stage.throttle.allow(match.resource.path, method)) throw new GatewayResponseError('THROTTLED', 'Too Many Requests');
      validateRequest(operation, request);
      answer = await runIntegration(operation.integration, request, this.integrationServices);
    } catch (error) {
      failure = error instanceof GatewayResponseError
        ? error
        : new GatewayResponseError('API_CONFIGURATION_ERROR', 'Internal server error', { cause: error });
      if (failure.cause !== undefined) {
        api.log(`${method} ${url.pathname} (${request.context.requestId}): ${failure.type}: ${(failure.cause as Error).message ?? String(failure.cause)}`);
      }
      answer = renderGatewayResponse(failure, api.definition.gatewayResponses, request);
    }
    // Counted before it is answered: a client that has its answer finds it in the counters.
    this.record(api, stage, request.context, answer, failure, Date.now() - started);
    // The length is the server's to say, whatever a Lambda proxy answer claims.
    const answerHeaders = Object.entries(answer.headers).filter(([name]) => name.toLowerCase() !== 'content-length');
    res.writeHead(answer.status, {
      ...Object.fromEntries(answerHeaders),
      'Content-Length': Buffer.byteLength(answer.body),
      'x-amzn-RequestId': request.context.requestId,
    });
    res.end(answer.body);
    traceHop('apigateway', `${method} ${request.context.resourcePath || path}`, api.logicalId, { status: answer.status, request: body, answer: answer.body }, { time: started, durationMs: Date.now() - started, ...(answer.status >= 400 && { error: `HTTP ${answer.status}` }) });
  }

  /** The stage named by the path's first segment, else the default stage; and the path without it. */
  private stageOf(api: ServedApi, pathname: string): { stage: Stage; path: string } {
    const [, first = '', ...rest] = pathname.split('/');
    const named = api.stages.get(first);
    if (named) return { stage: named, path: `/${rest.join('/')}` };
    // A server only listens once a stage exists, so there is always a default.
    return { stage: api.stages.get(api.defaultStage!.name)!, path: pathname };
  }

  private record(
    api: ServedApi,
    stage: Stage,
    context: RequestContext,
    answer: HttpAnswer,
    failure: GatewayResponseError | undefined,
    latencyMs: number,
  ): void {
    const { counters } = api;
    counters.requests += 1;
    if (answer.status >= 200 && answer.status < 300) counters.status2xx += 1;
    if (answer.status >= 400 && answer.status < 500) counters.status4xx += 1;
    if (answer.status === 429) counters.status429 += 1;
    if (answer.status >= 500) counters.status5xx += 1;
    this.options.counted?.(api.apiId, counters);
    this.options.logs.append(`API-Gateway-Access-Logs/${api.apiId}/${stage.name}`, JSON.stringify({
      requestId: context.requestId,
      ip: context.identity.sourceIp,
      requestTime: context.requestTime,
      httpMethod: context.httpMethod,
      resourcePath: context.resourcePath,
      path: context.path,
      status: answer.status,
      protocol: context.protocol,
      responseLength: Buffer.byteLength(answer.body),
      responseLatency: latencyMs,
      ...(failure && { errorMessage: failure.message, errorResponseType: failure.type }),
    }));
  }
}

/** Where a request landed: its API, stage, path without the stage, and resource if any. */
interface Routing {
  accountId: string;
  apiId: string;
  stage: Stage;
  path: string;
  match: ReturnType<typeof matchResource>;
}

/** The method request with its `$context`, as templates and Lambda proxy events see it. */
function methodRequest(req: IncomingMessage, url: URL, body: Buffer, started: number, { accountId, apiId, stage, path, match }: Routing): MethodRequest {
  const method = (req.method ?? 'GET').toUpperCase();
  const { headers, multiValueHeaders } = headersOf(req.rawHeaders);
  const { query, multiValueQuery } = queryOf(url.searchParams);
  const requestId = randomUUID();
  const host = headerValue(headers, 'host') ?? '';
  const context: RequestContext = {
    accountId,
    apiId,
    authorizer: undefined,
    domainName: host,
    domainPrefix: host.split('.')[0],
    extendedRequestId: requestId.replace(/-/g, '').slice(0, 16),
    httpMethod: method,
    identity: {
      accessKey: null, accountId: null, apiKey: null, apiKeyId: null, caller: null, clientCert: null,
      cognitoAuthenticationProvider: null, cognitoAuthenticationType: null, cognitoIdentityId: null,
      cognitoIdentityPoolId: null, principalOrgId: null, user: null, userArn: null,
      sourceIp: (req.socket.remoteAddress ?? '').replace(/^::ffff:/, ''),
      userAgent: headerValue(headers, 'user-agent') ?? null,
    },
    path: `/${stage.name}${path}`,
    protocol: `HTTP/${req.httpVersion}`,
    requestId,
    requestTime: clfTime(new Date(started)),
    requestTimeEpoch: started,
    resourceId: match?.resource.id ?? '',
    resourcePath: match?.resource.path ?? '',
    stage: stage.name,
  };
  return {
    method,
    path,
    headers,
    multiValueHeaders,
    query,
    multiValueQuery,
    pathParameters: match?.pathParameters ?? {},
    stageVariables: stage.variables,
    body,
    context,
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Headers with the client's spelling: the last value per name, and all values. */
function headersOf(rawHeaders: string[]): { headers: Record<string, string>; multiValueHeaders: Record<string, string[]> } {
  const names = new Map<string, string>();
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const raw = rawHeaders[i]!;
    const name = names.get(raw.toLowerCase()) ?? raw;
    names.set(raw.toLowerCase(), name);
    (multiValueHeaders[name] ??= []).push(rawHeaders[i + 1]!);
  }
  return { headers: lastValues(multiValueHeaders), multiValueHeaders };
}

function queryOf(params: URLSearchParams): { query: Record<string, string>; multiValueQuery: Record<string, string[]> } {
  const multiValueQuery: Record<string, string[]> = {};
  for (const [name, value] of params) (multiValueQuery[name] ??= []).push(value);
  return { query: lastValues(multiValueQuery), multiValueQuery };
}

/** The single-value form API Gateway gives of a repeated header or query parameter: its last value. */
function lastValues(multi: Record<string, string[]>): Record<string, string> {
  return Object.fromEntries(Object.entries(multi).map(([name, values]) => [name, values.at(-1)!]));
}
