/**
 * Pieces shared by integration and gateway responses: the answer the server writes, choosing a
 * template by content type, and API Gateway's parameter mapping expressions
 * (`'literal'`, `method.request.header.X`, `integration.response.body.a.b`, `stageVariables.x`,
 * `context.requestId`).
 *
 * LIMITATIONS: `integration.response.body.<path>` takes a dotted path (`a.b.0`), not full JSONPath;
 * multi-value sources (`method.request.multivalueheader.X`) are not supported.
 */
import type { MethodRequest } from './request.ts';
import { headerValue } from './request.ts';

/** A response ready to be written to the client. */
export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[]>;
  body: string | Buffer;
}

/** The media type of a Content-Type header, lowercase and without parameters (`application/json`). */
export function mediaType(contentType: string | undefined): string | undefined {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  return type ? type : undefined;
}

/**
 * Picks the response template for the client's Accept header: an exact media type match, else
 * `application/json`, else the first one defined (API Gateway's fallback for unmatched types).
 */
export function pickTemplate(templates: Record<string, string>, accept: string | undefined): { contentType: string; template: string } | undefined {
  const accepted = (accept ?? '').split(',').map(mediaType);
  const contentType =
    Object.keys(templates).find((type) => accepted.includes(type.toLowerCase())) ??
    (templates['application/json'] !== undefined ? 'application/json' : Object.keys(templates)[0]);
  const template = contentType === undefined ? undefined : templates[contentType];
  return contentType === undefined || template === undefined ? undefined : { contentType, template };
}

/** What a mapping expression may read. */
export interface ParameterSources {
  request: MethodRequest;
  /** The integration's answer, for `integration.response.*` expressions. */
  integration?: { headers: Record<string, string>; body: string };
}

/**
 * Evaluates one parameter mapping expression; undefined when the source is absent (API Gateway
 * then leaves the target unset).
 */
export function resolveParameter(expression: string, { request, integration }: ParameterSources): string | undefined {
  const literal = /^'(.*)'$/s.exec(expression);
  if (literal) return literal[1];
  const [source, ...rest] = expression.split('.');
  const name = rest.join('.');
  if (source === 'stageVariables') return request.stageVariables[name];
  if (source === 'context') return parameterText(valueAt(request.context, rest));
  if (expression.startsWith('method.request.')) {
    const [, , location, ...parameter] = expression.split('.');
    const key = parameter.join('.');
    if (location === 'header') return headerValue(request.headers, key);
    if (location === 'querystring') return request.query[key];
    if (location === 'path') return request.pathParameters[key];
    return undefined;
  }
  if (integration && expression.startsWith('integration.response.')) {
    const [, , location, ...parameter] = expression.split('.');
    if (location === 'header') return headerValue(integration.headers, parameter.join('.'));
    if (location !== 'body') return undefined;
    if (parameter.length === 0) return integration.body;
    try {
      return parameterText(valueAt(JSON.parse(integration.body), parameter));
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** The value at `keys` below `value`, or undefined. */
export function valueAt(value: unknown, keys: string[]): unknown {
  return keys.reduce<unknown>((node, key) => (node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), value);
}

/** A mapped value as text: objects as JSON, null and undefined as undefined. */
export function parameterText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** Applies `<prefix>Name: expression` mappings (e.g. `method.response.header.`) to response headers. */
export function mapHeaders(parameters: Record<string, string>, prefix: string, sources: ParameterSources): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [target, expression] of Object.entries(parameters)) {
    if (!target.startsWith(prefix)) continue;
    const value = resolveParameter(expression, sources);
    if (value !== undefined) headers[target.slice(prefix.length)] = value;
  }
  return headers;
}
