/**
 * The method request as API Gateway sees it once routed: headers and query string in their
 * single- and multi-value forms, path parameters, stage variables and the `$context` that mapping
 * templates and the Lambda proxy event share.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';

/** `$context` for templates, and the proxy event's `requestContext`. */
export type RequestContext = APIGatewayProxyEvent['requestContext'];

/** A routed method request. */
export interface MethodRequest {
  method: string;
  /** The request path without the stage prefix (`/orders/c1`). */
  path: string;
  /** Last value per header, with the client's spelling of the name. */
  headers: Record<string, string>;
  multiValueHeaders: Record<string, string[]>;
  query: Record<string, string>;
  multiValueQuery: Record<string, string[]>;
  pathParameters: Record<string, string>;
  stageVariables: Record<string, string>;
  body: Buffer;
  context: RequestContext;
}

/** A header's last value, looked up case-insensitively as HTTP header names are. */
export function headerValue(headers: Record<string, string>, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === lower) return value;
  return undefined;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `$context.requestTime`: Common Log Format in UTC, `27/Nov/2026:09:50:01 +0000`. */
export function clfTime(date: Date): string {
  const pad = (value: number): string => String(value).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

/** The REST API (payload version 1.0) event for a Lambda proxy integration. */
export function proxyEvent(request: MethodRequest): APIGatewayProxyEvent {
  const orNull = <T>(map: Record<string, T>): Record<string, T> | null => (Object.keys(map).length > 0 ? map : null);
  return {
    resource: request.context.resourcePath,
    path: request.path,
    httpMethod: request.method,
    headers: request.headers,
    multiValueHeaders: request.multiValueHeaders,
    queryStringParameters: orNull(request.query),
    multiValueQueryStringParameters: orNull(request.multiValueQuery),
    pathParameters: orNull(request.pathParameters),
    stageVariables: orNull(request.stageVariables),
    requestContext: request.context,
    // Without binary media types every payload is passed as text, as API Gateway does.
    body: request.body.length > 0 ? request.body.toString('utf8') : null,
    isBase64Encoded: false,
  };
}
