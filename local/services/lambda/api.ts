/**
 * Lambda's API (REST JSON, `/2015-03-31/…`) on the local functions: ListFunctions, GetFunction and
 * Invoke with the RequestResponse, Event and DryRun invocation types, `LogType=Tail` returning the
 * invocation's log lines (the last 4 KB, base64) in `X-Amz-Log-Result`, and a function error as
 * Lambda reports it: status 200, `X-Amz-Function-Error: Unhandled`, the error object as payload.
 *
 * LIMITATIONS: no pagination, versions or aliases (every function is `$LATEST`; a Qualifier other
 * than `$LATEST` is not found); an Event invocation runs once, without the two retries and the
 * on-failure destinations of asynchronous invocation; with concurrent invocations of one function,
 * a log tail can hold lines of the others; GetFunction's Code has no download location.
 */
import { AwsApiError, type RestRequest, type RestResponse, type RestRoute } from '../api.js';
import type { Json } from '../../template/parse.js';
import type { LogStore } from '../logs/store.js';
import { FunctionNotFoundError, type LambdaInvoker } from './runtime.js';

/** What Invoke's LogResult holds: the last 4 KB of the invocation's log. */
const LOG_TAIL_BYTES = 4096;
const API_VERSION = '2015-03-31';

/** A function of the template, as the API describes it. */
export interface FunctionDescription {
  name: string;
  arn: string;
  /** The resolved template properties (Runtime, Handler, MemorySize, Timeout, Environment, …). */
  properties: Record<string, Json>;
}

function configuration(fn: FunctionDescription, lastModified: string) {
  const { Runtime, Handler, MemorySize, Timeout, Environment, Role, Description, Architectures } = fn.properties as Record<string, unknown>;
  return {
    FunctionName: fn.name,
    FunctionArn: fn.arn,
    Runtime,
    Handler,
    Role,
    Description: Description ?? '',
    MemorySize: MemorySize ?? 128,
    Timeout: Timeout ?? 3,
    Version: '$LATEST',
    LastModified: lastModified,
    State: 'Active',
    LastUpdateStatus: 'Successful',
    PackageType: 'Zip',
    Architectures: Architectures ?? ['x86_64'],
    ...(Environment === undefined ? {} : { Environment }),
  };
}

/** The base64 of the last {@link LOG_TAIL_BYTES} of the lines, cut at a line start. */
function logTail(lines: readonly string[]): string {
  let text = lines.map((line) => `${line}\n`).join('');
  while (Buffer.byteLength(text) > LOG_TAIL_BYTES) text = text.slice(text.indexOf('\n') + 1 || text.length);
  return Buffer.from(text).toString('base64');
}

/**
 * @param functions the template's functions
 * @param startedAt when they were created (the run's start): their LastModified
 */
export function lambdaApi(lambda: LambdaInvoker, logs: Pick<LogStore, 'onAppend'>, functions: () => FunctionDescription[], startedAt: Date): RestRoute[] {
  const lastModified = startedAt.toISOString().replace('Z', '+0000');
  const find = (nameOrArn: string, qualifier: string | null): FunctionDescription => {
    const name = nameOrArn.startsWith('arn:') ? nameOrArn.split(':')[6] : nameOrArn.split(':')[0];
    const found = functions().find((fn) => fn.name === name);
    if (found === undefined || (qualifier !== null && qualifier !== '$LATEST')) {
      throw new AwsApiError('ResourceNotFoundException', `Function not found: arn:aws:lambda:function:${nameOrArn}${qualifier === null ? '' : `:${qualifier}`}`, 404);
    }
    return found;
  };
  const invoke = async (request: RestRequest, parameters: Record<string, string>): Promise<RestResponse> => {
    const fn = find(parameters.FunctionName!, request.query.get('Qualifier'));
    let event: unknown;
    try {
      event = request.body.length === 0 ? {} : JSON.parse(request.body.toString('utf8'));
    } catch {
      throw new AwsApiError('InvalidRequestContentException', 'Could not parse request body into json: the payload is not JSON.');
    }
    const versionHeader = { 'X-Amz-Executed-Version': '$LATEST' };
    switch (request.headers['x-amz-invocation-type'] ?? 'RequestResponse') {
      case 'DryRun':
        return { status: 204, headers: versionHeader };
      case 'Event':
        void lambda.invoke(fn.arn, event).catch(() => undefined);
        return { status: 202, headers: versionHeader };
      case 'RequestResponse':
        break;
      default:
        throw new AwsApiError('InvalidParameterValueException', `InvocationType must be RequestResponse, Event or DryRun, got ${request.headers['x-amz-invocation-type']}`);
    }
    const logGroup = `/aws/lambda/${fn.name}`;
    const lines: string[] = [];
    const stopListening = request.headers['x-amz-log-type'] === 'Tail'
      ? logs.onAppend((group, line) => {
        if (group === logGroup) lines.push(line.message);
      })
      : () => undefined;
    let result;
    try {
      result = await lambda.invoke(fn.arn, event);
    } catch (error) {
      if (error instanceof FunctionNotFoundError) throw new AwsApiError('ResourceNotFoundException', error.message, 404);
      throw error;
    } finally {
      stopListening();
    }
    const headers: Record<string, string> = { ...versionHeader, ...(request.headers['x-amz-log-type'] === 'Tail' ? { 'X-Amz-Log-Result': logTail(lines) } : {}) };
    if (result.ok) return { headers, raw: Buffer.from(JSON.stringify(result.payload)) };
    return {
      headers: { ...headers, 'X-Amz-Function-Error': 'Unhandled' },
      raw: Buffer.from(JSON.stringify({ errorType: result.errorType, errorMessage: result.errorMessage, trace: [] })),
    };
  };
  return [
    { operation: 'ListFunctions', method: 'GET', path: `/${API_VERSION}/functions`, handle: () => ({ body: { Functions: functions().map((fn) => configuration(fn, lastModified)) } }) },
    {
      operation: 'GetFunction',
      method: 'GET',
      path: `/${API_VERSION}/functions/{FunctionName}`,
      handle: (request, parameters) => {
        const fn = find(parameters.FunctionName!, request.query.get('Qualifier'));
        return { body: { Configuration: configuration(fn, lastModified), Code: { RepositoryType: 'S3' } } };
      },
    },
    { operation: 'Invoke', method: 'POST', path: `/${API_VERSION}/functions/{FunctionName}/invocations`, handle: invoke },
  ];
}
