/**
 * The service thread's entry (see service-thread.ts): it imports each module it is given and
 * starts it with its port and setup.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
// By its .ts name: the thread runs without a TypeScript loader (Node strips the types itself).
import { threadCpuMicros } from './thread-cpu.ts';

/** What a hosted module exports: `start` runs on the thread with the service's own port and setup. */
export type HostedStart<Setup> = (port: MessagePort, setup: Setup, thread: HostThread) => void;

/** What the thread offers a hosted service. */
export interface HostThread {
  /** Records the thread's CPU so far, for ServiceThread.cpuMs(): call it after each piece of work. */
  reportCpu(): void;
}

/** A module to start on the thread. */
export interface ServiceThreadTask {
  moduleUrl: string;
  setup: unknown;
  port: MessagePort;
}

const cpuMicros = workerData as Float64Array;
const thread: HostThread = {
  reportCpu: () => {
    cpuMicros[0] = threadCpuMicros();
  },
};

parentPort!.on('message', ({ moduleUrl, setup, port }: ServiceThreadTask) => {
  void import(moduleUrl).then((module: { start: HostedStart<unknown> }) => module.start(port, setup, thread));
});
