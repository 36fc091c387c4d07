/**
 * The stack's one AWS endpoint: every AWS API the local runtime emulates, on one port of
 * 127.0.0.1, so that the AWS CLI and SDKs reach all of them with one `AWS_ENDPOINT_URL`. DynamoDB
 * (and its Streams) and SQS/SNS are forwarded to their engines; the other services' operations are
 * their own `services/<service>/api.ts`, which this server calls in the wire protocol each service
 * speaks on AWS (see router.ts): JSON errors as `__type` + `message`, query errors as XML
 * `ErrorResponse`, REST errors with `x-amzn-ErrorType`.
 *
 * It serves only what callers ask of it: nothing in the stack's own data path goes through it.
 *
 * LIMITATIONS: signatures are not checked (any credentials are accepted, as by the engines); one
 * account and region; no HTTPS.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { LOOPBACK } from '../net.js';
import { AwsApiError, notSupported, type RestRequest, type RestResponse, type RestRoute, type ServiceOperations } from '../services/api.js';
import { forward } from './proxy.js';
import { jsonVersion, routeRequest, type JsonService, type Route, type Upstream } from './router.js';
import { queryError, queryResponse } from './xml.js';

/** What the endpoint serves. */
export interface EndpointServices {
  /** Origins of the engines that speak AWS's protocols themselves. */
  upstreams: Record<Upstream, string>;
  /** JSON-protocol services' operations, by service (`events`, `states`, …). */
  json: Partial<Record<JsonService, ServiceOperations>>;
  /** Query-protocol services' operations and XML namespaces, by signing name (`cloudformation`, …). */
  query: Record<string, { namespace: string; operations: ServiceOperations }>;
  /** REST-protocol services' routes, by signing name (`lambda`, `pipes`, `apigateway`). */
  rest: Record<string, readonly RestRoute[]>;
}

/** A listening endpoint. */
export interface AwsEndpoint {
  /** `http://127.0.0.1:<port>`: what `AWS_ENDPOINT_URL` is set to. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** JSON with timestamps as epoch seconds, as AWS's JSON protocols send them. */
function awsJson(value: unknown): string {
  return JSON.stringify(value ?? {}, function replacer(this: Record<string, unknown>, key: string, member: unknown) {
    const original = this[key];
    return original instanceof Date ? original.getTime() / 1000 : member;
  });
}

function asApiError(error: unknown): AwsApiError {
  if (error instanceof AwsApiError) return error;
  return new AwsApiError('InternalFailure', (error as Error).message ?? String(error), 500);
}

/** Matches a route's path pattern (`/2015-03-31/functions/{FunctionName}/invocations`) against the request's segments. */
function matchPath(pattern: string, segments: readonly string[]): Record<string, string> | undefined {
  const parts = pattern.split('/').filter(Boolean);
  if (parts.length !== segments.length) return undefined;
  const parameters: Record<string, string> = {};
  for (const [index, part] of parts.entries()) {
    const segment = segments[index]!;
    if (part.startsWith('{')) parameters[part.slice(1, -1)] = segment;
    else if (part !== segment) return undefined;
  }
  return parameters;
}

class EndpointHandler {
  constructor(private readonly services: EndpointServices) {}

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const path = request.url ?? '/';
    const route = routeRequest({ path, headers: request.headers, body });
    const requestId = randomUUID();
    response.setHeader('x-amzn-RequestId', requestId);
    switch (route.kind) {
      case 'proxy':
        return forward(this.services.upstreams[route.upstream], { method: request.method ?? 'POST', url: path, headers: request.headers }, body, response);
      case 'json':
        return this.json(route, body, response);
      case 'query':
        return this.query(route, requestId, response);
      case 'rest':
        return this.rest(route.service, request, path, body, response);
      case 'unknown':
        return this.jsonError(new AwsApiError('UnknownOperationException', route.message), '1.1', response);
    }
  }

  private async json(route: Extract<Route, { kind: 'json' }>, body: Buffer, response: ServerResponse): Promise<void> {
    const version = jsonVersion(route.service);
    try {
      const operation = this.services.json[route.service]?.[route.operation];
      if (operation === undefined) throw notSupported(route.service, route.operation);
      const input = body.length === 0 ? {} : (JSON.parse(body.toString('utf8')) as Record<string, unknown>);
      const output = await operation(input);
      response.writeHead(200, { 'content-type': `application/x-amz-json-${version}` }).end(awsJson(output));
    } catch (error) {
      this.jsonError(error instanceof SyntaxError ? new AwsApiError('SerializationException', error.message) : asApiError(error), version, response);
    }
  }

  private jsonError(error: AwsApiError, version: string, response: ServerResponse): void {
    response.writeHead(error.status, { 'content-type': `application/x-amz-json-${version}`, 'x-amzn-ErrorType': error.code })
      .end(JSON.stringify({ __type: error.code, message: error.message }));
  }

  private async query(route: Extract<Route, { kind: 'query' }>, requestId: string, response: ServerResponse): Promise<void> {
    const service = this.services.query[route.service];
    try {
      const operation = service?.operations[route.operation];
      if (service === undefined || operation === undefined) throw notSupported(route.service, route.operation);
      const input = Object.fromEntries(route.parameters);
      const output = await operation(input);
      response.writeHead(200, { 'content-type': 'text/xml' }).end(queryResponse(route.operation, service.namespace, output, requestId));
    } catch (error) {
      const apiError = asApiError(error);
      response.writeHead(apiError.status, { 'content-type': 'text/xml' }).end(queryError(apiError, requestId));
    }
  }

  private async rest(service: string, request: IncomingMessage, path: string, body: Buffer, response: ServerResponse): Promise<void> {
    const url = new URL(path, 'http://endpoint');
    const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const method = request.method ?? 'GET';
    try {
      const routes = this.services.rest[service] ?? [];
      let matched: { route: RestRoute; parameters: Record<string, string> } | undefined;
      for (const route of routes) {
        const parameters = route.method === method ? matchPath(route.path, segments) : undefined;
        if (parameters !== undefined) {
          matched = { route, parameters };
          break;
        }
      }
      if (matched === undefined) throw notSupported(service, `${method} ${url.pathname}`);
      const restRequest: RestRequest = {
        method,
        segments,
        query: url.searchParams,
        headers: Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(',') : value])),
        body,
      };
      this.restAnswer(await matched.route.handle(restRequest, matched.parameters), response);
    } catch (error) {
      const apiError = asApiError(error);
      response.writeHead(apiError.status, { 'content-type': 'application/json', 'x-amzn-ErrorType': apiError.code })
        .end(JSON.stringify({ Type: apiError.status < 500 ? 'User' : 'Service', message: apiError.message }));
    }
  }

  private restAnswer(answer: RestResponse, response: ServerResponse): void {
    const payload = answer.raw ?? (answer.body === undefined ? Buffer.alloc(0) : Buffer.from(awsJson(answer.body)));
    response.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...answer.headers }).end(payload);
  }
}

/** Starts the endpoint on 127.0.0.1:`port` (0: a free port); resolves once it listens. */
export async function startAwsEndpoint(port: number, services: EndpointServices): Promise<AwsEndpoint> {
  const handler = new EndpointHandler(services);
  const server: Server = createServer((request, response) => {
    handler.handle(request, response).catch((error: unknown) => {
      const apiError = asApiError(error);
      if (!response.headersSent) response.writeHead(apiError.status, { 'content-type': 'application/json', 'x-amzn-ErrorType': apiError.code });
      response.end(JSON.stringify({ __type: apiError.code, message: apiError.message }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'EADDRINUSE' ? new Error(`the AWS endpoint's port ${port} is in use: choose another with --aws-port or WIMS_AWS_PORT`) : error);
    });
    server.listen(port, LOOPBACK, resolve);
  });
  const { port: listening } = server.address() as { port: number };
  return {
    url: `http://${LOOPBACK}:${listening}`,
    port: listening,
    stop: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
