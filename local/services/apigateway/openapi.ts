/**
 * Reads a REST API's OpenAPI document (OpenAPI 3 or Swagger 2, with API Gateway's `x-amazon-*`
 * extensions) into what the local server needs per request: resources ordered the way API
 * Gateway matches paths, each method's integration, request validator, required parameters and
 * compiled body models, and the API's gateway responses.
 *
 * LIMITATIONS: body models are validated as JSON Schema draft 4 by ajv (API Gateway's own
 * validator words its errors differently). A `pattern` is ECMA 262 (draft 4's dialect, the only
 * one API Gateway documents) without the u flag, so it sees UTF-16 code units; one that needs the
 * u flag (`\p{…}`, `\u{…}`) is refused at import rather than read as literal text, since API
 * Gateway documents no Unicode property classes. Models are looked up per content type
 * (`requestBody.content` or Swagger 2 `in: body` + `consumes`), `$ref`s must point inside the
 * document (`#/components/schemas/…` or `#/definitions/…`); `x-amazon-apigateway-auth`,
 * authorizers, API keys, `x-amazon-apigateway-binary-media-types`, CORS and documentation
 * extensions are not read.
 *
 * Import refusals mirrored from API Gateway (the RestApi fails, so `npm start` fails, with AWS's
 * "Errors found during import" message naming each method and path): an integration response's
 * `method.response.header.X` that the method response of its statusCode does not declare
 * (`responses.<code>.headers`), and an integration request parameter mapped from a
 * `method.request.{path,querystring,header}.X` the method does not declare (`parameters`). Header
 * names are compared case-insensitively. Not mirrored: `method.request.body.<JSONPath>` syntax,
 * unsupported `context.*` variables and malformed mapping values in general.
 */
import AjvDraft04 from 'ajv-draft-04';
import type { ValidateFunction } from 'ajv-draft-04';
import { createHash } from 'node:crypto';
import type { Json } from '../../template/parse.ts';

/** What a method forwards the request to (`x-amazon-apigateway-integration`). */
export interface Integration {
  type: 'aws' | 'aws_proxy' | 'mock' | 'http' | 'http_proxy';
  uri: string;
  /** The method the integration is called with (`ANY` for proxies means the request's). */
  httpMethod: string;
  requestTemplates: Record<string, string>;
  passthroughBehavior: 'when_no_match' | 'when_no_templates' | 'never';
  /** `integration.request.*` ← `method.request.*` or `'literal'` (http integrations). */
  requestParameters: Record<string, string>;
  /** Ordered: patterns as written, then `default`. */
  responses: IntegrationResponse[];
  /**
   * The status codes the method declares responses for: an integration response that selects
   * another one fails at run time, as on AWS.
   */
  methodResponses: ReadonlySet<number>;
  timeoutMs: number;
}

/** One entry of the integration's `responses` map. */
export interface IntegrationResponse {
  /** Full-match regex on the integration's status code; undefined for `default`. */
  pattern: RegExp | undefined;
  statusCode: number;
  responseTemplates: Record<string, string>;
  responseParameters: Record<string, string>;
}

/** A request parameter that a validator requires. */
export interface RequiredParameter {
  in: 'path' | 'query' | 'header';
  name: string;
}

/** One method of one resource. */
export interface Operation {
  /** `GET`, `POST`, … or `ANY` for `x-amazon-apigateway-any-method`. */
  method: string;
  integration: Integration;
  validateBody: boolean;
  validateParameters: boolean;
  requiredParameters: RequiredParameter[];
  /** Body validators by content type (`$default` applies to any). */
  models: Map<string, ValidateFunction>;
}

/** A resource: one path template with its methods. */
export interface Resource {
  path: string;
  /** Stable id, as `$context.resourceId` reports it. */
  id: string;
  segments: Segment[];
  operations: Map<string, Operation>;
}

type Segment = { kind: 'literal'; value: string } | { kind: 'param'; name: string } | { kind: 'greedy'; name: string };

/** `x-amazon-apigateway-gateway-responses` entry. */
export interface GatewayResponseDefinition {
  statusCode: number | undefined;
  responseParameters: Record<string, string>;
  responseTemplates: Record<string, string>;
}

/** Everything the server needs from one OpenAPI document. */
export interface ApiDefinition {
  /** In matching order: literal segments before `{param}` before `{proxy+}`. */
  resources: Resource[];
  gatewayResponses: Record<string, GatewayResponseDefinition>;
}

/** A definition the local API Gateway cannot serve; the message names where. */
export class OpenApiError extends Error {
  override name = 'OpenApiError';
}

/** The `BadRequestException` API Gateway's import answers for a body it refuses. */
export class ImportError extends OpenApiError {
  override name = 'ImportError';

  readonly errors: string[];

  constructor(errors: string[]) {
    super(`Errors found during import:\n\t${errors.join('\n\t')}`);
    this.errors = errors;
  }
}

/** API Gateway's integration timeout: the default and the maximum (the minimum is 50 ms). */
const MAX_INTEGRATION_TIMEOUT_MS = 29_000;

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'];
const ANY_METHOD = 'x-amazon-apigateway-any-method';
const INTEGRATION_TYPES = ['aws', 'aws_proxy', 'mock', 'http', 'http_proxy'] as const;
const PASSTHROUGH_BEHAVIORS = ['when_no_match', 'when_no_templates', 'never'] as const;

/** A short lowercase id derived from `seed` (API Gateway ids are `[a-z0-9]{10}`). */
export function shortId(seed: string, length = 10): string {
  const digest = BigInt(`0x${createHash('sha256').update(seed).digest('hex')}`);
  return digest.toString(36).slice(0, length).padStart(length, '0');
}

/** The id of the resource at `path` (`/` is the API's RootResourceId). */
export function resourceId(apiId: string, path: string): string {
  return shortId(`${apiId}${path}`);
}

type JsonObject = { [key: string]: Json };

function isObject(value: Json | undefined): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function objectAt(value: Json | undefined, where: string): JsonObject {
  if (value === undefined) return {};
  if (!isObject(value)) throw new OpenApiError(`${where} must be an object`);
  return value;
}

function stringMap(value: Json | undefined, where: string): Record<string, string> {
  const map: Record<string, string> = {};
  for (const [key, entry] of Object.entries(objectAt(value, where))) {
    if (typeof entry !== 'string') throw new OpenApiError(`${where}.${key} must be a string`);
    map[key] = entry;
  }
  return map;
}

/** A case-insensitive enum value; `fallback` undefined makes it required. */
function oneOf<T extends string>(value: Json | undefined, allowed: readonly T[], fallback: T | undefined, where: string): T {
  if (value === undefined) {
    if (fallback === undefined) throw new OpenApiError(`${where} is missing`);
    return fallback;
  }
  const lower = String(value).toLowerCase();
  const found = allowed.find((candidate) => candidate === lower);
  if (!found) throw new OpenApiError(`${where} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  return found;
}

function statusCode(value: Json | undefined, where: string): number {
  const status = Number(value);
  if (!Number.isInteger(status) || status < 100 || status > 599) {
    throw new OpenApiError(`${where} must be an HTTP status code, got ${JSON.stringify(value)}`);
  }
  return status;
}

/**
 * Parses a REST API body. `apiId` seeds the resource ids; the document is validated as far as
 * the local server relies on it, so mistakes surface at deploy time rather than per request.
 */
export function parseOpenApi(body: Json, apiId: string): ApiDefinition {
  if (!isObject(body)) throw new OpenApiError('the API body must be an OpenAPI object');
  const models = new ModelCompiler(body);
  const validators = objectAt(body['x-amazon-apigateway-request-validators'], 'x-amazon-apigateway-request-validators');
  const defaultValidator = body['x-amazon-apigateway-request-validator'];
  const resources: Resource[] = [];
  const importErrors: string[] = [];
  for (const [path, pathItemJson] of Object.entries(objectAt(body.paths, 'paths'))) {
    const pathItem = objectAt(pathItemJson, `paths.${path}`);
    const operations = new Map<string, Operation>();
    for (const [key, operationJson] of Object.entries(pathItem)) {
      const lower = key.toLowerCase();
      if (lower !== ANY_METHOD && !HTTP_METHODS.includes(lower)) continue;
      const where = `paths.${path}.${key}`;
      const operation = objectAt(operationJson, where);
      const validatorName = operation['x-amazon-apigateway-request-validator'] ?? defaultValidator;
      let validator: JsonObject = {};
      if (validatorName !== undefined) {
        const found = validators[String(validatorName)];
        if (found === undefined) throw new OpenApiError(`${where} names the request validator ${String(validatorName)}, which is not defined`);
        validator = objectAt(found, `x-amazon-apigateway-request-validators.${String(validatorName)}`);
      }
      const method = lower === ANY_METHOD ? 'ANY' : lower.toUpperCase();
      const methodResponses = declaredResponseHeaders(operation.responses, models, where);
      const integration = parseIntegration(operation['x-amazon-apigateway-integration'], `${where}.x-amazon-apigateway-integration`, new Set(methodResponses.keys()));
      const requestParameters = declaredRequestParameters(pathItem.parameters, operation.parameters, where);
      importErrors.push(...mappingErrors(integration, methodResponses, requestParameters, method, path));
      operations.set(method, {
        method,
        integration,
        validateBody: validator.validateRequestBody === true,
        validateParameters: validator.validateRequestParameters === true,
        requiredParameters: requiredParameters(pathItem.parameters, operation.parameters, where),
        models: models.forOperation(operation, where),
      });
    }
    if (operations.size > 0) resources.push({ path, id: resourceId(apiId, path), segments: parseSegments(path), operations });
  }
  if (importErrors.length > 0) throw new ImportError(importErrors);
  resources.sort((a, b) => compareSegments(a.segments, b.segments));
  const gatewayResponses: Record<string, GatewayResponseDefinition> = {};
  for (const [type, json] of Object.entries(objectAt(body['x-amazon-apigateway-gateway-responses'], 'x-amazon-apigateway-gateway-responses'))) {
    const where = `x-amazon-apigateway-gateway-responses.${type}`;
    const response = objectAt(json, where);
    gatewayResponses[type] = {
      statusCode: response.statusCode === undefined ? undefined : statusCode(response.statusCode, `${where}.statusCode`),
      responseParameters: stringMap(response.responseParameters, `${where}.responseParameters`),
      responseTemplates: stringMap(response.responseTemplates, `${where}.responseTemplates`),
    };
  }
  return { resources, gatewayResponses };
}

/** The method responses by status code, each with the lowercase names of the headers it declares. */
function declaredResponseHeaders(json: Json | undefined, models: ModelCompiler, where: string): Map<number, Set<string>> {
  const declared = new Map<number, Set<string>>();
  for (const [code, responseJson] of Object.entries(objectAt(json, `${where}.responses`))) {
    if (code === 'default') continue;
    const response = models.resolve(responseJson, `${where}.responses.${code}`);
    const headers = Object.keys(objectAt(response.headers, `${where}.responses.${code}.headers`));
    declared.set(statusCode(code, `${where}.responses.${code}`), new Set(headers.map((name) => name.toLowerCase())));
  }
  return declared;
}

/** The method request parameters as mapping expressions name them (`path.id`, `querystring.q`, `header.x-id` lowercase). */
function declaredRequestParameters(pathLevel: Json | undefined, operationLevel: Json | undefined, where: string): Set<string> {
  const declared = new Set<string>();
  const locations: Record<string, string> = { path: 'path', query: 'querystring', header: 'header' };
  for (const list of [pathLevel, operationLevel]) {
    if (!Array.isArray(list)) continue;
    for (const json of list) {
      const parameter = objectAt(json, `${where}.parameters[]`);
      const location = locations[String(parameter.in)];
      if (location === undefined) continue;
      const name = String(parameter.name);
      declared.add(`${location}.${location === 'header' ? name.toLowerCase() : name}`);
    }
  }
  return declared;
}

/**
 * What API Gateway's import refuses in a method's parameter mappings, in its own words: a mapped
 * method response header its method response does not declare, or a method request parameter
 * the method does not declare ("It must have been defined before it can be referenced").
 */
function mappingErrors(
  integration: Integration,
  methodResponses: Map<number, Set<string>>,
  requestParameters: Set<string>,
  method: string,
  path: string,
): string[] {
  const refused = (what: string, expression: string): string =>
    `Unable to put ${what} on '${method}' for resource at path '${path}': Invalid mapping expression specified: ` +
    `Validation Result: warnings : [], errors : [Invalid mapping expression parameter specified: ${expression}]`;
  const errors: string[] = [];
  for (const expression of Object.values(integration.requestParameters)) {
    const source = /^method\.request\.(path|querystring|header)\.(.+)$/.exec(expression);
    if (!source) continue;
    const [, location, name] = source as unknown as [string, string, string];
    if (!requestParameters.has(`${location}.${location === 'header' ? name.toLowerCase() : name}`)) errors.push(refused('integration', expression));
  }
  for (const response of integration.responses) {
    const headers = methodResponses.get(response.statusCode);
    for (const target of Object.keys(response.responseParameters)) {
      const header = /^method\.response\.header\.(.+)$/.exec(target)?.[1];
      if (header !== undefined && !headers?.has(header.toLowerCase())) errors.push(refused('integration response', target));
    }
  }
  return errors;
}

function parseIntegration(json: Json | undefined, where: string, methodResponses: ReadonlySet<number>): Integration {
  if (json === undefined) throw new OpenApiError(`${where} is missing: every method needs an integration`);
  const integration = objectAt(json, where);
  const type = oneOf(integration.type, INTEGRATION_TYPES, undefined, `${where}.type`);
  const uri = integration.uri ?? '';
  if (typeof uri !== 'string' || (type !== 'mock' && uri === '')) throw new OpenApiError(`${where}.uri must be a string`);
  const responses: IntegrationResponse[] = [];
  let fallback: IntegrationResponse | undefined;
  for (const [key, responseJson] of Object.entries(objectAt(integration.responses, `${where}.responses`))) {
    const at = `${where}.responses.${key}`;
    const response = objectAt(responseJson, at);
    const pattern = key === 'default' ? undefined : compilePattern(key, at);
    const entry: IntegrationResponse = {
      pattern,
      statusCode: statusCode(response.statusCode ?? 200, `${at}.statusCode`),
      responseTemplates: stringMap(response.responseTemplates, `${at}.responseTemplates`),
      responseParameters: stringMap(response.responseParameters, `${at}.responseParameters`),
    };
    if (pattern) responses.push(entry);
    else fallback = entry;
  }
  if (fallback) responses.push(fallback);
  const timeoutMs = integration.timeoutInMillis === undefined ? MAX_INTEGRATION_TIMEOUT_MS : Number(integration.timeoutInMillis);
  if (!Number.isFinite(timeoutMs) || timeoutMs < 50 || timeoutMs > MAX_INTEGRATION_TIMEOUT_MS) {
    throw new OpenApiError(`${where}.timeoutInMillis must be between 50 and ${MAX_INTEGRATION_TIMEOUT_MS}`);
  }
  return {
    type,
    uri,
    httpMethod: String(integration.httpMethod ?? 'ANY').toUpperCase(),
    requestTemplates: stringMap(integration.requestTemplates, `${where}.requestTemplates`),
    passthroughBehavior: oneOf(integration.passthroughBehavior, PASSTHROUGH_BEHAVIORS, 'when_no_match', `${where}.passthroughBehavior`),
    requestParameters: stringMap(integration.requestParameters, `${where}.requestParameters`),
    responses,
    methodResponses,
    timeoutMs,
  };
}

/** A response key is a Java regex that must match the whole status code (or error message). */
function compilePattern(pattern: string, where: string): RegExp {
  try {
    return new RegExp(`^(?:${pattern})$`, 's');
  } catch (error) {
    throw new OpenApiError(`${where}: invalid selection pattern: ${(error as Error).message}`);
  }
}

function requiredParameters(pathLevel: Json | undefined, operationLevel: Json | undefined, where: string): RequiredParameter[] {
  const byKey = new Map<string, RequiredParameter>();
  // Operation-level parameters override path-level ones of the same name and location.
  for (const list of [pathLevel, operationLevel]) {
    if (list === undefined) continue;
    if (!Array.isArray(list)) throw new OpenApiError(`${where}.parameters must be a list`);
    for (const json of list) {
      const parameter = objectAt(json, `${where}.parameters[]`);
      const location = parameter.in;
      if (location !== 'path' && location !== 'query' && location !== 'header') continue;
      const key = `${location}:${String(parameter.name)}`;
      if (location === 'path' || parameter.required === true) byKey.set(key, { in: location, name: String(parameter.name) });
      else byKey.delete(key);
    }
  }
  return [...byKey.values()];
}

function parseSegments(path: string): Segment[] {
  return path.split('/').filter((part) => part !== '').map((part): Segment => {
    const greedy = /^\{(.+)\+\}$/.exec(part);
    if (greedy) return { kind: 'greedy', name: greedy[1]! };
    const param = /^\{(.+)\}$/.exec(part);
    return param ? { kind: 'param', name: param[1]! } : { kind: 'literal', value: part };
  });
}

const SEGMENT_RANK = { literal: 0, param: 1, greedy: 2 } as const;

/** API Gateway prefers, segment by segment, a literal over `{param}` over `{proxy+}`. */
function compareSegments(a: Segment[], b: Segment[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const left = a[i];
    const right = b[i];
    if (!left || !right) return left ? -1 : 1;
    const difference = SEGMENT_RANK[left.kind] - SEGMENT_RANK[right.kind];
    if (difference !== 0) return difference;
  }
  return 0;
}

/** Finds the resource for a path (without the stage) and its decoded path parameters. */
export function matchResource(definition: ApiDefinition, path: string): { resource: Resource; pathParameters: Record<string, string> } | undefined {
  const parts = path.split('/').filter((part) => part !== '').map(decodeSegment);
  for (const resource of definition.resources) {
    const pathParameters = matchSegments(resource.segments, parts);
    if (pathParameters) return { resource, pathParameters };
  }
  return undefined;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function matchSegments(segments: Segment[], parts: string[]): Record<string, string> | undefined {
  const parameters: Record<string, string> = {};
  for (const [i, segment] of segments.entries()) {
    const part = parts[i];
    if (segment.kind === 'greedy') {
      if (part === undefined) return undefined;
      parameters[segment.name] = parts.slice(i).join('/');
      return parameters;
    }
    if (part === undefined) return undefined;
    if (segment.kind === 'literal' && segment.value !== part) return undefined;
    if (segment.kind === 'param') parameters[segment.name] = part;
  }
  return parts.length === segments.length ? parameters : undefined;
}

/** Compiles request body models against the whole document, so `$ref`s resolve inside it. */
class ModelCompiler {
  // unicodeRegExp false: patterns compile without the u flag, as ECMA 262 patterns in draft 4.
  private readonly ajv = new AjvDraft04.default({ strict: false, allErrors: true, unicodeRegExp: false });
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly document: JsonObject;

  constructor(document: JsonObject) {
    this.document = document;
  }

  forOperation(operation: JsonObject, where: string): Map<string, ValidateFunction> {
    const models = new Map<string, ValidateFunction>();
    const requestBody = operation.requestBody === undefined ? undefined : this.resolve(operation.requestBody, `${where}.requestBody`);
    for (const [contentType, mediaJson] of Object.entries(objectAt(requestBody?.content, `${where}.requestBody.content`))) {
      const schema = objectAt(mediaJson, `${where}.requestBody.content.${contentType}`).schema;
      if (schema !== undefined) models.set(contentType.toLowerCase(), this.compile(schema, `${where}.requestBody.content.${contentType}.schema`));
    }
    // Swagger 2: one `in: body` parameter, for each content type the operation consumes.
    const bodyParameter = Array.isArray(operation.parameters)
      ? operation.parameters.find((parameter) => isObject(parameter) && parameter.in === 'body')
      : undefined;
    if (isObject(bodyParameter) && bodyParameter.schema !== undefined) {
      const validate = this.compile(bodyParameter.schema, `${where}.parameters[in=body].schema`);
      const consumes = operation.consumes ?? this.document.consumes ?? ['application/json'];
      for (const contentType of Array.isArray(consumes) ? consumes : []) models.set(String(contentType).toLowerCase(), validate);
    }
    return models;
  }

  /** `value`, or the object its `$ref` points to inside the document. */
  resolve(value: Json, where: string): JsonObject {
    const object = objectAt(value, where);
    const ref = object.$ref;
    if (typeof ref !== 'string') return object;
    const target = ref.replace(/^#\//, '').split('/').reduce<Json | undefined>(
      (node, key) => (isObject(node) ? node[key.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined),
      this.document,
    );
    if (!ref.startsWith('#/') || target === undefined) throw new OpenApiError(`${where}: $ref ${ref} does not resolve inside the document`);
    return objectAt(target, ref);
  }

  private compile(schema: Json, where: string): ValidateFunction {
    const key = JSON.stringify(schema);
    const cached = this.compiled.get(key);
    if (cached) return cached;
    // With the document's schemas, which a $ref may reach.
    const model = { definitions: this.document.definitions ?? {}, components: this.document.components ?? {}, ...objectAt(schema, where) };
    checkPatterns(model, where);
    let validate: ValidateFunction;
    try {
      validate = this.ajv.compile(model);
    } catch (error) {
      throw new OpenApiError(`${where}: invalid model: ${(error as Error).message}`);
    }
    this.compiled.set(key, validate);
    return validate;
  }
}

/** Syntax that only the u flag gives a meaning: without it `\p{L}` is the text `p{L}`. */
const UNICODE_ONLY_SYNTAX = /\\[pP]\{|\\u\{/;

/** Refuses a `pattern` (anywhere in the schema) that ECMA 262 without the u flag would not read as written. */
function checkPatterns(schema: Json, where: string): void {
  if (Array.isArray(schema)) {
    schema.forEach((element, index) => checkPatterns(element, `${where}[${index}]`));
    return;
  }
  if (!isObject(schema)) return;
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'pattern' && typeof value === 'string') {
      if (UNICODE_ONLY_SYNTAX.test(value)) {
        throw new OpenApiError(`${where}.pattern: ${value} uses \\p{…} or \\u{…}, which a JSON Schema draft 4 (ECMA 262) pattern reads as literal text; write the ranges as \\uXXXX`);
      }
      try {
        new RegExp(value);
      } catch (error) {
        throw new OpenApiError(`${where}.pattern: invalid ECMA 262 regular expression: ${(error as Error).message}`);
      }
    } else {
      checkPatterns(value, `${where}.${key}`);
    }
  }
}
