/**
 * The contract between the AWS endpoint (local/endpoint/) and the services' own operations
 * (`services/<service>/api.ts`): each service names its operations after the AWS API and throws
 * {@link AwsApiError} with AWS's error code; the endpoint speaks the wire protocol (JSON, query,
 * REST) and writes each error in that protocol's shape.
 */

/** An error the AWS API of a service answers with: its code (`ResourceNotFoundException`, …) and HTTP status. */
export class AwsApiError extends Error {
  override name = 'AwsApiError';

  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** What every operation of a service that is not emulated answers (in its protocol's error shape). */
export function notSupported(service: string, operation: string): AwsApiError {
  return new AwsApiError('UnsupportedOperation', `not supported locally: ${service}.${operation}`);
}

/** The parsed request of a JSON- or query-protocol operation. */
export type ApiInput = Record<string, unknown>;

/** One operation of a JSON- or query-protocol service: parsed input in, output shape out. */
export type Operation = (input: ApiInput) => unknown;

/** A JSON- or query-protocol service's operations, by their AWS names (`PutEvents`, `DescribeStacks`, …). */
export type ServiceOperations = Readonly<Record<string, Operation>>;

/** A REST-protocol request, as a REST service's operations see it. */
export interface RestRequest {
  method: string;
  /** The path's segments, URL-decoded (`/2015-03-31/functions/fn` → `['2015-03-31', 'functions', 'fn']`). */
  segments: string[];
  query: URLSearchParams;
  headers: Record<string, string | undefined>;
  body: Buffer;
}

/** A REST-protocol answer: its status, headers, and JSON body (or raw bytes, e.g. Lambda's payload). */
export interface RestResponse {
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
  raw?: Buffer;
}

/** One operation of a REST-protocol service: method, path pattern (`{Name}` matches one segment), handler. */
export interface RestRoute {
  operation: string;
  method: string;
  path: string;
  handle(request: RestRequest, parameters: Record<string, string>): RestResponse | Promise<RestResponse>;
}
/** Reads a required string member of an input, as AWS's validation would refuse its absence (CloudFormation's code is ValidationError). */
export function requiredString(input: ApiInput, member: string, code = 'ValidationException'): string {
  const value = input[member];
  if (typeof value !== 'string' || value === '') {
    throw new AwsApiError(code, `1 validation error detected: Value null at '${lowerFirst(member)}' failed to satisfy constraint: Member must not be null`);
  }
  return value;
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/** Keeps the items whose `member` starts with the request's `NamePrefix` (the List* operations' filter). */
export function withPrefix<T>(items: readonly T[], prefix: unknown, name: (item: T) => string): T[] {
  return typeof prefix === 'string' ? items.filter((item) => name(item).startsWith(prefix)) : [...items];
}

/** A timestamp member of a JSON-protocol request: epoch seconds (as the SDKs and the CLI send it) or ISO 8601 text. */
export function timestamp(input: ApiInput, member: string): Date | undefined {
  const value = input[member];
  if (value === undefined || value === null) return undefined;
  const date = typeof value === 'number' ? new Date(value * 1000) : new Date(String(value));
  if (Number.isNaN(date.getTime())) throw new AwsApiError('ValidationException', `${member} is not a timestamp: ${String(value)}`);
  return date;
}
