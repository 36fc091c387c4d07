/**
 * One worker thread that hosts the services intake needs (API Gateway, the DynamoDB metering
 * proxy), away from the main thread's event loop. A service has a half here, on the main thread,
 * and a half on the thread (a module exporting `start`, see HostedStart in
 * service-thread-worker.ts); the two talk over a MessagePort of their own. One thread for both
 * rather than one each: a Node worker costs about 30 MiB resident before it runs anything
 * (measured here: the two on one thread 51 MiB, on two threads 72 MiB).
 *
 * The hosted modules, and all they import, run without a TypeScript loader (Node strips the types
 * itself): relative imports name `.ts` files, and no TypeScript-only syntax (enums, parameter
 * properties) is used.
 */
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { ServiceThreadTask } from './service-thread-worker.js';

/** The thread, seen from the main thread. */
export class ServiceThread {
  private readonly worker: Worker;
  /** The thread's CPU microseconds as of the last report (one Float64 written by the thread). */
  private readonly cpuMicros = new Float64Array(new SharedArrayBuffer(Float64Array.BYTES_PER_ELEMENT));
  private stopped: Promise<void> | undefined;

  /** `log` hears of the thread failing. */
  constructor(log: (message: string) => void) {
    this.worker = new Worker(new URL('./service-thread-worker.ts', import.meta.url), { workerData: this.cpuMicros, execArgv: [] });
    this.worker.on('error', (error) => log(`the intake thread failed: ${error.message}`));
    this.worker.on('exit', (code) => {
      if (this.stopped === undefined) log(`the intake thread exited (code ${code}): API Gateway and DynamoDB calls fail until the runtime restarts`);
    });
  }

  /** Starts the module at `moduleUrl` on the thread with `setup`; returns the main half's end of their port. */
  host(moduleUrl: URL, setup: unknown): MessagePort {
    const { port1, port2 } = new MessageChannel();
    const task: ServiceThreadTask = { moduleUrl: moduleUrl.href, setup, port: port2 };
    this.worker.postMessage(task, [port2]);
    return port1;
  }

  /** CPU milliseconds of the thread so far, as of its services' last report. */
  cpuMs(): number {
    return this.cpuMicros[0]! / 1000;
  }

  /** Ends the thread (its services stop first, through their own ports); safe to call twice. */
  stop(): Promise<void> {
    return (this.stopped ??= this.worker.terminate().then(() => undefined));
  }
}
