/**
 * The lean runtime's figures (issue 10): CPU per order broken down by where it went, memory idle
 * and at the peak, ready time cold and warm, and the stack's throughput beside DynamoDB Local's
 * own limit for the same mix of requests. Pure arithmetic over what bench.ts measured.
 */
import type { DynamoDbLimit } from './dynamodb-limit.js';
import type { CpuTimes } from './resources.js';
import type { StartFigures } from './startup.js';

/** What bench.ts measured for the lean figures, over the whole run (intake and settle). */
export interface LeanInputs {
  accepted: number;
  /** CPU seconds by where they went, from the first request until every order settled. */
  cpuSeconds: CpuTimes;
  /** Share (0–1) of the main thread's CPU samples by owner (MainThreadProfile). */
  mainThreadShares: Record<string, number>;
  /** Sandbox CPU milliseconds during the run, by function. */
  lambdaCpuMs: Record<string, number>;
  /** CPU milliseconds during the run of the runtime's service threads (the intake thread: API Gateway, the metering proxy), by thread. */
  serviceThreadCpuMs: Record<string, number>;
  /** DynamoDB requests the benchmark made itself (its stock and order reads). */
  ownDynamoDbRequests: number;
  limit: DynamoDbLimit;
  /** Orders a second through the whole pipeline: accepted ÷ (first request → last order settled). */
  stackOrdersPerSecond: number;
  starts: { cold: StartFigures; warm: StartFigures };
  peakRssMb: number;
}

export interface LeanFigures {
  cpu_ms_per_order: {
    /** The pipeline's: main thread, Lambda, service threads, helper threads and DynamoDB Local, without the benchmark's own share. */
    pipeline: number;
    main_thread: { total: number; by_owner: Record<string, number> };
    lambda: { total: number; by_function: Record<string, number> };
    /** The threads services run on away from the main thread: the intake thread (API Gateway, the DynamoDB metering proxy). */
    service_threads: { total: number; by_thread: Record<string, number> };
    /** The process's other threads: V8's garbage collector and compiler, libuv's pool. */
    helper_threads: number;
    dynamodb_local: number;
    /** Kept apart, not in `pipeline`: the benchmark's main-thread work and (estimated from the bare loop's cost per request) its DynamoDB reads. */
    benchmark: { main_thread: number; dynamodb_local_estimated: number; dynamodb_requests: number };
    /** The load generator, a process of its own: not in `pipeline`. */
    artillery: number;
  };
  memory_mb: { idle: number; idle_by_process: Record<string, number>; peak: number };
  ready_ms: { cold: number; warm: number };
  physical_limit: DynamoDbLimit & { stack_orders_per_s: number; stack_to_limit: number };
}

const BENCHMARK_OWNER = 'benchmark';
const round = (value: number, digits = 2): number => Math.round(value * 10 ** digits) / 10 ** digits;

export function leanFigures(inputs: LeanInputs): LeanFigures {
  const orders = Math.max(1, inputs.accepted);
  const seconds = (key: keyof CpuTimes): number => inputs.cpuSeconds[key];
  const perOrderMs = (cpuSeconds: number): number => round((cpuSeconds * 1000) / orders);
  const mainMs = perOrderMs(seconds('main_thread_s'));
  const byOwner = Object.fromEntries(Object.entries(inputs.mainThreadShares).map(([owner, share]) => [owner, round(mainMs * share)]));
  const benchmarkMainMs = byOwner[BENCHMARK_OWNER] ?? 0;
  const byFunction = Object.fromEntries(Object.entries(inputs.lambdaCpuMs).map(([name, ms]) => [name, round(ms / orders)]));
  const lambdaMs = round(Object.values(byFunction).reduce((sum, ms) => sum + ms, 0));
  const byThread = Object.fromEntries(Object.entries(inputs.serviceThreadCpuMs).map(([name, ms]) => [name, round(ms / orders)]));
  const serviceThreadsMs = round(Object.values(byThread).reduce((sum, ms) => sum + ms, 0));
  const helperMs = round(Math.max(0, perOrderMs(seconds('other_threads_s')) - lambdaMs - serviceThreadsMs));
  const requestsPerOrder = Object.values(inputs.limit.mix).reduce((sum, count) => sum + count, 0);
  const ownDynamoDbMs = requestsPerOrder === 0 ? 0 : round((inputs.ownDynamoDbRequests * (inputs.limit.cpu_ms_per_order / requestsPerOrder)) / orders);
  const dynamodbMs = round(Math.max(0, perOrderMs(seconds('dynamodb_local_s')) - ownDynamoDbMs));
  return {
    cpu_ms_per_order: {
      pipeline: round(mainMs - benchmarkMainMs + lambdaMs + serviceThreadsMs + helperMs + dynamodbMs, 1),
      main_thread: {
        total: round(mainMs - benchmarkMainMs),
        by_owner: Object.fromEntries(Object.entries(byOwner).filter(([owner]) => owner !== BENCHMARK_OWNER)),
      },
      lambda: { total: lambdaMs, by_function: byFunction },
      service_threads: { total: serviceThreadsMs, by_thread: byThread },
      helper_threads: helperMs,
      dynamodb_local: dynamodbMs,
      benchmark: { main_thread: benchmarkMainMs, dynamodb_local_estimated: ownDynamoDbMs, dynamodb_requests: inputs.ownDynamoDbRequests },
      artillery: perOrderMs(seconds('artillery_s')),
    },
    memory_mb: { idle: inputs.starts.warm.idle_rss_mb, idle_by_process: inputs.starts.warm.processes, peak: inputs.peakRssMb },
    ready_ms: { cold: inputs.starts.cold.ready_ms, warm: inputs.starts.warm.ready_ms },
    physical_limit: {
      ...inputs.limit,
      stack_orders_per_s: round(inputs.stackOrdersPerSecond, 1),
      stack_to_limit: inputs.limit.orders_per_s === 0 ? 0 : round(inputs.stackOrdersPerSecond / inputs.limit.orders_per_s),
    },
  };
}

/** What a target says about a figure, for the benchmark's list of targets. */
export interface TargetCheck {
  name: string;
  target: string;
  measured: string;
  met: boolean;
}

/** Issue 10's targets that only the lean figures measure (the latency, settle and drain targets are the benchmark's own). */
export function leanTargets(lean: LeanFigures): TargetCheck[] {
  const check = (name: string, value: number, limit: number, unit: string): TargetCheck =>
    ({ name, target: `≤ ${limit}${unit}`, measured: `${value}${unit}`, met: value <= limit });
  return [
    check('pipeline CPU per order', lean.cpu_ms_per_order.pipeline, 30, ' ms'),
    check('idle memory, all processes', lean.memory_mb.idle, 250, ' MiB'),
    check('peak memory', lean.memory_mb.peak, 600, ' MiB'),
    check('ready, warm', lean.ready_ms.warm, 2500, ' ms'),
    check('ready, cold', lean.ready_ms.cold, 8000, ' ms'),
  ];
}

/** The breakdown, one line per component, largest first. */
export function formatLean(lean: LeanFigures): string {
  const { cpu_ms_per_order: cpu, memory_mb: memory, ready_ms: ready, physical_limit: limit } = lean;
  const parts = (entries: Record<string, number>): string =>
    Object.entries(entries).sort((a, b) => b[1] - a[1]).map(([name, ms]) => `${name} ${ms}`).join(', ');
  return [
    `CPU per order: ${cpu.pipeline} ms for the pipeline`,
    `  main thread      ${cpu.main_thread.total} ms: ${parts(cpu.main_thread.by_owner)}`,
    `  Lambda sandboxes ${cpu.lambda.total} ms: ${parts(cpu.lambda.by_function)}`,
    `  service threads  ${cpu.service_threads.total} ms: ${parts(cpu.service_threads.by_thread)}`,
    `  helper threads   ${cpu.helper_threads} ms (V8 GC and compiler, libuv)`,
    `  DynamoDB Local   ${cpu.dynamodb_local} ms`,
    `  kept apart: the benchmark ${cpu.benchmark.main_thread} ms on the main thread and ~${cpu.benchmark.dynamodb_local_estimated} ms in DynamoDB Local (${cpu.benchmark.dynamodb_requests} reads); Artillery ${cpu.artillery} ms`,
    `memory: ${memory.idle} MiB idle (${parts(memory.idle_by_process)}), ${memory.peak} MiB at the peak`,
    `ready: ${ready.cold} ms cold, ${ready.warm} ms warm (node bin/wims.js up, spawn → "ready")`,
    `physical limit: DynamoDB Local serves ${limit.orders_per_s} orders/s of this run's mix (${limit.requests_per_s} requests/s from ${limit.clients} clients, ${limit.cpu_ms_per_order} ms of its CPU per order);`,
    `  the stack did ${limit.stack_orders_per_s} orders/s end to end: ${limit.stack_to_limit} of that bound`,
  ].join('\n');
}
