/**
 * Runs Lambda functions locally: each function gets a small pool of worker threads (warm
 * sandboxes) that run its bundle unchanged, with the function's environment from the template
 * plus what the Lambda service sets, and the AWS SDK pointed at the local engines through
 * `AWS_ENDPOINT_URL_*`. Invocations beyond the pool's size wait for a free worker, like
 * reserved concurrency.
 *
 * LIMITATIONS: no layers, container images, extensions, SnapStart, provisioned concurrency or
 * versions/aliases; memory size is reported to the handler but not enforced; a timeout or a crash
 * replaces the worker (its module state is lost, as with a new sandbox); the host's Node (22)
 * runs every `nodejs*` runtime.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import type { ApiEndpointMap } from '../apigateway/endpoints.js';
import type { LogStore } from '../logs/store.js';
import { traceSpan } from '../../trace.js';
import type { InvokeMessage, WorkerReady, WorkerReply, WorkerSetup } from './worker.js';

/** What the runtime needs to run one function. */
export interface FunctionConfig {
  name: string;
  arn: string;
  /** The bundled handler module and its export (`handler.handler` → handler.mjs, `handler`). */
  bundlePath: string;
  exportName: string;
  /** The function's environment: the template's variables plus the Lambda-provided ones. */
  environment: Record<string, string>;
  timeoutSeconds: number;
  memoryMb: number;
}

/** The outcome of one invocation, as Lambda's Invoke API reports it. */
export type InvokeResult =
  | { ok: true; payload: unknown; durationMs: number }
  | { ok: false; errorType: string; errorMessage: string; durationMs: number };

/** Invocations of one function that ran in a sandbox, for usage metering. */
export interface FunctionStats {
  invocations: number;
  /**
   * Run time as Lambda bills it: each invocation rounded up to the millisecond, failures and
   * timeouts included; a new sandbox's module loading (its init phase) is not included.
   */
  billedMs: number;
  memoryMb: number;
  /** CPU time of the sandboxes' threads in invocations (not their init), on this machine. */
  cpuMs: number;
}

/** Thrown when a function name or ARN is not one of the template's functions. */
export class FunctionNotFoundError extends Error {
  override name = 'ResourceNotFoundException';
}

/**
 * Most sandboxes one function keeps: one more than the machine's cores (three on two cores).
 * More would not run more at once, only hold more memory: on this 2-core machine a cap of 6 let
 * the quick benchmark's peak reach 1,017 MiB in the Node process, a cap of 3 645 MiB.
 */
const MAX_WORKERS_PER_FUNCTION = Math.max(3, availableParallelism() + 1);

interface Sandbox {
  worker: Worker;
  busy: boolean;
  /** The thread's CPU time at its last message, to count each invocation's share. */
  cpuMicros: number;
}

class FunctionPool {
  readonly stats: FunctionStats;
  private readonly sandboxes: Sandbox[] = [];
  private readonly waiting: Array<(sandbox: Sandbox) => void> = [];
  private warming: Promise<void> | undefined;
  private nextId = 1;

  constructor(
    readonly config: FunctionConfig,
    private readonly logs: LogStore,
    private readonly workerUrl: URL,
  ) {
    this.stats = { invocations: 0, billedMs: 0, memoryMb: config.memoryMb, cpuMs: 0 };
  }

  async invoke(event: unknown, apiEndpoints: ApiEndpointMap): Promise<InvokeResult> {
    const started = Date.now();
    let sandbox: Sandbox;
    try {
      sandbox = await this.acquire();
    } catch (error) {
      const { errorType, errorMessage } = error as { errorType: string; errorMessage: string };
      return { ok: false, errorType, errorMessage, durationMs: Date.now() - started };
    }
    const deadline = Date.now() + this.config.timeoutSeconds * 1000;
    const message: InvokeMessage = {
      id: this.nextId++,
      event: JSON.stringify(event ?? null),
      requestId: randomUUID(),
      deadline,
      apiEndpoints,
    };
    // Billed from the hand-over to the sandbox: waiting for a free one is not billed on AWS either.
    const running = performance.now();
    try {
      const reply = await this.run(sandbox, message, deadline - Date.now());
      this.stats.cpuMs += (reply.cpuMicros - sandbox.cpuMicros) / 1000;
      sandbox.cpuMicros = reply.cpuMicros;
      const durationMs = Date.now() - started;
      return reply.ok
        ? { ok: true, payload: reply.payload === undefined ? null : JSON.parse(reply.payload), durationMs }
        : { ok: false, errorType: reply.errorType, errorMessage: reply.errorMessage, durationMs };
    } catch (error) {
      // A timeout or crash leaves the sandbox unusable: replace it, as Lambda does.
      this.discard(sandbox);
      const { errorType, errorMessage } = error as { errorType: string; errorMessage: string };
      return { ok: false, errorType, errorMessage, durationMs: Date.now() - started };
    } finally {
      this.stats.invocations++;
      this.stats.billedMs += Math.ceil(performance.now() - running);
      this.release(sandbox);
    }
  }

  /** Starts one sandbox ahead of the first invocation (a cold start paid at boot); once per pool. */
  warm(): Promise<void> {
    this.warming ??= (async () => {
      if (this.sandboxes.length === 0) this.release(await this.spawn());
    })();
    return this.warming;
  }

  async stop(): Promise<void> {
    await Promise.all(this.sandboxes.splice(0).map((sandbox) => sandbox.worker.terminate()));
  }

  private async acquire(): Promise<Sandbox> {
    // The first invocation takes the sandbox being warmed rather than starting a second one.
    await this.warming?.catch(() => undefined);
    const idle = this.sandboxes.find((sandbox) => !sandbox.busy);
    if (idle) {
      idle.busy = true;
      return idle;
    }
    if (this.sandboxes.length < MAX_WORKERS_PER_FUNCTION) return this.spawn();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(sandbox: Sandbox): void {
    if (!this.sandboxes.includes(sandbox)) {
      // The sandbox was discarded: give a waiting caller a fresh one instead.
      const next = this.waiting.shift();
      if (next) void this.spawn().then(next, () => undefined);
      return;
    }
    const next = this.waiting.shift();
    if (next) next(sandbox);
    else sandbox.busy = false;
  }

  private discard(sandbox: Sandbox): void {
    const index = this.sandboxes.indexOf(sandbox);
    if (index >= 0) this.sandboxes.splice(index, 1);
    void sandbox.worker.terminate();
  }

  private async spawn(): Promise<Sandbox> {
    const { config } = this;
    const setup: WorkerSetup = {
      bundlePath: config.bundlePath,
      exportName: config.exportName,
      functionName: config.name,
      functionArn: config.arn,
      memoryMb: config.memoryMb,
      logGroupName: `/aws/lambda/${config.name}`,
    };
    const worker = new Worker(this.workerUrl, {
      workerData: setup,
      env: config.environment,
      // No tsx loader: Node 22 strips the worker's types itself, and a loader in every sandbox
      // re-processed each bundle (about a second of CPU per sandbox, half of its memory). A worker
      // ignores NODE_OPTIONS, so --enable-source-maps is passed on when the function's NODE_OPTIONS
      // holds it, as Lambda's Node honours it there.
      execArgv: (config.environment.NODE_OPTIONS ?? '').split(/\s+/).includes('--enable-source-maps') ? ['--enable-source-maps'] : [],
      stdout: true,
      stderr: true,
    });
    for (const stream of [worker.stdout, worker.stderr]) {
      createInterface({ input: stream }).on('line', (line) => this.logs.append(setup.logGroupName, line));
    }
    const sandbox: Sandbox = { worker, busy: true, cpuMicros: 0 };
    this.sandboxes.push(sandbox);
    try {
      const [ready] = (await Promise.race([
        once(worker, 'message'),
        once(worker, 'error').then(([error]) => {
          throw error;
        }),
      ])) as [WorkerReady];
      sandbox.cpuMicros = ready.cpuMicros;
    } catch (error) {
      this.discard(sandbox);
      throw Object.assign(new Error(`${config.name}: the handler module failed to load: ${(error as Error).message}`), {
        errorType: 'Runtime.ImportModuleError',
        errorMessage: (error as Error).message,
      });
    }
    return sandbox;
  }

  private run(sandbox: Sandbox, message: InvokeMessage, timeoutMs: number): Promise<WorkerReply> {
    return new Promise((resolve, reject) => {
      const { worker } = sandbox;
      const timer = setTimeout(() => {
        cleanup();
        reject({
          errorType: 'Sandbox.Timedout',
          errorMessage: `Task timed out after ${this.config.timeoutSeconds.toFixed(2)} seconds`,
        });
      }, timeoutMs);
      const onMessage = (reply: WorkerReply): void => {
        if (reply.id !== message.id) return;
        cleanup();
        resolve(reply);
      };
      const onExit = (code: number): void => {
        cleanup();
        reject({ errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${message.requestId} Error: Runtime exited with error: exit status ${code}` });
      };
      const onError = (error: Error): void => {
        cleanup();
        reject({ errorType: 'Runtime.UnhandledError', errorMessage: error.message });
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('exit', onExit);
        worker.off('error', onError);
      };
      worker.on('message', onMessage);
      worker.on('exit', onExit);
      worker.on('error', onError);
      worker.postMessage(message);
    });
  }
}

/** What invokes a function: Pipes' enrichment, Step Functions' tasks, targets, custom resources, event source mappings. */
export type LambdaInvoker = Pick<LambdaRuntime, 'invoke'>;

/** The local Lambda service: functions by name and ARN, invoked in warm worker threads. */
export class LambdaRuntime {
  private readonly pools = new Map<string, FunctionPool>();
  private readonly workerUrl = new URL('./worker.ts', import.meta.url);

  /**
   * @param logs where function output goes (one log group per function)
   * @param apiEndpoints the locally served APIs, filled in as their servers listen and read at each invocation
   */
  constructor(
    private readonly logs: LogStore,
    private readonly apiEndpoints: ApiEndpointMap,
  ) {}

  /** Makes a function invocable by its name and its ARN. */
  register(config: FunctionConfig): void {
    const pool = new FunctionPool(config, this.logs, this.workerUrl);
    this.pools.set(config.name, pool);
    this.pools.set(config.arn, pool);
    // Warmed while the rest of the stack is created; a failure to load is reported by warmAll().
    pool.warm().catch(() => undefined);
  }

  /** Waits for one warm sandbox per function (started at registration), so the first events do not pay the cold start. */
  async warmAll(): Promise<void> {
    await Promise.all([...new Set(this.pools.values())].map((pool) => pool.warm()));
  }

  /** Invokes a function synchronously (RequestResponse) with a JSON event. */
  async invoke(nameOrArn: string, event: unknown): Promise<InvokeResult> {
    const pool = this.pools.get(nameOrArn) ?? this.pools.get(functionNameOf(nameOrArn));
    if (!pool) throw new FunctionNotFoundError(`Function not found: ${nameOrArn}`);
    return traceSpan('lambda', 'Invoke', pool.config.name, event, pool.invoke(event, this.apiEndpoints), (result) => (result.ok ? undefined : `${result.errorType}: ${result.errorMessage}`));
  }

  /** Invocations and billed run time per function name. */
  stats(): Record<string, FunctionStats> {
    return Object.fromEntries([...new Set(this.pools.values())].map((pool) => [pool.config.name, { ...pool.stats }]));
  }

  async stop(): Promise<void> {
    await Promise.all([...new Set(this.pools.values())].map((pool) => pool.stop()));
  }
}

/** `arn:aws:lambda:region:account:function:name[:qualifier]` → `name`. */
function functionNameOf(nameOrArn: string): string {
  return nameOrArn.startsWith('arn:') ? (nameOrArn.split(':')[6] ?? nameOrArn) : nameOrArn;
}
