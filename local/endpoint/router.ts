/**
 * Tells which AWS service, protocol and operation a request is for, as AWS's front end does from
 * what the SDKs send: the `X-Amz-Target` header (JSON protocols), the `Action` form field (query
 * protocol), or the path (REST protocols); the SigV4 credential scope's service settles which
 * service a query or REST request is for.
 */

/** The engines the endpoint forwards to unchanged: they speak AWS's protocol themselves. */
export type Upstream = 'dynamodb' | 'messaging';

/** Where a request goes. */
export type Route =
  | { kind: 'proxy'; upstream: Upstream }
  | { kind: 'json'; service: JsonService; operation: string }
  | { kind: 'query'; service: string; operation: string; parameters: URLSearchParams }
  | { kind: 'rest'; service: string }
  | { kind: 'unknown'; message: string };

/** The JSON-protocol services the endpoint answers itself, by `X-Amz-Target` prefix; each with its JSON version. */
const JSON_SERVICES = {
  AWSEvents: { service: 'events', version: '1.1' },
  AWSStepFunctions: { service: 'states', version: '1.0' },
  Logs_20140328: { service: 'logs', version: '1.1' },
  GraniteServiceVersion20100801: { service: 'monitoring', version: '1.0' },
} as const;

export type JsonService = (typeof JSON_SERVICES)[keyof typeof JSON_SERVICES]['service'];

/** The JSON version (`application/x-amz-json-<version>`) a JSON service speaks. */
export function jsonVersion(service: JsonService): string {
  return Object.values(JSON_SERVICES).find((entry) => entry.service === service)!.version;
}

/** JSON-protocol targets whose engine speaks the protocol itself. */
const PROXIED_TARGETS: Record<string, Upstream> = {
  DynamoDB_20120810: 'dynamodb',
  DynamoDBStreams_20120810: 'dynamodb',
  AmazonSQS: 'messaging',
};

/** Query-protocol services whose engine (fauxqs) answers them. */
const PROXIED_QUERY_SERVICES: Record<string, Upstream> = { sqs: 'messaging', sns: 'messaging' };

/** REST services, by the first segment of their paths, for requests without a SigV4 signature. */
const REST_PATH_PREFIXES: Record<string, string> = { '2015-03-31': 'lambda', v1: 'pipes', restapis: 'apigateway' };

/** The fields of a request the router reads. */
export interface RoutedRequest {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** The service of a SigV4 `Authorization` header's credential scope (`Credential=AKID/date/region/service/aws4_request`). */
export function signingService(authorization: string | undefined): string | undefined {
  return /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(authorization ?? '')?.[1];
}

function header(request: RoutedRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function routeRequest(request: RoutedRequest): Route {
  const target = header(request, 'x-amz-target');
  if (target !== undefined) {
    const [prefix = '', operation = ''] = target.split('.');
    const upstream = PROXIED_TARGETS[prefix];
    if (upstream !== undefined) return { kind: 'proxy', upstream };
    const json = JSON_SERVICES[prefix as keyof typeof JSON_SERVICES];
    if (json !== undefined) return { kind: 'json', service: json.service, operation };
    return { kind: 'unknown', message: `not supported locally: ${target}` };
  }
  const service = signingService(header(request, 'authorization'));
  if ((header(request, 'content-type') ?? '').startsWith('application/x-www-form-urlencoded')) {
    const parameters = new URLSearchParams(request.body.toString('utf8'));
    const operation = parameters.get('Action');
    if (operation !== null) {
      const upstream = service === undefined ? undefined : PROXIED_QUERY_SERVICES[service];
      if (upstream !== undefined) return { kind: 'proxy', upstream };
      if (service === undefined) return { kind: 'unknown', message: `a query-protocol request (Action=${operation}) needs a SigV4 signature naming its service` };
      return { kind: 'query', service, operation, parameters };
    }
  }
  const firstSegment = request.path.split('?')[0]!.split('/')[1] ?? '';
  const restService = service ?? REST_PATH_PREFIXES[firstSegment];
  if (restService !== undefined) return { kind: 'rest', service: restService };
  return { kind: 'unknown', message: `no AWS service recognised in ${request.path}` };
}
