/**
 * The benchmark's pure parts: percentiles, intake figures, order-by-order reconciliation, reserve
 * lag, drain ratio, duplicate charges, scale steps, and the keys of the results JSON — on
 * hand-made records, so no figure depends on the machine's speed.
 */
import { describe, expect, it } from '@jest/globals';
import { buildResult, checkTargets, cpuPhase, formatTable, withoutOwnReads } from '../../loadtest/report.js';
import type { UsageReport } from '../../local/services/usage.js';
import {
  drain,
  duplicateCharges,
  expectedDecrement,
  intakeFigures,
  parseRecords,
  percentile,
  reconcile,
  reserveLags,
  scaleFigures,
  type ObservedOrder,
  type OrderRecord,
} from '../../loadtest/stats.js';

function answer(orderId: string, quantity: number, latencyMs: number, sentAt: number, status = 202): OrderRecord {
  return { orderId: status === 202 ? orderId : null, customerId: `c-${orderId}`, quantity, status, latencyMs, sentAt, answeredAt: sentAt + latencyMs };
}

function stored(orderId: string, quantity: number, times: { createdAt: number; reservedAt?: number; paidAt?: number }, status = 'READY_FOR_FULFILLMENT'): ObservedOrder {
  return { orderId, customerId: `c-${orderId}`, quantity, status, paymentStatus: times.paidAt === undefined ? 'QUEUED' : 'PAID', ...times };
}

describe('percentile', () => {
  it('is nearest-rank: the smallest value with at least p % of the values at or below it', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted on purpose
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([], 50)).toBeNull();
  });
});

describe('intake figures', () => {
  it('counts non-2xx answers and requests without an answer as errors, and computes throughput over the whole run', () => {
    // Prepare: 3 accepted, one 503, one request that got no answer; first sent at 1000, last answer at 3000.
    const records: OrderRecord[] = [
      answer('a', 2, 10, 1000),
      answer('b', 3, 20, 1500),
      answer('c', 5, 30, 2970),
      answer('d', 1, 40, 2000, 503),
      { orderId: null, customerId: 'c-e', quantity: 4, status: null, error: 'ETIMEDOUT', latencyMs: null, sentAt: 2500, answeredAt: 2600 },
    ];

    // Act
    const figures = intakeFigures(records);

    // Assess
    expect(figures).toMatchObject({ sent: 5, accepted: 3, errors: 2, p50_ms: 20, p99_ms: 40, duration_ms: 2000, throughput_per_s: 1.5 });
    expect(figures.status_codes).toEqual({ 202: 3, 503: 1, none: 1 });
    expect(expectedDecrement(records)).toBe(10);
  });

  it('reads the processor\'s JSONL, leaving out a line still being written', () => {
    const text = `${JSON.stringify(answer('a', 2, 10, 1000))}\n${JSON.stringify(answer('b', 3, 10, 1000))}\n{"orderId":"c","cust`;
    expect(parseRecords(text).map((record) => record.orderId)).toEqual(['a', 'b']);
  });
});

describe('reconciliation', () => {
  it('matches every accepted order by id: missing ones, other quantities, and the units actually reserved', () => {
    // Prepare
    const records = [answer('a', 2, 10, 0), answer('b', 3, 10, 0), answer('c', 5, 10, 0), answer('x', 9, 10, 0, 429)];
    const observed = new Map([
      ['a', stored('a', 2, { createdAt: 0 }, 'RESERVED')],
      ['b', stored('b', 4, { createdAt: 0 }, 'PENDING')],
    ]);

    // Act
    const result = reconcile(records, observed);

    // Assess: c never reached the table; b was stored with another quantity and is not reserved.
    expect(result.missing).toEqual(['c']);
    expect(result.mismatched).toEqual(['b']);
    expect(result.reservedUnits).toBe(2);
    expect(result.statuses).toEqual({ RESERVED: 1, PENDING: 1 });
    expect(result.paymentStatuses).toEqual({ QUEUED: 2 });
  });
});

describe('payments', () => {
  it('reserve lag is reservedAt − createdAt per reserved order', () => {
    expect(reserveLags([stored('a', 1, { createdAt: 100, reservedAt: 130 }), stored('b', 1, { createdAt: 100 })])).toEqual([30]);
  });

  it('drain runs from the first reservation to the last payment, and its ratio compares it with orders ÷ rate', () => {
    // Prepare: 10 orders at 5/s should take 2 s; they took 2.1 s from the first reservedAt to the last paidAt.
    const orders = Array.from({ length: 10 }, (_, i) => stored(`o${i}`, 1, { createdAt: 0, reservedAt: 1000 + i, paidAt: 1200 + i * 200 }));
    orders[9]!.paidAt = 3100;

    // Act
    const result = drain(orders, 5);

    // Assess
    expect(result).toEqual({ drain_s: 2.1, drain_ratio: 1.05 });
    expect(drain([stored('a', 1, { createdAt: 0, reservedAt: 5 })], 5)).toEqual({ drain_s: null, drain_ratio: null });
  });

  it('a duplicate charge is an orderId charged more than once in the ledger', () => {
    expect(duplicateCharges([{ orderId: 'a' }, { orderId: 'b' }, { orderId: 'a' }, { orderId: 'c' }])).toEqual(['a']);
  });
});

describe('scale steps', () => {
  it('splits the requests by when they were sent into consecutive steps', () => {
    // Prepare: step 1 (10/s for 1 s) from t = 0, step 2 (20/s for 1 s) from t = 1000.
    const records = [answer('a', 1, 10, 0), answer('b', 1, 10, 500), answer('c', 1, 30, 1000), answer('d', 1, 40, 1400, 503), answer('e', 1, 50, 1900)];
    const observed = new Map(['a', 'b', 'c', 'e'].map((id) => [id, stored(id, 1, { createdAt: 0, reservedAt: id === 'e' ? 200 : 100 })]));

    // Act
    const [first, second] = scaleFigures(records, [{ offered_per_s: 10, duration_s: 1 }, { offered_per_s: 20, duration_s: 1 }], observed);

    // Assess
    expect(first).toMatchObject({
      offered_per_s: 10, sent: 2, accepted: 2, error_rate_pct: 0, intake_p99_ms: 10, reserved: 2, reserve_lag_p99_ms: 100, achieved_per_s: 3.9,
    });
    expect(second).toMatchObject({ offered_per_s: 20, sent: 3, accepted: 2, error_rate_pct: 33.33, intake_p99_ms: 50, reserved: 2, reserve_lag_p99_ms: 200 });
  });
});

describe('the results JSON', () => {
  it('has the keys the issue asks for, null where a stack reached over HTTP cannot tell', () => {
    // Prepare
    const records = [answer('a', 2, 10, 1000), answer('b', 3, 20, 1010)];
    const observed = new Map([
      ['a', stored('a', 2, { createdAt: 1000, reservedAt: 1050, paidAt: 1200 })],
      ['b', stored('b', 3, { createdAt: 1010, reservedAt: 1070, paidAt: 1400 })],
    ]);
    const context = {
      run: { mode: 'quick', stack: 'test', command: 'npm run bench -- --quick', started_at: '2026-01-01T00:00:00.000Z', unavailable: null, definitions: {} },
      machine: { cpus: 2, cpu_model: 'test', memory_gib: 24, node: 'v22', platform: 'linux', load_average: { before: [0, 0, 0], after: [0, 0, 0] } },
      stack: { startup_ms: 1, peak_rss_mb: 1, cpu: null },
      artillery: { exit_code: 0, checks: [] },
      stockRead: 'test',
    };
    const measured = { records, observed, stockBefore: 100, stockAfter: 95, settledAt: 1100, rateLimitPerSecond: 5 };

    // Act
    const local = buildResult({ ...measured, ledger: [{ orderId: 'a' }, { orderId: 'b' }], deadLetters: 0, provider429: 0 }, context);
    const overHttp = buildResult({ ...measured, rateLimitPerSecond: null, ledger: undefined, deadLetters: undefined, provider429: undefined }, context);

    // Assess
    expect(Object.keys(local.orders)).toEqual(expect.arrayContaining(['sent', 'accepted', 'errors', 'p50_ms', 'p95_ms', 'p99_ms', 'throughput_per_s']));
    expect(local.inventory).toMatchObject({ expected_decrement: 5, observed_decrement: 5, settle_ms: 70 });
    expect(local.reserve_lag_ms).toEqual({ p50: 50, p99: 60 });
    expect(local.payments).toEqual({ rate_limit_per_s: 5, confirmed: 2, drain_s: 0.35, drain_ratio: 0.875, provider_429: 0, dlq: 0, duplicate_charges: 0 });
    expect(overHttp.payments).toEqual({
      rate_limit_per_s: null, confirmed: 2, drain_s: null, drain_ratio: null, provider_429: null, dlq: null, duplicate_charges: null,
    });
    expect(checkTargets(local).every((check) => check.met)).toBe(true);
    expect(checkTargets(overHttp).find((check) => check.name === 'drain ratio')?.met).toBe(false);
    expect(formatTable(local)).toContain('write-up v1');
  });

  it('CPU per phase is the difference of two readings, and its share of one core', () => {
    const before = { main_thread_s: 1, other_threads_s: 2, dynamodb_local_s: 3, artillery_s: 0 };
    const after = { main_thread_s: 6, other_threads_s: 4.5, dynamodb_local_s: 3.5, artillery_s: 2 };
    expect(cpuPhase(before, after, 10_000)).toEqual({
      wall_s: 10,
      cpu_s: { main_thread_s: 5, other_threads_s: 2.5, dynamodb_local_s: 0.5, artillery_s: 2 },
      core_pct: { main_thread_s: 50, other_threads_s: 25, dynamodb_local_s: 5, artillery_s: 20 },
    });
  });

  it('the benchmark\'s own table reads are taken out of the usage the orders are billed for', () => {
    const usage = { dynamodb: { readRequestUnits: 10, byTable: { WimsTable: { readRequestUnits: 8, writeRequestUnits: 3 } } } } as unknown as UsageReport;
    const result = withoutOwnReads(usage, { WimsTable: 6 });
    expect(result.dynamodb.readRequestUnits).toBe(4);
    expect(result.dynamodb.byTable.WimsTable).toEqual({ readRequestUnits: 2, writeRequestUnits: 3 });
    expect(usage.dynamodb.readRequestUnits).toBe(10);
  });
});
