/**
 * One Lambda execution environment: a worker thread that imports the function's bundle once
 * and then runs one invocation at a time, like a warm Lambda sandbox. Its `process.env` is the
 * function's own environment (set by the parent), and `fetch` reaches locally served APIs by
 * their AWS URLs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
// By its .ts name: the worker runs without a TypeScript loader (Node strips the types itself).
import { toLocalUrl, type ApiEndpointMap } from '../apigateway/endpoints.ts';
import { threadCpuMicros } from '../../thread-cpu.ts';

export interface WorkerSetup {
  bundlePath: string;
  exportName: string;
  functionName: string;
  functionArn: string;
  memoryMb: number;
  logGroupName: string;
}

export interface InvokeMessage {
  id: number;
  /** The event as JSON text, as Lambda passes it. */
  event: string;
  requestId: string;
  deadline: number;
  apiEndpoints: ApiEndpointMap;
}

type InvocationOutcome =
  | { id: number; ok: true; payload: string | undefined }
  | { id: number; ok: false; errorType: string; errorMessage: string; stackTrace: string[] };

/** Every reply carries the sandbox thread's CPU time so far (user + system, microseconds). */
export type WorkerReply = InvocationOutcome & { cpuMicros: number };

/** The first message: the handler module is loaded (its CPU is the init phase's). */
export interface WorkerReady {
  ready: true;
  cpuMicros: number;
}

type Handler = (event: unknown, context: unknown, callback?: (error: unknown, result?: unknown) => void) => unknown;

const setup = workerData as WorkerSetup;
let apiEndpoints: ApiEndpointMap = {};

const realFetch = globalThis.fetch;
globalThis.fetch = (input: string | URL | Request, init?: RequestInit) => {
  if (input instanceof Request) return realFetch(new Request(toLocalUrl(input.url, apiEndpoints), input), init);
  return realFetch(toLocalUrl(String(input), apiEndpoints), init);
};

const handler = await loadHandler();

parentPort!.on('message', (message: InvokeMessage) => {
  apiEndpoints = message.apiEndpoints;
  void invoke(message).then((reply) => parentPort!.postMessage({ ...reply, cpuMicros: threadCpuMicros() }));
});
parentPort!.postMessage({ ready: true, cpuMicros: threadCpuMicros() } satisfies WorkerReady);

async function loadHandler(): Promise<Handler> {
  const module = (await import(pathToFileURL(setup.bundlePath).href)) as Record<string, unknown>;
  const exported = module[setup.exportName];
  if (typeof exported !== 'function') {
    throw new Error(`${setup.bundlePath} does not export a function named ${setup.exportName}`);
  }
  return exported as Handler;
}

async function invoke(message: InvokeMessage): Promise<InvocationOutcome> {
  const context = {
    functionName: setup.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: setup.functionArn,
    memoryLimitInMB: String(setup.memoryMb),
    awsRequestId: message.requestId,
    logGroupName: setup.logGroupName,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, message.deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
  try {
    const event: unknown = JSON.parse(message.event);
    const result = await new Promise<unknown>((resolve, reject) => {
      // Handlers may be async or take a callback, as on Lambda.
      const returned = handler(event, context, (error, value) => (error ? reject(error) : resolve(value)));
      if (returned !== undefined && typeof (returned as Promise<unknown>).then === 'function') {
        (returned as Promise<unknown>).then(resolve, reject);
      } else if (handler.length < 3) {
        resolve(returned);
      }
    });
    return { id: message.id, ok: true, payload: result === undefined ? undefined : JSON.stringify(result) };
  } catch (error) {
    const failure = error instanceof Error ? error : new Error(String(error));
    return {
      id: message.id,
      ok: false,
      errorType: failure.name,
      errorMessage: failure.message,
      stackTrace: (failure.stack ?? '').split('\n').slice(1).map((line) => line.trim()),
    };
  }
}
