/**
 * `npm run bench`: the write-up's benchmark (loadtest/orders.yml through Artillery) against the
 * whole stack, measured until every order is settled, side by side with the write-up's figures.
 *
 *   npm run bench                      the provider's 5 payments/s, like the write-up (≥ 200 s)
 *   npm run bench -- --quick           payments pipe and stand-in provider at 50/s (a minute or two)
 *   npm run bench -- --scale           then offered loads of 10, 50, 100 and 200 orders/s, 30 s each
 *   npm run bench -- --target <url>    a running (`npm start`) or deployed stack (its OrdersApiUrl),
 *                                      measured over HTTP only
 *   npm run bench -- --capacity        the 100x day on AWS: per-order usage against AWS's quotas,
 *                                      and the bottleneck (see capacity.ts)
 *   npm run bench -- --dashboard idle|page   with the dashboard running (idle: no page; page: a headless
 *                                      Chromium page on it); npm run bench:dashboard compares them
 *
 * Without --target it boots template.yaml in this process (in memory). Results go to
 * loadtest/results/latest.json (see DEFINITIONS in report.ts for what each figure means).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { startLocalStack, type LocalStack } from '../local/runtime.js';
import { ArtilleryLauncher, plannedRequests, RecordTail, type ArtilleryOutcome } from './artillery.js';
import { StackResources, type CpuTimes } from './resources.js';
import { runCapacity } from './capacity.js';
import { startBenchDashboard, type DashboardMode } from './dashboard-page.js';
import { HttpObserver, LocalObserver, type Observer } from './observe.js';
import type { UsageReport } from '../local/services/usage.js';
import type { PriceTable } from './cost.js';
import {
  buildResult,
  checkTargets,
  costOf,
  cpuPhase,
  DEFINITIONS,
  formatCost,
  formatCpu,
  formatScale,
  formatTable,
  ORDERS_PER_MONTH,
  withoutOwnReads,
  type BenchResult,
  type RunMeasurements,
} from './report.js';
import { expectedDecrement, isAccepted, isSettled, scaleFigures, type ObservedOrder, type OrderRecord, type ScaleStep } from './stats.js';
import { MainThreadProfile } from './main-thread-profile.js';
import { measureDynamoDbLimit } from './dynamodb-limit.js';
import { measureStarts } from './startup.js';
import { formatLean, leanFigures, type LeanFigures } from './lean.js';

const USAGE = 'usage: npm run bench [-- --quick] [-- --scale] [-- --target <OrdersApiUrl>] [-- --capacity] [-- --dashboard idle|page]';
const SCRIPT = resolve('loadtest/orders.yml');
const RESULTS = resolve('loadtest/results');
/** Payments per second of the payments pipe and the stand-in provider: the write-up's, and --quick's. */
const FULL_RATE = 5;
const QUICK_RATE = 50;
const SCALE_STEPS: ScaleStep[] = [10, 50, 100, 200].map((offered) => ({ offered_per_s: offered, duration_s: 30 }));
const PRICES = 'loadtest/prices.json';
/** How often the stock is read once the last answer is in: the settle time's resolution. */
const SETTLE_POLL_MS = 5;
const SETTLE_TIMEOUT_MS = 60_000;
const PROGRESS_EVERY_MS = 1000;

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean' }, scale: { type: 'boolean' }, target: { type: 'string' }, capacity: { type: 'boolean' }, dashboard: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

function progress(message: string): void {
  console.log(`  ${new Date().toISOString().slice(11, 19)}  ${message}`);
}

/** While Artillery runs: follows its answers, then reads the stock until the full decrement shows. */
async function followIntake(
  observer: Observer,
  tail: RecordTail,
  planned: number,
  stockBefore: number,
  artillery: Promise<ArtilleryOutcome>,
  onLastAnswer: () => void,
): Promise<{ outcome: ArtilleryOutcome; settledAt: number | null }> {
  let exited = false;
  const outcome = artillery.finally(() => {
    exited = true;
  });
  let lastProgress = Date.now();
  // Answers are recorded as they come: the last one starts the settle clock at once.
  while (!exited && tail.poll() < planned) {
    if (Date.now() - lastProgress >= PROGRESS_EVERY_MS) {
      lastProgress = Date.now();
      progress(`answered ${tail.records.length}/${planned} (${tail.records.filter(isAccepted).length} accepted)`);
    }
    await sleep(SETTLE_POLL_MS);
  }
  tail.poll();
  onLastAnswer();
  progress(`answered ${tail.records.length}/${planned}${exited ? ' (Artillery has exited)' : ''}; reading the stock every ${SETTLE_POLL_MS} ms`);
  const expected = expectedDecrement(tail.records);
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  let settledAt: number | null = null;
  while (Date.now() < deadline) {
    const stock = await observer.stock();
    if (stockBefore - stock === expected) {
      settledAt = Date.now();
      break;
    }
    await sleep(SETTLE_POLL_MS);
  }
  return { outcome: await outcome, settledAt };
}

/** Reads the orders until `done` holds for every accepted one (or the deadline passes), printing progress. */
async function waitForOrders(
  observer: Observer,
  records: readonly OrderRecord[],
  done: (order: ObservedOrder) => boolean,
  timeoutMs: number,
  describe: (orders: ObservedOrder[]) => string,
): Promise<Map<string, ObservedOrder>> {
  const accepted = records.filter(isAccepted);
  const customers = new Set(accepted.map((record) => record.customerId));
  const deadline = Date.now() + timeoutMs;
  const observed = new Map<string, ObservedOrder>();
  for (;;) {
    const started = Date.now();
    // The stack's metrics say how far it is without a table read (the benchmark's reads cost the engine it measures).
    const hinted = observer.settledHint?.();
    if (hinted !== undefined && hinted < accepted.length && Date.now() < deadline) {
      progress(`${hinted}/${accepted.length} settled (by the stack's metrics)`);
      await sleep(PROGRESS_EVERY_MS);
      continue;
    }
    for (const [orderId, order] of await observer.orders(customers)) observed.set(orderId, order);
    const orders = accepted.flatMap((record) => observed.get(record.orderId) ?? []);
    const finished = orders.filter(done).length;
    progress(`${finished}/${accepted.length} settled · ${describe(orders)}`);
    if (finished === accepted.length) return observed;
    if (Date.now() > deadline) {
      progress(`gave up waiting after ${Math.round(timeoutMs / 1000)} s: the figures below include the unsettled orders`);
      return observed;
    }
    // Over HTTP only the customers still waiting are read again.
    if (observer.unavailable !== undefined) {
      customers.clear();
      for (const record of accepted) {
        const order = observed.get(record.orderId);
        if (order === undefined || !done(order)) customers.add(record.customerId);
      }
    }
    await sleep(Math.max(0, PROGRESS_EVERY_MS - (Date.now() - started)));
  }
}

function count(orders: readonly ObservedOrder[], predicate: (order: ObservedOrder) => boolean): number {
  return orders.filter(predicate).length;
}

/** What the stack under test is and how it is read. */
interface Subject {
  observer: Observer;
  target: string;
  artillery: ArtilleryLauncher;
  /** Only for the in-process stack. */
  stack?: LocalStack;
  resources?: StackResources;
}

/** The stack's counters at one moment: CPU times, billable usage, and the observer's own reads so far. */
interface Snapshot {
  at: number;
  cpu?: CpuTimes;
  usage?: UsageReport;
  /** Sandbox CPU milliseconds so far, by function. */
  lambdaCpuMs?: Record<string, number>;
  /** CPU milliseconds so far of the runtime's service threads, by thread. */
  serviceThreadCpuMs?: Record<string, number>;
  /** The observer's own DynamoDB requests so far. */
  ownRequests: number;
}

function snapshot(subject: Subject, artilleryPid?: number): Snapshot {
  const { stack, resources, observer } = subject;
  const ownRequests = observer.ownRequests?.() ?? {};
  return {
    at: Date.now(),
    cpu: resources?.cpu(artilleryPid),
    // The benchmark's own table reads are not the orders' cost.
    usage: stack && withoutOwnReads(stack.usage(), observer.ownReadUnits?.() ?? {}, ownRequests),
    lambdaCpuMs: stack && Object.fromEntries(Object.entries(stack.lambda.stats()).map(([name, stats]) => [name, stats.cpuMs])),
    serviceThreadCpuMs: stack?.serviceThreadCpuMs(),
    ownRequests: Object.values(ownRequests).reduce((sum, count) => sum + count, 0),
  };
}

/** One Artillery run into its own record file: the stock before, the settle time, snapshots at the start and at the last answer. */
async function load(
  subject: Subject,
  name: string,
  planned: number,
  options: { overrides?: object; variables?: Record<string, unknown>; skipChecks?: boolean } = {},
): Promise<{ records: OrderRecord[]; stockBefore: number; settledAt: number | null; outcome: ArtilleryOutcome; start: Snapshot; lastAnswer: Snapshot }> {
  const { observer, target } = subject;
  const recordFile = join(RESULTS, `${name}.jsonl`);
  rmSync(recordFile, { force: true });
  const stockBefore = await observer.stock();
  progress(`stock before: ${stockBefore}; Artillery sends ${planned} orders (${name})`);
  const start = snapshot(subject);
  const artillery = subject.artillery.run({
    script: SCRIPT,
    target,
    aws: flags.target !== undefined && !/^https?:\/\/(127\.|localhost)/.test(target),
    recordFile,
    reportFile: join(RESULTS, `${name}-artillery.json`),
    logFile: join(RESULTS, `${name}-artillery.log`),
    ...options,
  });
  const tail = new RecordTail(recordFile);
  let lastAnswer = start;
  const { outcome, settledAt } = await followIntake(observer, tail, planned, stockBefore, artillery.done, () => {
    lastAnswer = snapshot(subject, artillery.pid());
  });
  tail.poll();
  progress(`Artillery exited with ${outcome.exitCode}${outcome.checks.length ? `: ${outcome.checks.join('; ')}` : ''}`);
  return { records: tail.records, stockBefore, settledAt, outcome, start, lastAnswer };
}

async function main(): Promise<void> {
  if (flags.help) {
    console.log(USAGE);
    return;
  }
  const rate = flags.quick ? QUICK_RATE : FULL_RATE;
  const mode = flags.target !== undefined ? 'target' : flags.quick ? 'quick' : 'full';
  mkdirSync(RESULTS, { recursive: true });
  const startedAt = new Date().toISOString();
  const loadBefore = loadavg().map((load) => Math.round(load * 100) / 100);
  const machine = { cpus: cpus().length, cpu_model: cpus()[0]?.model ?? 'unknown', memory_gib: Math.round(totalmem() / 2 ** 30), node: process.version, platform: `${platform()} ${release()}` };
  console.log(`WIMS benchmark (${mode}) on ${machine.cpus} × ${machine.cpu_model}, ${machine.memory_gib} GiB, Node ${machine.node}`);
  if (loadBefore[0]! > machine.cpus / 2) {
    progress(`warning: the load average is ${loadBefore[0]} on ${machine.cpus} cores: other work on this machine will slow the run down`);
  }

  let subject: Subject;
  // Before the stack lowers this thread's priority (local/priority.ts).
  const artillery = new ArtilleryLauncher();
  let starts: Awaited<ReturnType<typeof measureStarts>> | undefined;
  if (flags.target === undefined) {
    progress('starting node bin/wims.js up twice (cold: empty cache and state; warm: nothing changed) for the ready times and idle memory');
    starts = await measureStarts();
    progress(`ready in ${starts.cold.ready_ms} ms cold, ${starts.warm.ready_ms} ms warm; ${starts.warm.idle_rss_mb} MiB idle`);
    // The provider keeps the template's headroom over the pipe's rate (10/s against 5/s by default), so a
    // call that arrives early is not refused with a 429 that costs a 300 s redelivery.
    const providerRate = 2 * rate;
    progress(`booting template.yaml in memory (PaymentsRateLimitPerSecond = ${rate}, ProviderRateLimitPerSecond = ${providerRate})`);
    const stackLog = join(RESULTS, 'stack.log');
    writeFileSync(stackLog, '');
    const stack = await startLocalStack({
      inMemory: true,
      apiPort: 0,
      stackName: 'wims-bench',
      parameterOverrides: { PaymentsRateLimitPerSecond: String(rate), ProviderRateLimitPerSecond: String(providerRate) },
      log: (component, message) => writeFileSync(stackLog, `${new Date().toISOString()} [${component}] ${message}\n`, { flag: 'a' }),
    });
    progress(`stack ready in ${(stack.startupMs / 1000).toFixed(1)} s (its log: ${stackLog})`);
    const target = stack.endpoints.apis.find((api) => api.logicalId === 'OrdersApi')?.url;
    if (target === undefined) throw new Error('The template has no OrdersApi');
    subject = { observer: new LocalObserver(stack), target, artillery, stack, resources: new StackResources(stack) };
  } else {
    subject = { observer: new HttpObserver(flags.target), target: flags.target, artillery };
  }
  const { observer, stack, resources } = subject;
  if (flags.dashboard !== undefined && !['idle', 'page'].includes(flags.dashboard)) throw new Error(`--dashboard takes idle or page, not ${flags.dashboard}`);
  const stopDashboard = stack && flags.dashboard ? await startBenchDashboard(stack, flags.dashboard as DashboardMode) : undefined;

  try {
    const profile = stack ? await MainThreadProfile.start() : undefined;
    const run = await load(subject, 'orders', plannedRequests(SCRIPT));
    const accepted = run.records.filter(isAccepted).length;
    // The payments drain at the limit: allow three times the ideal, and a minute for the rest.
    const observed = await waitForOrders(observer, run.records, isSettled, 60_000 + (3_000 * accepted) / rate, (orders) => {
      const provider429 = observer.provider429 ? ` · provider 429s ${observer.provider429()}` : '';
      return `reserved ${count(orders, (order) => order.status !== 'PENDING')} · paid ${count(orders, (order) => order.paymentStatus === 'PAID')}${provider429}`;
    });
    const settled = snapshot(subject);
    const mainThreadShares = await profile?.stop();
    const measurements: RunMeasurements = {
      records: run.records,
      observed,
      stockBefore: run.stockBefore,
      stockAfter: await observer.stock(),
      settledAt: run.settledAt,
      rateLimitPerSecond: stack ? rate : null,
      ledger: await observer.ledger?.(),
      deadLetters: await observer.deadLetters?.(),
      provider429: observer.provider429?.(),
    };
    const cost = run.start.usage && settled.usage && accepted > 0
      ? costOf(run.start.usage, settled.usage, accepted, JSON.parse(readFileSync(PRICES, 'utf8')) as PriceTable)
      : { available: false as const, reason: stack ? 'no order was accepted' : 'billable usage is counted by the local runtime only' };

    let scale: BenchResult['scale'] = null;
    if (flags.scale) {
      const phases = SCALE_STEPS.map((step) => ({ name: `${step.offered_per_s}/s`, duration: step.duration_s, arrivalRate: step.offered_per_s }));
      const planned = SCALE_STEPS.reduce((sum, step) => sum + step.offered_per_s * step.duration_s, 0);
      const scaleRun = await load(subject, 'scale', planned, { overrides: { config: { phases } }, variables: { ordersPerUser: 1 }, skipChecks: true });
      // Reservation is what the scale run measures (the payments backlog drains at the limit meanwhile);
      // the backlog of the faster steps is reserved at the rate the stack sustains: allow 20 orders/s.
      const scaleAccepted = scaleRun.records.filter(isAccepted).length;
      const scaleObserved = await waitForOrders(observer, scaleRun.records, (order) => order.status !== 'PENDING', 60_000 + scaleAccepted * 50, (orders) =>
        `paid ${count(orders, (order) => order.paymentStatus === 'PAID')}`);
      scale = scaleFigures(scaleRun.records, SCALE_STEPS, scaleObserved);
    }

    const command = ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' ');
    const base = buildResult(measurements, {
      run: { mode, stack: stack ? 'in-process local runtime (in memory)' : subject.target, command, started_at: startedAt, unavailable: observer.unavailable ?? null, definitions: DEFINITIONS },
      machine: { ...machine, load_average: { before: loadBefore, after: loadavg().map((load) => Math.round(load * 100) / 100) } },
      stack: {
        startup_ms: stack?.startupMs ?? null,
        peak_rss_mb: resources?.stop() ?? null,
        cpu:
          run.start.cpu && run.lastAnswer.cpu && settled.cpu
            ? {
                intake: cpuPhase(run.start.cpu, run.lastAnswer.cpu, run.lastAnswer.at - run.start.at),
                // Artillery has exited: its reading stays at the last answer's.
                settle: cpuPhase(run.lastAnswer.cpu, { ...settled.cpu, artillery_s: run.lastAnswer.cpu.artillery_s }, settled.at - run.lastAnswer.at),
              }
            : null,
      },
      artillery: { exit_code: run.outcome.exitCode, checks: run.outcome.checks },
      stockRead: observer.stockRead,
    });
    let lean: LeanFigures | null = null;
    if (stack && resources && starts && mainThreadShares && base.stack.cpu && run.start.usage && settled.usage) {
      const peakRssMb = resources.stop();
      // DynamoDB Local's own limit is measured alone: the stack is stopped first.
      await stack.stop();
      progress('measuring DynamoDB Local bare with the mix of requests one order made');
      const limit = await measureDynamoDbLimit(requestMix(run.start.usage, settled.usage, accepted));
      lean = leanFigures({
        accepted,
        cpuSeconds: sumCpu(base.stack.cpu.intake.cpu_s, base.stack.cpu.settle.cpu_s),
        mainThreadShares,
        lambdaCpuMs: difference(run.start.lambdaCpuMs ?? {}, settled.lambdaCpuMs ?? {}),
        serviceThreadCpuMs: difference(run.start.serviceThreadCpuMs ?? {}, settled.serviceThreadCpuMs ?? {}),
        ownDynamoDbRequests: settled.ownRequests - run.start.ownRequests,
        limit,
        stackOrdersPerSecond: endToEndRate(observed, run.records),
        starts,
        peakRssMb,
      });
    }
    const result: BenchResult = { ...base, lean, targets: checkTargets({ ...base, lean }), scale, cost };
    const file = join(RESULTS, 'latest.json');
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);

    console.log(`\n${formatTable(result)}\n`);
    console.log(`order statuses: ${JSON.stringify(result.order_statuses)} · payment statuses: ${JSON.stringify(result.payment_statuses)}`);
    console.log(`reconciled order by order: ${result.reconciliation.missing} missing, ${result.reconciliation.mismatched} stored with another quantity or customer`);
    console.log(`stack: started in ${result.stack.startup_ms ?? 'n/a'} ms, peak memory ${result.stack.peak_rss_mb ?? 'n/a'} MiB`);
    if (result.stack.cpu) console.log(`CPU by phase (this machine has ${machine.cpus} cores):\n${formatCpu(result.stack.cpu)}`);
    if (result.lean) console.log(`\n${formatLean(result.lean)}`);
    if (result.run.unavailable) console.log(`n/a: ${result.run.unavailable}`);
    if (scale) console.log(`\nscale (offered load, ${SCALE_STEPS[0]!.duration_s} s per step):\n${formatScale(scale)}`);
    console.log(`\ntargets (issues 4 and 10, for --quick on the local runtime):`);
    for (const check of result.targets) console.log(`  ${check.met ? 'met   ' : 'MISSED'}  ${check.name}: ${check.measured} (target ${check.target})`);
    console.log(`\ncost at ${ORDERS_PER_MONTH.toLocaleString('en-US')} orders a month (${PRICES}):`);
    console.log('available' in cost ? `  n/a: ${cost.reason}` : formatCost(cost));
    console.log('\ndefinitions:');
    for (const [name, text] of Object.entries(DEFINITIONS)) console.log(`  ${name}: ${text}`);
    console.log(`\nwritten: ${file}`);
  } finally {
    resources?.stop();
    observer.close();
    await stopDashboard?.();
    await stack?.stop();
  }
}

/** DynamoDB requests per order by action between two usage reports (the benchmark's own already taken out). */
function requestMix(before: UsageReport, after: UsageReport, orders: number): Record<string, number> {
  const mix = difference(before.dynamodb.requestsByAction, after.dynamodb.requestsByAction);
  const perOrder = (count: number): number => Math.round((count / Math.max(1, orders)) * 1000) / 1000;
  return Object.fromEntries(Object.entries(mix).filter(([, count]) => count > 0).map(([action, count]) => [action, perOrder(count)]));
}

function sumCpu(a: CpuTimes, b: CpuTimes): CpuTimes {
  return Object.fromEntries((Object.keys(a) as Array<keyof CpuTimes>).map((key) => [key, a[key] + b[key]])) as unknown as CpuTimes;
}

function difference(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([key, value]) => [key, value - (before[key] ?? 0)]));
}

/** Accepted orders ÷ (first request → the last one settled, paid or reserved), per second. */
function endToEndRate(observed: Map<string, ObservedOrder>, records: readonly OrderRecord[]): number {
  const orders = records.filter(isAccepted).flatMap((record) => observed.get(record.orderId) ?? []);
  const first = Math.min(...orders.map((order) => order.createdAt));
  const last = Math.max(...orders.map((order) => order.paidAt ?? order.reservedAt ?? order.createdAt));
  return orders.length === 0 || last <= first ? 0 : (orders.length * 1000) / (last - first);
}

(flags.capacity && !flags.help ? runCapacity() : main()).catch((error: Error) => {
  console.error(`bench failed: ${error.stack ?? error.message}`);
  process.exitCode = 1;
});
