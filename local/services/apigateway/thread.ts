/**
 * The main thread's side of the API Gateway thread (worker.ts): the providers define APIs and
 * attach stages through it, it invokes the Lambda functions of proxy integrations for the thread,
 * appends the thread's access log lines, keeps each API's counters as the thread reports them,
 * and passes the dashboard's tracing on and the thread's hops back.
 *
 * Counters and log lines are reported before the request is answered, so a client that has its
 * answer finds it counted here.
 */
import { Worker } from 'node:worker_threads';
import { traceHop, watchTraceSink } from '../../trace.js';
import type { Json } from '../../template/parse.js';
import type { LambdaInvoker } from '../lambda/runtime.js';
import type { LogStore } from '../logs/store.js';
import type { ApiEndpointMap } from './endpoints.js';
import { ImportError, OpenApiError } from './openapi.js';
import type { ApiCounters, StageDefinition } from './server.js';
import type { ApiGatewayWorkerSetup, Command, CommandBody, Notice, Report, Reply, ServedStage } from './worker.js';

/** Options for {@link ApiGatewayThread}. */
export interface ApiGatewayThreadOptions extends ApiGatewayWorkerSetup {
  lambda: LambdaInvoker;
  /** Receives one access log line per request. */
  logs: Pick<LogStore, 'append'>;
  /** The port for an API's server by logical id (0 lets the OS pick a free one). */
  portFor(logicalId: string): number;
  /** Filled in with each API's base URL as its server listens (functions and API destinations read it). */
  endpoints: ApiEndpointMap;
  /** Hears of the thread failing. */
  log(message: string): void;
}

/** A REST API to serve: its OpenAPI body is parsed on the thread. */
export interface RestApiBody {
  logicalId: string;
  apiId: string;
  body: Json;
  /** Diagnostics (integration errors, unsupported settings). */
  log(message: string): void;
}

type PendingCommand = { resolve(served: ServedStage | undefined): void; reject(error: Error): void };

/** Serves the template's REST APIs on the API Gateway thread. */
export class ApiGatewayThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, PendingCommand>();
  private nextId = 1;
  private readonly apis = new Map<string, { logicalId: string; log(message: string): void; counters: ApiCounters }>();
  private served: ServedStage['urls'] = [];
  private cpuMicros = 0;
  private readonly unwatchTrace: () => void;
  private stopped: Promise<void> | undefined;
  private readonly options: ApiGatewayThreadOptions;

  constructor(options: ApiGatewayThreadOptions) {
    this.options = options;
    const setup: ApiGatewayWorkerSetup = { region: options.region, accountId: options.accountId, dynamodbEndpoint: options.dynamodbEndpoint };
    // No tsx loader: Node 22 strips the worker's types itself.
    this.worker = new Worker(new URL('./worker.ts', import.meta.url), { workerData: setup, execArgv: [] });
    this.worker.on('message', (message: Reply | Report) => this.receive(message));
    this.worker.on('error', (error) => this.fail(`API Gateway thread failed: ${error.message}`));
    this.worker.on('exit', (code) => {
      if (this.stopped === undefined) this.fail(`API Gateway thread exited (code ${code}): the APIs no longer answer`);
    });
    this.unwatchTrace = watchTraceSink((tracing) => this.notify({ tracing }));
  }

  /** Parses and registers an API; it is served once {@link addStage} attaches its first stage. Rejects with an OpenApiError for a body it cannot serve. */
  async defineApi(api: RestApiBody): Promise<void> {
    if (this.apis.has(api.apiId)) throw new Error(`REST API ${api.apiId} (${api.logicalId}) is defined twice`);
    this.apis.set(api.apiId, { logicalId: api.logicalId, log: api.log, counters: { requests: 0, status2xx: 0, status4xx: 0, status429: 0, status5xx: 0 } });
    try {
      await this.command({ defineApi: { logicalId: api.logicalId, apiId: api.apiId, body: api.body, port: this.options.portFor(api.logicalId) } });
    } catch (error) {
      this.apis.delete(api.apiId);
      throw error;
    }
  }

  /** Whether `apiId` names a defined API. */
  hasApi(apiId: string): boolean {
    return this.apis.has(apiId);
  }

  /** Attaches (or replaces) a stage, starting the API's server if needed; resolves with the stage's base URL. */
  async addStage(apiId: string, stage: StageDefinition): Promise<string> {
    const served = (await this.command({ addStage: { apiId, stage } }))!;
    this.served = served.urls;
    this.options.endpoints[apiId] = served.baseUrl;
    return served.url;
  }

  /** One entry per served stage, each API's default stage first, for printing. */
  urls(): ServedStage['urls'] {
    return this.served;
  }

  /** Request counters per API, for the status command. */
  stats(): Array<{ logicalId: string; apiId: string } & ApiCounters> {
    return [...this.apis].map(([apiId, api]) => ({ logicalId: api.logicalId, apiId, ...api.counters }));
  }

  /** CPU milliseconds of the thread so far (as of its last request). */
  threadCpuMs(): number {
    return this.cpuMicros / 1000;
  }

  /** Closes every server and ends the thread; safe to call twice. */
  stop(): Promise<void> {
    return (this.stopped ??= (async () => {
      this.unwatchTrace();
      await this.command({ stop: true }).catch(() => undefined);
      await this.worker.terminate();
    })());
  }

  private command(body: CommandBody): Promise<ServedStage | undefined> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, ...body } as Command);
    });
  }

  private notify(notice: Notice): void {
    this.worker.postMessage(notice);
  }

  private receive(message: Reply | Report): void {
    if ('id' in message) {
      const pending = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.ok) pending?.resolve(message.served);
      else pending?.reject(threadError(message.error));
    } else if ('invoke' in message) {
      const { id, functionArn, event } = message.invoke;
      this.options.lambda.invoke(functionArn, event).then(
        (result) => this.notify({ invoked: id, result }),
        (error: Error) => this.notify({ invoked: id, error: error.message }),
      );
    } else if ('log' in message) {
      this.options.logs.append(message.log.group, message.log.line);
    } else if ('counted' in message) {
      const api = this.apis.get(message.counted.apiId);
      if (api) api.counters = message.counted.counters;
      this.cpuMicros = message.counted.cpuMicros;
    } else if ('apiLog' in message) {
      this.apis.get(message.apiLog.apiId)?.log(message.apiLog.message);
    } else {
      const { service, hop, resource, payload, ...details } = message.hop;
      traceHop(service, hop, resource, payload, details);
    }
  }

  private fail(message: string): void {
    this.options.log(message);
    for (const pending of this.pending.values()) pending.reject(new Error(message));
    this.pending.clear();
  }
}

/** The thread's error as the class the callers check for. */
function threadError(error: { name: string; message: string; errors?: string[] }): Error {
  if (error.errors !== undefined) return new ImportError(error.errors);
  if (error.name === 'OpenApiError') return new OpenApiError(error.message);
  return Object.assign(new Error(error.message), { name: error.name });
}
