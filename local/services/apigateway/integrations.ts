/**
 * Runs a method's integration: `aws` (DynamoDB actions over HTTP), `aws_proxy` (Lambda, REST
 * payload 1.0), `mock`, `http` and `http_proxy`. Non-proxy integrations render the request
 * template chosen by content type (with the documented passthrough behaviours), then select the
 * integration response whose pattern matches the backend's status code, render its template
 * with `$input` = the backend's answer, and apply `responseParameters` and
 * `$context.responseOverride`.
 *
 * LIMITATIONS: `aws` integrations support DynamoDB actions only (other services, `path/`-style
 * URIs and non-proxy Lambda answer 500 naming what is unsupported); no binary media types or
 * `contentHandling` (bodies are UTF-8 text); a request template that cannot parse the body as
 * JSON answers BAD_REQUEST_BODY (400) with the engine's message, any other template error is a
 * 500 API_CONFIGURATION_ERROR; a timed-out Lambda keeps running in its sandbox (its answer is
 * dropped); a Lambda proxy answer without `statusCode` counts as malformed (502); `http`
 * URIs get `{name}` from `integration.request.path.name` or else the method's path parameter of
 * that name; request parameter mappings apply to http integrations only; a mock integration
 * without request templates answers 200. An integration response whose statusCode has no method
 * response is a 500 API_CONFIGURATION_ERROR logged with AWS's "Output mapping refers to an invalid
 * method response" (checked before its template runs); `$context.responseOverride.status` may name
 * any status, declared or not, as AWS's override tutorial shows (only 200 declared, override 400).
 */
import { MappingTemplateError, renderMappingTemplate, type MappingResult } from './vtl.ts';
import { toLocalUrl, type ApiEndpointMap } from './endpoints.ts';
import type { LambdaInvoker } from '../lambda/runtime.ts';
import { callDynamoDb } from './dynamodb-call.ts';
import { traceSpan } from '../../trace.ts';
import { GatewayResponseError } from './gateway-responses.ts';
import { mapHeaders, mediaType, pickTemplate, resolveParameter, type HttpAnswer } from './mapping.ts';
import type { Integration } from './openapi.ts';
import { headerValue, proxyEvent, type MethodRequest } from './request.ts';

/** What integrations call. */
export interface IntegrationServices {
  lambda: LambdaInvoker;
  dynamodbEndpoint: string;
  region: string;
  /** Locally served APIs, so `http` integrations to execute-api URLs stay local. */
  endpoints: ApiEndpointMap;
}

/** An integration's raw answer, before the integration response mapping. */
interface BackendAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const INTERNAL_SERVER_ERROR = 'Internal server error';
const PROXY_RESPONSE_KEYS = ['statusCode', 'headers', 'multiValueHeaders', 'body', 'isBase64Encoded'];
/** Headers that describe one hop, not the message: never forwarded by proxies. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'host', 'content-length', 'content-encoding'];

/**
 * Runs the integration for a routed, validated request. Throws {@link GatewayResponseError} for
 * what API Gateway answers itself (415, 502, 504, configuration errors).
 */
export async function runIntegration(integration: Integration, request: MethodRequest, services: IntegrationServices): Promise<HttpAnswer> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new GatewayResponseError('INTEGRATION_TIMEOUT', 'Endpoint request timed out'));
    }, integration.timeoutMs);
  });
  try {
    return await Promise.race([dispatch(integration, request, services, controller.signal), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function dispatch(integration: Integration, request: MethodRequest, services: IntegrationServices, signal: AbortSignal): Promise<HttpAnswer> {
  switch (integration.type) {
    case 'aws_proxy':
      return invokeLambdaProxy(integration, request, services);
    case 'aws': {
      const action = dynamoDbAction(integration.uri);
      const payload = requestPayload(integration, request);
      const answer = await traceSpan('dynamodb', action, request.context.apiId, payload, backendCall(() => callDynamoDb({ endpoint: services.dynamodbEndpoint, region: services.region, action, body: payload, signal })), (done) => (done.status >= 400 ? done.body : undefined));
      return integrationResponse(integration, answer, request);
    }
    case 'mock': {
      const payload = Object.keys(integration.requestTemplates).length > 0 ? requestPayload(integration, request) : '';
      return integrationResponse(integration, { status: mockStatus(payload), headers: {}, body: '' }, request);
    }
    case 'http': {
      const payload = requestPayload(integration, request);
      const answer = await backendCall(() => callHttp(integration, request, services, signal, payload));
      return integrationResponse(integration, { ...answer, body: answer.body.toString('utf8') }, request);
    }
    case 'http_proxy':
      return backendCall(() => callHttp(integration, request, services, signal, request.body));
  }
}

/** A network failure reaching the backend is API Gateway's INTEGRATION_FAILURE. */
async function backendCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof GatewayResponseError || (error as Error).name === 'AbortError') throw error;
    throw new GatewayResponseError('INTEGRATION_FAILURE', INTERNAL_SERVER_ERROR, { cause: error });
  }
}

/** `arn:aws:apigateway:<region>:dynamodb:action/PutItem` → `PutItem`; anything else is unsupported. */
function dynamoDbAction(uri: string): string {
  const match = /^arn:[^:]+:apigateway:[^:]*:([^:]+):(action|path)\/([^?]+)/.exec(uri);
  if (match?.[1] === 'dynamodb' && match[2] === 'action') return match[3]!;
  const what = match ? `${match[1]} (${match[2]}/${match[3]})` : `the URI ${uri}`;
  throw new GatewayResponseError('API_CONFIGURATION_ERROR', `The local API Gateway supports aws integrations with DynamoDB actions only, not ${what}`);
}

/**
 * The integration request body: the request template for the request's content type
 * (`application/json` when absent), or the body passed through as the passthrough behaviour allows.
 */
function requestPayload(integration: Integration, request: MethodRequest): string {
  const contentType = mediaType(headerValue(request.headers, 'content-type')) ?? 'application/json';
  const templates = integration.requestTemplates;
  const key = Object.keys(templates).find((type) => type.toLowerCase() === contentType);
  const body = request.body.toString('utf8');
  if (key !== undefined) return render(templates[key]!, request, body, 'request').output;
  const passthrough =
    integration.passthroughBehavior === 'when_no_match' ||
    (integration.passthroughBehavior === 'when_no_templates' && Object.keys(templates).length === 0);
  if (!passthrough) throw new GatewayResponseError('UNSUPPORTED_MEDIA_TYPE', 'Unsupported Media Type');
  return body;
}

function render(template: string, request: MethodRequest, body: string, which: 'request' | 'response'): MappingResult {
  try {
    return renderMappingTemplate(template, {
      body,
      headers: request.headers,
      queryStringParameters: request.query,
      pathParameters: request.pathParameters,
      stageVariables: request.stageVariables,
      context: { ...request.context },
    });
  } catch (error) {
    if (!(error instanceof MappingTemplateError)) throw error;
    // A request body that is not JSON is the client's fault; anything else is the template's.
    if (which === 'request' && error.message.startsWith('Could not parse request body into json')) {
      throw new GatewayResponseError('BAD_REQUEST_BODY', error.message, { cause: error });
    }
    throw new GatewayResponseError('API_CONFIGURATION_ERROR', INTERNAL_SERVER_ERROR, { cause: error });
  }
}

/** A mock integration answers the `statusCode` its request template renders (200 without one). */
function mockStatus(payload: string): number {
  if (payload.trim() === '') return 200;
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch (error) {
    throw new GatewayResponseError('API_CONFIGURATION_ERROR', INTERNAL_SERVER_ERROR, { cause: new Error(`mock request template output is not JSON: ${(error as Error).message}`) });
  }
  const status = Number((parsed as { statusCode?: unknown } | null)?.statusCode ?? 200);
  if (!Number.isInteger(status) || status < 100 || status > 599) {
    throw new GatewayResponseError('API_CONFIGURATION_ERROR', INTERNAL_SERVER_ERROR, { cause: new Error(`mock statusCode ${String(status)} is not an HTTP status`) });
  }
  return status;
}

/** Selects and applies the integration response for a non-proxy integration's answer. */
function integrationResponse(integration: Integration, answer: BackendAnswer, request: MethodRequest): HttpAnswer {
  const status = String(answer.status);
  // Patterns come first, `default` last, so the first hit is API Gateway's choice.
  const selected = integration.responses.find((response) => response.pattern === undefined || response.pattern.test(status));
  if (!selected) {
    throw new GatewayResponseError('API_CONFIGURATION_ERROR', INTERNAL_SERVER_ERROR, {
      cause: new Error(`no integration response matches status ${status} and none is the default`),
    });
  }
  // AWS's execution log words it so; a responseOverride.status may still name any status.
  if (!integration.methodResponses.has(selected.statusCode)) {
    throw new GatewayResponseError('API_CONFIGURATION_ERROR', INTERNAL_SERVER_ERROR, {
      cause: new Error(`Execution failed due to configuration error: Output mapping refers to an invalid method response: ${selected.statusCode}`),
    });
  }
  const chosen = pickTemplate(selected.responseTemplates, headerValue(request.headers, 'accept'));
  const rendered = chosen ? render(chosen.template, request, answer.body, 'response') : undefined;
  return {
    status: rendered?.responseOverride.status ?? selected.statusCode,
    headers: {
      'Content-Type': chosen?.contentType ?? 'application/json',
      ...mapHeaders(selected.responseParameters, 'method.response.header.', { request, integration: answer }),
      // Overrides are final: they win over the mapped parameters.
      ...rendered?.responseOverride.headers,
    },
    body: rendered ? rendered.output : answer.body,
  };
}

async function invokeLambdaProxy(integration: Integration, request: MethodRequest, services: IntegrationServices): Promise<HttpAnswer> {
  const functionArn = /:lambda:path\/2015-03-31\/functions\/(.+)\/invocations$/.exec(integration.uri)?.[1];
  if (functionArn === undefined) {
    throw new GatewayResponseError('API_CONFIGURATION_ERROR', `The local API Gateway supports aws_proxy integrations with Lambda only, not ${integration.uri}`);
  }
  let result;
  try {
    result = await services.lambda.invoke(functionArn, proxyEvent(request));
  } catch (error) {
    throw new GatewayResponseError('API_CONFIGURATION_ERROR', INTERNAL_SERVER_ERROR, { cause: error });
  }
  if (!result.ok) {
    throw new GatewayResponseError('DEFAULT_5XX', INTERNAL_SERVER_ERROR, { status: 502, cause: new Error(`${result.errorType}: ${result.errorMessage}`) });
  }
  return proxyAnswer(result.payload);
}

/** Reads a Lambda proxy result; anything off the documented shape is a 502, as on AWS. */
function proxyAnswer(payload: unknown): HttpAnswer {
  const malformed = (why: string): GatewayResponseError =>
    new GatewayResponseError('DEFAULT_5XX', INTERNAL_SERVER_ERROR, { status: 502, cause: new Error(`Malformed Lambda proxy response: ${why}`) });
  if (!isRecord(payload)) throw malformed('not a JSON object');
  const unexpected = Object.keys(payload).filter((key) => !PROXY_RESPONSE_KEYS.includes(key));
  if (unexpected.length > 0) throw malformed(`unexpected field(s) ${unexpected.join(', ')}`);
  const status = Number(payload.statusCode);
  if (payload.statusCode === undefined || !Number.isInteger(status) || status < 100 || status > 599) {
    throw malformed(`statusCode ${JSON.stringify(payload.statusCode)} is not an HTTP status`);
  }
  const body = payload.body ?? '';
  if (typeof body !== 'string') throw malformed('body is not a string');
  // headers and multiValueHeaders merge; a value given in both appears once.
  const headers = new Map<string, { name: string; values: string[] }>();
  const add = (name: string, value: unknown): void => {
    if (value !== null && typeof value === 'object') throw malformed(`header ${name} is not a scalar`);
    const entry = headers.get(name.toLowerCase()) ?? { name, values: [] };
    if (!entry.values.includes(String(value))) entry.values.push(String(value));
    headers.set(name.toLowerCase(), entry);
  };
  for (const [name, value] of Object.entries(recordField(payload.headers, 'headers', malformed))) add(name, value);
  for (const [name, values] of Object.entries(recordField(payload.multiValueHeaders, 'multiValueHeaders', malformed))) {
    if (!Array.isArray(values)) throw malformed(`multiValueHeaders.${name} is not a list`);
    for (const value of values) add(name, value);
  }
  return {
    status,
    headers: Object.fromEntries([...headers.values()].map(({ name, values }) => [name, values.length === 1 ? values[0]! : values])),
    body: payload.isBase64Encoded === true ? Buffer.from(body, 'base64') : body,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function recordField(value: unknown, name: string, malformed: (why: string) => Error): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) throw malformed(`${name} is not an object`);
  return value;
}

/** Calls an `http`/`http_proxy` backend; execute-api URLs of local APIs stay local. */
async function callHttp(
  integration: Integration,
  request: MethodRequest,
  services: IntegrationServices,
  signal: AbortSignal,
  body: string | Buffer,
): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
  const proxy = integration.type === 'http_proxy';
  const mapped = (location: string): Record<string, string> => {
    const values: Record<string, string> = {};
    const prefix = `integration.request.${location}.`;
    for (const [target, expression] of Object.entries(integration.requestParameters)) {
      const value = target.startsWith(prefix) ? resolveParameter(expression, { request }) : undefined;
      if (value !== undefined) values[target.slice(prefix.length)] = value;
    }
    return values;
  };
  const pathValues = { ...request.pathParameters, ...mapped('path') };
  const uri = integration.uri.replace(/\{([^}+]+)\+?\}/g, (placeholder, name: string) => {
    const value = pathValues[name];
    return value === undefined ? placeholder : value.split('/').map(encodeURIComponent).join('/');
  });
  const url = new URL(toLocalUrl(uri, services.endpoints));
  if (proxy) for (const [name, values] of Object.entries(request.multiValueQuery)) for (const value of values) url.searchParams.append(name, value);
  for (const [name, value] of Object.entries(mapped('querystring'))) url.searchParams.set(name, value);
  const headers = new Headers();
  if (proxy) {
    for (const [name, values] of Object.entries(request.multiValueHeaders)) {
      if (!HOP_BY_HOP.includes(name.toLowerCase())) for (const value of values) headers.append(name, value);
    }
  } else {
    const contentType = headerValue(request.headers, 'content-type');
    if (contentType !== undefined) headers.set('content-type', contentType);
  }
  for (const [name, value] of Object.entries(mapped('header'))) headers.set(name, value);
  const method = integration.httpMethod === 'ANY' ? request.method : integration.httpMethod;
  const response = await fetch(url, {
    method,
    headers,
    body: method === 'GET' || method === 'HEAD' || body.length === 0 ? undefined : body,
    signal,
    redirect: 'manual',
  });
  const responseHeaders: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (!HOP_BY_HOP.includes(name)) responseHeaders[name] = value;
  });
  return { status: response.status, headers: responseHeaders, body: Buffer.from(await response.arrayBuffer()) };
}
