/** API Gateway REST (Lambda proxy) request and response helpers. */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

/**
 * A JSON response. Errors use the same `{message, error}` shape as the orders API's gateway
 * responses, so clients handle one error format.
 */
export function jsonResponse(statusCode: number, body: unknown): APIGatewayProxyResult {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/** A JSON error response: `{message, error}`. */
export function errorResponse(statusCode: number, error: string, message: string): APIGatewayProxyResult {
  return jsonResponse(statusCode, { message, error });
}

/** A request header by name; HTTP header names are case-insensitive, API Gateway keeps the client's case. */
export function getHeader(event: APIGatewayProxyEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  return undefined;
}

/** The request body exactly as the client sent it (API Gateway base64-encodes binary bodies). */
export function rawBody(event: APIGatewayProxyEvent): string {
  if (event.body === null) return '';
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}
