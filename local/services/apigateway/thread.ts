/**
 * API Gateway's half on the main thread; the other half (worker.ts) serves the APIs on the
 * intake thread (local/service-thread.ts). The providers define APIs and attach stages through
 * it; it invokes the Lambda functions of proxy integrations for the other half, appends its
 * access log lines, keeps each API's counters as they are reported, and passes the dashboard's
 * tracing on and the hops back.
 *
 * Counters and log lines are reported before the request is answered, so a client that has its
 * answer finds it counted here.
 */
import type { MessagePort } from 'node:worker_threads';
import type { ServiceThread } from '../../service-thread.js';
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
  /** Where the APIs are served. */
  thread: ServiceThread;
  lambda: LambdaInvoker;
  /** Receives one access log line per request. */
  logs: Pick<LogStore, 'append'>;
  /** The port for an API's server by logical id (0 lets the OS pick a free one). */
  portFor(logicalId: string): number;
  /** Filled in with each API's base URL as its server listens (functions and API destinations read it). */
  endpoints: ApiEndpointMap;
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

const THREAD_ENDED = 'the intake thread ended: the APIs no longer answer';

/** Serves the template's REST APIs on the intake thread. */
export class ApiGatewayThread {
  private readonly port: MessagePort;
  private readonly pending = new Map<number, PendingCommand>();
  private nextId = 1;
  private readonly apis = new Map<string, { logicalId: string; log(message: string): void; counters: ApiCounters }>();
  private served: ServedStage['urls'] = [];
  private readonly unwatchTrace: () => void;
  private stopped: Promise<void> | undefined;
  private closed = false;
  private readonly options: ApiGatewayThreadOptions;

  constructor(options: ApiGatewayThreadOptions) {
    this.options = options;
    const setup: ApiGatewayWorkerSetup = { region: options.region, accountId: options.accountId, dynamodbEndpoint: options.dynamodbEndpoint };
    this.port = options.thread.host(new URL('./worker.ts', import.meta.url), setup);
    this.port.on('message', (message: Reply | Report) => this.receive(message));
    // The port closes when the other half stops, or when the thread ends.
    this.port.once('close', () => {
      this.closed = true;
      this.failPending();
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

  /** Closes every server; safe to call twice. */
  stop(): Promise<void> {
    return (this.stopped ??= new Promise<void>((resolve) => {
      this.unwatchTrace();
      if (this.closed) return resolve();
      this.port.once('close', () => resolve());
      this.notify({ stop: true });
    }));
  }

  private command(body: CommandBody): Promise<ServedStage | undefined> {
    if (this.closed) return Promise.reject(new Error(THREAD_ENDED));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.port.postMessage({ id, ...body } as Command);
    });
  }

  private notify(notice: Notice): void {
    this.port.postMessage(notice);
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
    } else if ('apiLog' in message) {
      this.apis.get(message.apiLog.apiId)?.log(message.apiLog.message);
    } else {
      const { service, hop, resource, payload, ...details } = message.hop;
      traceHop(service, hop, resource, payload, details);
    }
  }

  private failPending(): void {
    for (const pending of this.pending.values()) pending.reject(new Error(THREAD_ENDED));
    this.pending.clear();
  }
}

/** The thread's error as the class the callers check for. */
function threadError(error: { name: string; message: string; errors?: string[] }): Error {
  if (error.errors !== undefined) return new ImportError(error.errors);
  if (error.name === 'OpenApiError') return new OpenApiError(error.message);
  return Object.assign(new Error(error.message), { name: error.name });
}
