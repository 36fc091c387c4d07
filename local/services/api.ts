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
