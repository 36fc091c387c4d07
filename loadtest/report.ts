/**
 * The benchmark's results: the JSON written to loadtest/results/latest.json, the targets
 * checked against it, and the side-by-side table with the write-up's figures.
 */
import type { UsageReport } from '../local/services/usage.js';
import { formatCostTable, monthlyCost, perOrder, type MonthlyCost, type PriceTable } from './cost.js';
import type { CpuTimes } from './resources.js';
import { leanTargets, type LeanFigures, type TargetCheck } from './lean.js';
import {
  acceptedOrders,
  drain,
  duplicateCharges,
  expectedDecrement,
  intakeFigures,
  lastAnswerAt,
  percentile,
  reconcile,
  reserveLags,
  type IntakeFigures,
  type ObservedOrder,
  type OrderRecord,
  type ScaleFigures,
} from './stats.js';

/** How each figure is measured; printed with the results and kept in the JSON. */
export const DEFINITIONS: Record<string, string> = {
  latency: 'request start → last byte of the answer, per request, as Artillery\'s HTTP client timed it; percentiles are nearest-rank over every answered request',
  throughput_per_s: 'accepted orders ÷ (first request sent → last answer)',
  settle_ms: 'last HTTP answer → first stock read showing the full expected decrement (stock is read every 5 ms from the moment the last answer is recorded)',
  expected_decrement: 'sum of the quantities of the accepted (2xx) orders; observed_decrement = stock before − stock after everything settled',
  reserve_lag_ms: 'reservedAt − createdAt per order (createdAt: the API\'s request time; reservedAt: when the workflow entered its reservation step)',
  drain_s: 'first payment enqueued (the first reservedAt) → last paidAt (the webhook\'s write)',
  drain_ratio: 'drain_s ÷ (paid orders ÷ rate limit): 1.0 uses the provider\'s limit to the full',
  provider_429: '429 answers of the payment provider\'s API',
  dlq: 'payments dead-lettered: messages left in the payments DLQ plus orders its consumer marked paymentStatus FAILED',
  duplicate_charges: 'orderIds with more than one charge in the provider\'s ledger',
  cpu: 'CPU seconds (user + system, from /proc) per phase — intake: Artillery starting → last answer; settle: last answer → every order settled — and core_pct = CPU ÷ wall time (100 = one core busy)',
  peak_rss_mb: 'largest sum of the resident memory of the stack\'s processes (the Node runtime with its worker threads, DynamoDB Local\'s JVM), sampled every 500 ms',
  'lean.cpu_ms_per_order': 'the whole run\'s CPU (intake + settle) ÷ accepted orders; main thread split by the service owning each profile sample (local/services/<service>/, or the engine it embeds; samples in no service by the plumbing they are in: HTTP and sockets, the AWS SDK, fetch, other), Lambda by function (each sandbox thread\'s CPU during invocations), service threads (the intake thread, hosting API Gateway and the metering proxy, as it reports its CPU), helper threads (the process\'s other threads), DynamoDB Local; pipeline = all of these without the benchmark\'s own main-thread samples and its estimated DynamoDB reads',
  'lean.memory_mb': 'idle: resident memory of node bin/wims.js up\'s whole process tree, 3 s after its warm start; peak: peak_rss_mb of the in-process run',
  'lean.ready_ms': 'node bin/wims.js up spawned → its "ready" line; cold: empty cache (local/cache.ts) and state folder; warm: started again with nothing changed',
  'lean.physical_limit': 'DynamoDB Local alone, in memory, driven by 10 closed-loop clients each replaying one order\'s requests by action (the run\'s mix, the benchmark\'s reads taken out); stack_orders_per_s: accepted orders ÷ (first createdAt → last paidAt); stack_to_limit: their ratio',
};

/** What a finished run measured, before it is shaped into the results JSON. */
export interface RunMeasurements {
  records: OrderRecord[];
  observed: Map<string, ObservedOrder>;
  stockBefore: number;
  stockAfter: number;
  /** Epoch ms of the first stock read showing the full decrement; null if it never did. */
  settledAt: number | null;
  /** Payments rate limit of the stack (null when unknown: a stack reached over HTTP). */
  rateLimitPerSecond: number | null;
  ledger: Array<{ orderId: string }> | undefined;
  deadLetters: number | undefined;
  provider429: number | undefined;
}

/** The results JSON (loadtest/results/latest.json). */
export interface BenchResult {
  run: { mode: string; stack: string; command: string; started_at: string; unavailable: string | null; definitions: Record<string, string> };
  machine: {
    cpus: number;
    cpu_model: string;
    memory_gib: number;
    node: string;
    platform: string;
    /** 1, 5 and 15-minute load averages before and after the run: a shared machine shows here. */
    load_average: { before: number[]; after: number[] };
  };
  stack: { startup_ms: number | null; peak_rss_mb: number | null; cpu: { intake: CpuPhase; settle: CpuPhase } | null };
  orders: IntakeFigures;
  inventory: { read: string; stock_before: number; stock_after: number; expected_decrement: number; observed_decrement: number; settle_ms: number | null };
  reconciliation: { missing: number; mismatched: number; reserved_units: number };
  reserve_lag_ms: { p50: number | null; p99: number | null };
  payments: {
    rate_limit_per_s: number | null;
    confirmed: number;
    drain_s: number | null;
    drain_ratio: number | null;
    provider_429: number | null;
    dlq: number | null;
    duplicate_charges: number | null;
  };
  order_statuses: Record<string, number>;
  payment_statuses: Record<string, number>;
  artillery: { exit_code: number | null; checks: string[] };
  /** The lean runtime's figures (in-process runs only). */
  lean: LeanFigures | null;
  targets: TargetCheck[];
  scale: ScaleFigures[] | null;
  cost: CostResult | { available: false; reason: string };
}

/** Shapes a run's measurements into the results JSON (targets, scale and cost are added by the caller). */
export function buildResult(
  m: RunMeasurements,
  context: Pick<BenchResult, 'run' | 'machine' | 'stack' | 'artillery'> & { stockRead: string },
): Omit<BenchResult, 'targets' | 'scale' | 'cost' | 'lean'> {
  const orders = acceptedOrders(m.records, m.observed);
  const reconciliation = reconcile(m.records, m.observed);
  const lags = reserveLags(orders);
  const lastAnswer = lastAnswerAt(m.records);
  const internal = m.ledger !== undefined;
  const drained = internal && m.rateLimitPerSecond !== null ? drain(orders, m.rateLimitPerSecond) : { drain_s: null, drain_ratio: null };
  const failedPayments = reconciliation.paymentStatuses.FAILED ?? 0;
  return {
    run: context.run,
    machine: context.machine,
    stack: context.stack,
    orders: intakeFigures(m.records),
    inventory: {
      read: context.stockRead,
      stock_before: m.stockBefore,
      stock_after: m.stockAfter,
      expected_decrement: expectedDecrement(m.records),
      observed_decrement: m.stockBefore - m.stockAfter,
      settle_ms: m.settledAt === null || lastAnswer === null ? null : Math.max(0, m.settledAt - lastAnswer),
    },
    reconciliation: { missing: reconciliation.missing.length, mismatched: reconciliation.mismatched.length, reserved_units: reconciliation.reservedUnits },
    reserve_lag_ms: { p50: percentile(lags, 50), p99: percentile(lags, 99) },
    payments: {
      rate_limit_per_s: m.rateLimitPerSecond,
      confirmed: reconciliation.paymentStatuses.PAID ?? 0,
      ...drained,
      provider_429: m.provider429 ?? null,
      dlq: m.deadLetters === undefined ? null : m.deadLetters + failedPayments,
      duplicate_charges: m.ledger === undefined ? null : duplicateCharges(m.ledger).length,
    },
    order_statuses: reconciliation.statuses,
    payment_statuses: reconciliation.paymentStatuses,
    artillery: context.artillery,
  };
}

/** CPU used during one phase of a run, by where it went. */
export interface CpuPhase {
  wall_s: number;
  cpu_s: CpuTimes;
  /** CPU ÷ wall time, %: 100 is one core busy all along. */
  core_pct: Record<keyof CpuTimes, number>;
}

/** The CPU used between two readings `wallMs` apart. */
export function cpuPhase(before: CpuTimes, after: CpuTimes, wallMs: number): CpuPhase {
  const keys = Object.keys(before) as Array<keyof CpuTimes>;
  const used = Object.fromEntries(keys.map((key) => [key, Math.round((after[key] - before[key]) * 100) / 100])) as unknown as CpuTimes;
  const share = Object.fromEntries(keys.map((key) => [key, wallMs <= 0 ? 0 : Math.round((used[key] * 100_000) / wallMs)])) as Record<keyof CpuTimes, number>;
  return { wall_s: Math.round(wallMs / 100) / 10, cpu_s: used, core_pct: share };
}

/** One line per phase: where the CPU went. */
export function formatCpu(cpu: { intake: CpuPhase; settle: CpuPhase }): string {
  return Object.entries(cpu)
    .map(([phase, { wall_s, core_pct }]) =>
      `  ${phase.padEnd(6)} ${String(wall_s).padStart(6)} s: main thread ${core_pct.main_thread_s} %, other threads ${core_pct.other_threads_s} %, DynamoDB Local ${core_pct.dynamodb_local_s} %, Artillery ${core_pct.artillery_s} % of a core`)
    .join('\n');
}

/** The orders a month the cost is given for: the write-up's "1 million units moved every month". */
export const ORDERS_PER_MONTH = 1_000_000;
/** The write-up's estimate (AWS Pricing Calculator): $222.84 for 12 months at 1M units a month. */
const WRITE_UP_TWELVE_MONTHS_USD = 222.84;

/** What the orders of a run cost on AWS, scaled to {@link ORDERS_PER_MONTH}. */
export interface CostResult {
  orders_measured: number;
  orders_per_month: number;
  /** Billable units per order, per service (the growth of `stack.usage()` over the run ÷ orders). */
  per_order: UsageReport;
  /** Every unit billed (no free tier), line by line. */
  monthly: MonthlyCost;
  monthly_usd: number;
  /** The same with the free tiers deducted. */
  monthly_usd_with_free_tier: number;
  twelve_months_usd: number;
  write_up: { twelve_months_usd: number; monthly_usd: number };
}

/** The usage report without the table reads the benchmark itself made (read units by table logical id, requests by action). */
export function withoutOwnReads(usage: UsageReport, ownReads: Record<string, number>, ownRequests: Record<string, number> = {}): UsageReport {
  const result = structuredClone(usage);
  for (const [action, count] of Object.entries(ownRequests)) {
    result.dynamodb.requestsByAction[action] = (result.dynamodb.requestsByAction[action] ?? 0) - count;
  }
  for (const [table, units] of Object.entries(ownReads)) {
    result.dynamodb.readRequestUnits -= units;
    const perTable = result.dynamodb.byTable[table];
    if (perTable !== undefined) perTable.readRequestUnits -= units;
  }
  return result;
}

/** The cost of `orders` orders that took the stack from usage `before` to `after`, at {@link ORDERS_PER_MONTH}. */
export function costOf(before: UsageReport, after: UsageReport, orders: number, prices: PriceTable): CostResult {
  const usage = perOrder(before, after, orders);
  const monthly = monthlyCost(usage, ORDERS_PER_MONTH, prices);
  const round = (usd: number): number => Math.round(usd * 100) / 100;
  return {
    orders_measured: orders,
    orders_per_month: ORDERS_PER_MONTH,
    per_order: usage,
    monthly,
    monthly_usd: round(monthly.totalUsd),
    monthly_usd_with_free_tier: round(monthlyCost(usage, ORDERS_PER_MONTH, prices, { freeTier: true }).totalUsd),
    twelve_months_usd: round(monthly.totalUsd * 12),
    write_up: { twelve_months_usd: WRITE_UP_TWELVE_MONTHS_USD, monthly_usd: round(WRITE_UP_TWELVE_MONTHS_USD / 12) },
  };
}

/** The cost table and its comparison with the write-up's estimate. */
export function formatCost(cost: CostResult): string {
  return [
    formatCostTable(cost.monthly, cost.orders_per_month),
    `12 months: $${cost.twelve_months_usd.toFixed(2)} ($${cost.monthly_usd_with_free_tier.toFixed(2)} a month after free tiers) — the write-up estimated $${cost.write_up.twelve_months_usd.toFixed(2)} ($${cost.write_up.monthly_usd.toFixed(2)} a month)`,
  ].join('\n');
}

/** The targets for `--quick` on the local runtime, checked against a result. */
export function checkTargets(r: Omit<BenchResult, 'targets' | 'scale' | 'cost' | 'lean'> & { lean?: LeanFigures | null }): TargetCheck[] {
  const atMost = (value: number | null, limit: number): boolean => value !== null && value <= limit;
  const show = (value: number | null, unit = ''): string => (value === null ? 'n/a' : `${value}${unit}`);
  return [
    { name: 'accepted', target: `${r.orders.sent}/${r.orders.sent}, 0 errors`, measured: `${r.orders.accepted}/${r.orders.sent}, ${r.orders.errors} errors`, met: r.orders.errors === 0 && r.orders.sent > 0 },
    { name: 'intake p99', target: '≤ 50 ms', measured: show(r.orders.p99_ms, ' ms'), met: atMost(r.orders.p99_ms, 50) },
    { name: 'inventory settled after the last answer', target: '≤ 250 ms', measured: show(r.inventory.settle_ms, ' ms'), met: atMost(r.inventory.settle_ms, 250) && r.inventory.observed_decrement === r.inventory.expected_decrement },
    { name: 'reserve lag p99', target: '≤ 250 ms', measured: show(r.reserve_lag_ms.p99, ' ms'), met: atMost(r.reserve_lag_ms.p99, 250) },
    { name: 'drain ratio', target: '≤ 1.05', measured: show(r.payments.drain_ratio), met: atMost(r.payments.drain_ratio, 1.05) },
    {
      name: 'provider 429s / DLQ / duplicate charges',
      target: '0 / 0 / 0',
      measured: `${show(r.payments.provider_429)} / ${show(r.payments.dlq)} / ${show(r.payments.duplicate_charges)}`,
      met: r.payments.provider_429 === 0 && r.payments.dlq === 0 && r.payments.duplicate_charges === 0,
    },
    ...(r.lean ? leanTargets(r.lean) : []),
  ];
}

/** The write-up's figures (its benchmark section). */
const WRITE_UP = {
  v1: { answered: '1000 (613 × 200)', time: '2:05', errors: '38.7 % (387 × 429)', throughput: '8.0/s', settle: 'synchronous', rate: '5/s', drain: 'in the request', provider429: '387, to customers', dlq: 'none', duplicates: 'not checked' },
  v2: { answered: '1000/1000 × 200', time: '31–40 s', errors: '0', throughput: '25–32/s', settle: '≤ 500 ms', rate: '5/s', drain: '≥ 200 s (5/s)', provider429: 'not reported', dlq: 'empty', duplicates: 'not checked' },
};

/** The side-by-side table: write-up v1, write-up v2, this run. */
export function formatTable(r: Omit<BenchResult, 'targets' | 'scale' | 'cost' | 'lean'>): string {
  const n = (value: number | null, unit = ''): string => (value === null ? 'n/a' : `${value}${unit}`);
  const seconds = (ms: number | null): string => (ms === null ? 'n/a' : `${(ms / 1000).toFixed(1)} s`);
  const errorRate = r.orders.sent === 0 ? 'n/a' : `${((r.orders.errors * 100) / r.orders.sent).toFixed(1)} %`;
  const rows: Array<[string, string, string, string]> = [
    ['', 'write-up v1', 'write-up v2', `this run (${r.run.mode})`],
    ['orders answered', WRITE_UP.v1.answered, WRITE_UP.v2.answered, `${r.orders.accepted}/${r.orders.sent} × ${Object.keys(r.orders.status_codes).join('/')}`],
    ['time for the orders', WRITE_UP.v1.time, WRITE_UP.v2.time, seconds(r.orders.duration_ms)],
    ['error rate', WRITE_UP.v1.errors, WRITE_UP.v2.errors, errorRate],
    ['intake throughput', WRITE_UP.v1.throughput, WRITE_UP.v2.throughput, n(r.orders.throughput_per_s, '/s')],
    ['intake p50 / p95 / p99', 'not reported', 'not reported', `${n(r.orders.p50_ms)} / ${n(r.orders.p95_ms)} / ${n(r.orders.p99_ms)} ms`],
    ['inventory: expected / observed', 'not reconciled', '5628 / 5628', `${r.inventory.expected_decrement} / ${r.inventory.observed_decrement}`],
    ['inventory settled after last answer', WRITE_UP.v1.settle, WRITE_UP.v2.settle, n(r.inventory.settle_ms, ' ms')],
    ['reserve lag p50 / p99', 'not reported', 'not reported', `${n(r.reserve_lag_ms.p50)} / ${n(r.reserve_lag_ms.p99)} ms`],
    ['payments rate limit', WRITE_UP.v1.rate, WRITE_UP.v2.rate, n(r.payments.rate_limit_per_s, '/s')],
    ['payments confirmed', '613', 'not checked', `${r.payments.confirmed}/${r.orders.accepted}`],
    ['payments drained in (ratio)', WRITE_UP.v1.drain, WRITE_UP.v2.drain, `${n(r.payments.drain_s, ' s')} (${n(r.payments.drain_ratio)})`],
    ['provider 429s', WRITE_UP.v1.provider429, WRITE_UP.v2.provider429, n(r.payments.provider_429)],
    ['payments DLQ', WRITE_UP.v1.dlq, WRITE_UP.v2.dlq, n(r.payments.dlq)],
    ['duplicate charges', WRITE_UP.v1.duplicates, WRITE_UP.v2.duplicates, n(r.payments.duplicate_charges)],
  ];
  const widths = [0, 1, 2, 3].map((column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n');
}

/** The scale run as a table. */
export function formatScale(steps: readonly ScaleFigures[]): string {
  const n = (value: number | null): string => (value === null ? 'n/a' : String(value));
  const rows = [
    ['offered/s', 'sent', 'accepted', 'achieved/s', 'errors %', 'intake p99 ms', 'reserved', 'reserve lag p99 ms'],
    ...steps.map((step) => [
      String(step.offered_per_s), String(step.sent), String(step.accepted), n(step.achieved_per_s), n(step.error_rate_pct), n(step.intake_p99_ms),
      String(step.reserved), `${step.reserved < step.accepted ? '≥ ' : ''}${n(step.reserve_lag_p99_ms)}`,
    ]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => cell.padStart(widths[column]!)).join('  ')).join('\n');
}
