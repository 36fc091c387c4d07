/**
 * The benchmark's arithmetic, free of I/O so it can be tested: percentiles, intake figures from
 * the orders Artillery recorded, reconciliation of those orders with what the stack stored, reserve
 * lag, payment drain and duplicate charges, and the per-step figures of the scale run.
 */

/** One line of the JSONL file loadtest/processor.js writes: an answer, or a request that got none. */
export interface OrderRecord {
  orderId: string | null;
  customerId: string | null;
  quantity: number | null;
  /** HTTP status; null when no answer came (see `error`). */
  status: number | null;
  error?: string;
  /** Request start → last byte of the answer, ms; null without an answer. */
  latencyMs: number | null;
  /** Epoch ms. */
  sentAt: number | null;
  answeredAt: number;
}

/** An order as the stack stored it (epoch ms for every time; undefined where unknown or not reached). */
export interface ObservedOrder {
  orderId: string;
  customerId: string;
  quantity: number;
  status: string;
  paymentStatus: string | null;
  createdAt: number;
  reservedAt?: number | undefined;
  paidAt?: number | undefined;
}

/** The states an order ends in: nothing further will happen to it without an operator. */
export function isSettled(order: ObservedOrder): boolean {
  return order.status === 'READY_FOR_FULFILLMENT' || order.status === 'BACKORDERED' || order.paymentStatus === 'FAILED';
}

/** Parses the processor's JSONL (a trailing partial line, still being written, is left out). */
export function parseRecords(text: string): OrderRecord[] {
  const lines = text.split('\n');
  lines.pop(); // '' after the last newline, or a line not yet complete
  return lines.filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as OrderRecord);
}

/** Nearest-rank percentile (the smallest value with at least p % of the values at or below it); null for no values. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

/** An accepted order: the API answered 2xx with an orderId. */
export function isAccepted(record: OrderRecord): record is OrderRecord & { orderId: string; quantity: number; customerId: string } {
  return record.status !== null && record.status >= 200 && record.status < 300 && record.orderId !== null;
}

/** Intake figures, under the keys of results JSON `orders`. */
export interface IntakeFigures {
  sent: number;
  accepted: number;
  /** Non-2xx answers plus requests that got no answer. */
  errors: number;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  /** Accepted orders per second, from the first request sent to the last answer. */
  throughput_per_s: number | null;
  /** First request sent → last answer, ms. */
  duration_ms: number | null;
  /** Answers by HTTP status ("none" for requests without one). */
  status_codes: Record<string, number>;
}

/** Intake figures of a set of records; latency percentiles are over every answered request. */
export function intakeFigures(records: readonly OrderRecord[]): IntakeFigures {
  const accepted = records.filter(isAccepted).length;
  const latencies = records.flatMap((record) => (record.latencyMs === null ? [] : [record.latencyMs]));
  const starts = records.flatMap((record) => (record.sentAt === null ? [] : [record.sentAt]));
  const duration = starts.length === 0 ? null : lastAnswerAt(records)! - Math.min(...starts);
  const statusCodes: Record<string, number> = {};
  for (const record of records) {
    const key = record.status === null ? 'none' : String(record.status);
    statusCodes[key] = (statusCodes[key] ?? 0) + 1;
  }
  return {
    sent: records.length,
    accepted,
    errors: records.length - accepted,
    p50_ms: percentile(latencies, 50),
    p95_ms: percentile(latencies, 95),
    p99_ms: percentile(latencies, 99),
    throughput_per_s: duration === null || duration <= 0 ? null : round((accepted * 1000) / duration, 1),
    duration_ms: duration,
    status_codes: statusCodes,
  };
}

/** When the last answer (or failure) came, epoch ms; null for no records. */
export function lastAnswerAt(records: readonly OrderRecord[]): number | null {
  return records.length === 0 ? null : Math.max(...records.map((record) => record.answeredAt));
}

/** Units the accepted orders should take from stock (every one of them fits in the starting stock). */
export function expectedDecrement(records: readonly OrderRecord[]): number {
  return records.filter(isAccepted).reduce((sum, record) => sum + record.quantity, 0);
}

/** Accepted orders checked one by one against what the stack stored. */
export interface Reconciliation {
  /** Accepted orders the stack does not have. */
  missing: string[];
  /** Stored with another quantity or customer than was sent. */
  mismatched: string[];
  /** Units the stored, reserved (or further) orders took from stock. */
  reservedUnits: number;
  /** Accepted orders by status (and BACKORDERED / PENDING / …). */
  statuses: Record<string, number>;
  /** Accepted orders by paymentStatus ("none" before the reservation). */
  paymentStatuses: Record<string, number>;
}

const RESERVED_STATUSES = new Set(['RESERVED', 'READY_FOR_FULFILLMENT']);

/** Matches each accepted order with the stored one by orderId. */
export function reconcile(records: readonly OrderRecord[], observed: ReadonlyMap<string, ObservedOrder>): Reconciliation {
  const result: Reconciliation = { missing: [], mismatched: [], reservedUnits: 0, statuses: {}, paymentStatuses: {} };
  for (const record of records.filter(isAccepted)) {
    const order = observed.get(record.orderId);
    if (order === undefined) {
      result.missing.push(record.orderId);
      continue;
    }
    if (order.quantity !== record.quantity || order.customerId !== record.customerId) result.mismatched.push(record.orderId);
    if (RESERVED_STATUSES.has(order.status)) result.reservedUnits += order.quantity;
    result.statuses[order.status] = (result.statuses[order.status] ?? 0) + 1;
    const payment = order.paymentStatus ?? 'none';
    result.paymentStatuses[payment] = (result.paymentStatuses[payment] ?? 0) + 1;
  }
  return result;
}

/** The accepted orders as stored (those the stack has). */
export function acceptedOrders(records: readonly OrderRecord[], observed: ReadonlyMap<string, ObservedOrder>): ObservedOrder[] {
  return records.filter(isAccepted).flatMap((record) => observed.get(record.orderId) ?? []);
}

/** Reserve lag = reservedAt − createdAt, per reserved order. */
export function reserveLags(orders: readonly ObservedOrder[]): number[] {
  return orders.flatMap((order) => (order.reservedAt === undefined ? [] : [order.reservedAt - order.createdAt]));
}

/** Payment drain figures, under the keys of results JSON `payments`. */
export interface Drain {
  /** First payment enqueued (the first reservedAt) → last paidAt, seconds. */
  drain_s: number | null;
  /** drain_s ÷ (payments ÷ rate limit): 1.0 is the provider's limit used to the full. */
  drain_ratio: number | null;
}

/** How long the paid orders took to drain through a provider limited to `ratePerSecond`. */
export function drain(orders: readonly ObservedOrder[], ratePerSecond: number): Drain {
  const paid = orders.filter((order) => order.paidAt !== undefined);
  const reservedAt = orders.flatMap((order) => (order.reservedAt === undefined ? [] : [order.reservedAt]));
  if (paid.length === 0 || reservedAt.length === 0) return { drain_s: null, drain_ratio: null };
  const seconds = (Math.max(...paid.map((order) => order.paidAt!)) - Math.min(...reservedAt)) / 1000;
  return { drain_s: round(seconds, 2), drain_ratio: round(seconds / (paid.length / ratePerSecond), 3) };
}

/** Order ids charged more than once in the provider's ledger. */
export function duplicateCharges(ledger: ReadonlyArray<{ orderId: string }>): string[] {
  const counts = new Map<string, number>();
  for (const { orderId } of ledger) counts.set(orderId, (counts.get(orderId) ?? 0) + 1);
  return [...counts].filter(([, count]) => count > 1).map(([orderId]) => orderId);
}

/** One step of the scale run: a constant offered load. */
export interface ScaleStep {
  offered_per_s: number;
  duration_s: number;
}

/** What one scale step achieved. */
export interface ScaleFigures extends ScaleStep {
  sent: number;
  accepted: number;
  /** Accepted orders per second over the step (first request sent → last answer of the step's requests). */
  achieved_per_s: number | null;
  /** Share of the step's requests not accepted, %. */
  error_rate_pct: number | null;
  intake_p99_ms: number | null;
  /** Accepted orders found reserved (or further) when the run stopped waiting. */
  reserved: number;
  /** Over the reserved orders only: a lower bound when `reserved` < `accepted`. */
  reserve_lag_p99_ms: number | null;
}

/**
 * Splits the records into consecutive steps by when each request was sent (Artillery starts the
 * steps back to back, from the first request on) and computes each step's figures.
 */
export function scaleFigures(
  records: readonly OrderRecord[],
  steps: readonly ScaleStep[],
  observed: ReadonlyMap<string, ObservedOrder>,
): ScaleFigures[] {
  const sent = records.filter((record): record is OrderRecord & { sentAt: number } => record.sentAt !== null);
  const start = Math.min(...sent.map((record) => record.sentAt));
  let stepStart = start;
  return steps.map((step, index) => {
    const stepEnd = index === steps.length - 1 ? Infinity : stepStart + step.duration_s * 1000;
    const inStep = sent.filter((record) => record.sentAt >= stepStart && record.sentAt < stepEnd);
    stepStart = stepEnd;
    const intake = intakeFigures(inStep);
    const lags = reserveLags(acceptedOrders(inStep, observed));
    return {
      ...step,
      sent: intake.sent,
      accepted: intake.accepted,
      achieved_per_s: intake.throughput_per_s,
      error_rate_pct: intake.sent === 0 ? null : round((intake.errors * 100) / intake.sent, 2),
      intake_p99_ms: intake.p99_ms,
      reserved: lags.length,
      reserve_lag_p99_ms: percentile(lags, 99),
    };
  });
}

/** Rounds to `digits` decimals. */
export function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
