/**
 * API Gateway's half on the intake thread (local/service-thread.ts): every REST API of the
 * template is served here, away from the runtime's main event loop, so that intake answers in the
 * time its own work takes and never waits behind the pipeline's backlog (on AWS, a request to API
 * Gateway does not queue behind Step Functions). Routing, throttling, validation, mapping
 * templates and the `aws` (DynamoDB), `http` and `mock` integrations run on this thread; a Lambda
 * proxy integration asks the main thread, where the sandboxes live. Access log lines, counters
 * and trace hops are posted to the main thread.
 */
import type { MessagePort } from 'node:worker_threads';
// By their .ts names: the thread runs without a TypeScript loader (Node strips the types itself).
import type { HostedStart } from '../../service-thread-worker.ts';
import type { InvokeResult } from '../lambda/runtime.ts';
import { removeTraceSink, setTraceSink, type TraceHop, type TraceSink } from '../../trace.ts';
import type { ApiEndpointMap } from './endpoints.ts';
import { ImportError, OpenApiError, parseOpenApi } from './openapi.ts';
import { ApiGatewayService, type ApiCounters, type StageDefinition } from './server.ts';
import type { Json } from '../../template/parse.ts';

/** What API Gateway's half is started with. */
export interface ApiGatewayWorkerSetup {
  region: string;
  accountId: string;
  dynamodbEndpoint: string;
}

/** What the main thread asks for. */
export type CommandBody =
  | { defineApi: { logicalId: string; apiId: string; body: Json; port: number } }
  | { addStage: { apiId: string; stage: StageDefinition } };

/** A request from the main thread; each is answered by a {@link Reply} with its id. */
export type Command = CommandBody & { id: number };

/**
 * Other messages from the main thread: the answer to an invocation this half asked for, whether
 * to trace, and to stop (it closes the port once its servers are closed).
 */
export type Notice = { invoked: number; result: InvokeResult } | { invoked: number; error: string } | { tracing: boolean } | { stop: true };

/** The outcome of a {@link Command}. */
export type Reply =
  | { id: number; ok: true; served?: ServedStage }
  | { id: number; ok: false; error: { name: string; message: string; errors?: string[] } };

/** What main learns when a stage is attached. */
export interface ServedStage {
  url: string;
  /** The API's server, `http://127.0.0.1:<port>`. */
  baseUrl: string;
  urls: Array<{ logicalId: string; apiId: string; stage: string; url: string }>;
}

/** What the thread posts on its own. */
export type Report =
  | { invoke: { id: number; functionArn: string; event: unknown } }
  | { log: { group: string; line: string } }
  | { apiLog: { apiId: string; message: string } }
  | { counted: { apiId: string; counters: ApiCounters } }
  | { hop: Omit<TraceHop, 'seq'> };

/** Serves the APIs `port` defines, reporting over it. */
export const start: HostedStart<ApiGatewayWorkerSetup> = (port: MessagePort, setup, thread) => {
  const post = (message: Reply | Report): void => port.postMessage(message);

  const pendingInvocations = new Map<number, { resolve(result: InvokeResult): void; reject(error: Error): void }>();
  let nextInvocation = 1;
  const ports = new Map<string, number>();
  // The APIs served here are the only ones an `http` integration can reach locally.
  const endpoints: ApiEndpointMap = {};

  const service = new ApiGatewayService({
    region: setup.region,
    accountId: setup.accountId,
    dynamodbEndpoint: setup.dynamodbEndpoint,
    lambda: {
      invoke: (functionArn, event) =>
        new Promise((resolve, reject) => {
          const id = nextInvocation++;
          pendingInvocations.set(id, { resolve, reject });
          post({ invoke: { id, functionArn, event } });
        }),
    },
    logs: { append: (group, line) => post({ log: { group, line } }) },
    counted: (apiId, counters) => {
      post({ counted: { apiId, counters } });
      thread.reportCpu();
    },
    portFor: (logicalId) => ports.get(logicalId) ?? 0,
    endpoints,
  });

  // Hops go to the main thread's sink, and only while it has one.
  const forwardHops: TraceSink = { add: ({ seq: _seq, ...hop }) => post({ hop }) };

  async function run(command: Command): Promise<ServedStage | undefined> {
    if ('defineApi' in command) {
      const { logicalId, apiId, body, port: apiPort } = command.defineApi;
      ports.set(logicalId, apiPort);
      const log = (message: string): void => post({ apiLog: { apiId, message } });
      service.defineApi({ logicalId, apiId, definition: parseOpenApi(body, apiId), log });
      return undefined;
    }
    const url = await service.addStage(command.addStage.apiId, command.addStage.stage);
    return { url, baseUrl: endpoints[command.addStage.apiId]!, urls: service.urls() };
  }

  port.on('message', (message: Command | Notice) => {
    if ('invoked' in message) {
      const pending = pendingInvocations.get(message.invoked);
      pendingInvocations.delete(message.invoked);
      if ('result' in message) pending?.resolve(message.result);
      else pending?.reject(new Error(message.error));
      return;
    }
    if ('tracing' in message) {
      if (message.tracing) setTraceSink(forwardHops);
      else removeTraceSink(forwardHops);
      return;
    }
    if ('stop' in message) {
      void service.stop().then(() => port.close());
      return;
    }
    run(message).then(
      (served) => post({ id: message.id, ok: true, ...(served && { served }) }),
      (error: Error) => post({
        id: message.id,
        ok: false,
        error: {
          name: error instanceof OpenApiError ? 'OpenApiError' : error.name,
          message: error.message,
          ...(error instanceof ImportError && { errors: error.errors }),
        },
      }),
    );
  });
};
