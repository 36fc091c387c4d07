/**
 * The capacity model on hand-computed cases, the repository's quota table and template settings,
 * and the reservation simulation's reading of the ASL (its retry policy, conflict loop and
 * transaction), without an engine.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { loadTemplate } from '../../local/template/loader.js';
import { capacityRows, ceiling, formatCapacityTable, LIMITS, withTemplateValues, type Limit, type OrderUse, type Quota, type QuotaTable } from '../../loadtest/capacity-model.js';
import { reservationItems, reservationPolicy, retryDelayMs, type Retrier } from '../../loadtest/reservation-contention.js';

const quota = (id: string, value: number | null, fields: Partial<Quota> = {}): Quota => ({
  id, service: id.split('.')[0]!, name: id, value, unit: 'per second', adjustable: true, source: 'https://docs.aws.amazon.com/x.html', ...fields,
});

const table: QuotaTable = {
  region: 'us-east-1',
  retrieved: '2026-01-01',
  notes: [],
  quotas: [quota('api.rate', 10_000), quota('item.write', 1000), quota('bus.put', 10_000), quota('queue.rate', null), quota('provider.rate', 300)],
};

/** Per order: 3 API requests, 2 write units on the item, 7 events put, and no Express start. */
const use: OrderUse = {
  apiRequests: 3, ordersApiRequests: 1, providerRequests: 1, tableWriteUnits: 9, tableReadUnits: 2, inventoryItemWriteUnits: 2,
  putEventsEntries: 7, ruleInvocations: 5, expressStarts: 0, sqsRequests: 4, pipeEvents: 6, lambdaInvocations: 4, lambdaSeconds: 0.05, apiDestinationCalls: 1,
};

const limits: Limit[] = [
  { quota: 'api.rate', meter: 'apiRequests', kind: 'aws' },
  { quota: 'item.write', meter: 'inventoryItemWriteUnits', kind: 'aws', perSku: true },
  { quota: 'bus.put', meter: 'putEventsEntries', kind: 'aws' },
  { quota: 'queue.rate', meter: 'sqsRequests', kind: 'aws' },
  { quota: 'bus.put', meter: 'expressStarts', kind: 'aws' },
  { quota: 'provider.rate', meter: 'providerRequests', kind: 'external' },
];

describe('capacityRows', () => {
  it('divides each quota by the per-order use, and sets no bound for a quota without a number or a meter an order does not use', () => {
    // Act
    const rows = capacityRows(use, table, limits);

    // Assess
    expect(rows.map((row) => [row.quota.id, row.ordersPerSecond, row.unbounded])).toEqual([
      ['api.rate', 10_000 / 3, undefined],
      ['item.write', 500, undefined],
      ['bus.put', 10_000 / 7, undefined],
      ['queue.rate', null, 'no documented number'],
      ['bus.put', null, 'not used by an order'],
      ['provider.rate', 300, undefined],
    ]);
  });

  it('names the quota id that the table lacks', () => {
    expect(() => capacityRows(use, table, [{ quota: 'missing.quota', meter: 'apiRequests', kind: 'aws' }])).toThrow('missing.quota');
  });
});

describe('ceiling', () => {
  const rows = capacityRows(use, table, limits);

  it('at 1 SKU: the per-SKU item write bound (1,000 WCU / 2 per order) is below every account quota but the provider', () => {
    expect(ceiling(rows, 1, ['aws'])).toMatchObject({ skus: 1, ordersPerSecond: 500, bottlenecks: [{ quota: { id: 'item.write' } }] });
  });

  it('at 100 SKUs: the item bound grows to 50,000/s and PutEvents (10,000 / 7 per order) becomes the bottleneck', () => {
    expect(ceiling(rows, 100, ['aws'])).toMatchObject({ skus: 100, ordersPerSecond: 10_000 / 7, bottlenecks: [{ quota: { id: 'bus.put' } }] });
  });

  it('with every kind of limit, the provider\'s contract bounds both', () => {
    expect(ceiling(rows, 1)).toMatchObject({ ordersPerSecond: 300, bottlenecks: [{ quota: { id: 'provider.rate' } }] });
    expect(ceiling(rows, 100)).toMatchObject({ ordersPerSecond: 300, bottlenecks: [{ quota: { id: 'provider.rate' } }] });
  });

  it('names every quota that allows the lowest rate', () => {
    // Prepare: a quota of 1,000 on a meter of 2 per order allows the item's 500/s too
    const tied = capacityRows(use, { ...table, quotas: [...table.quotas, quota('stage.rate', 1000)] }, [
      ...limits, { quota: 'stage.rate', meter: 'inventoryItemWriteUnits', kind: 'template' },
    ]);

    // Act
    const found = ceiling(tied, 1, ['aws', 'template']);

    // Assess
    expect(found.ordersPerSecond).toBe(500);
    expect(found.bottlenecks.map((row) => row.quota.id)).toEqual(['item.write', 'stage.rate']);
  });

  it('refuses a SKU count that is not a positive whole number, and rows that bound nothing', () => {
    expect(() => ceiling(rows, 0)).toThrow(RangeError);
    expect(() => ceiling(rows, 1.5)).toThrow(RangeError);
    expect(() => ceiling(capacityRows(use, table, [limits[3]!]), 1)).toThrow('No quota sets a bound');
  });
});

describe('formatCapacityTable', () => {
  it('prints one line per row with the bound at 1 SKU and at the given count', () => {
    // Act
    const lines = formatCapacityTable(capacityRows(use, table, limits), 100).split('\n');

    // Assess
    expect(lines).toHaveLength(2 + limits.length);
    expect(lines[3]).toMatch(/item\.write: 1,000 per second .* 2\s+500\s+50,000$/);
    expect(lines[5]).toMatch(/- \(no documented number\)\s+- \(no documented number\)$/);
  });
});

describe('loadtest/quotas.json', () => {
  const quotas = JSON.parse(readFileSync('loadtest/quotas.json', 'utf8')) as QuotaTable;

  it('has every quota the model checks, each with a source, and a note wherever it has no number', () => {
    const ids = new Set(quotas.quotas.map((entry) => entry.id));
    for (const limit of LIMITS) expect(ids).toContain(limit.quota);
    for (const entry of quotas.quotas) {
      expect(entry.source).not.toBe('');
      if (entry.value === null) expect(entry.note).toEqual(expect.any(String));
    }
  });

  it('takes the template\'s own settings from template.yaml: the intake stage throttle and the payment rates\' defaults', () => {
    // Act
    const resolved = withTemplateValues(quotas, loadTemplate('template.yaml'));

    // Assess
    const byId = new Map(resolved.quotas.map((entry) => [entry.id, entry]));
    expect(byId.get('apigateway.ordersStageThrottle')).toMatchObject({ value: 1000, burst: 2000 });
    expect(byId.get('eventbridge.apiDestinationRate')?.value).toBe(5);
    expect(byId.get('provider.rate')?.value).toBe(10);
  });

  it('reads a changed parameter default, not the number the JSON file was written with', () => {
    const resolved = withTemplateValues(quotas, loadTemplate('template.yaml', { parameterOverrides: { ProviderRateLimitPerSecond: '42' } }));
    expect(resolved.quotas.find((entry) => entry.id === 'provider.rate')?.value).toBe(42);
  });
});

/** An ASL with the reservation's shape: a Retry with some defaults left out, and a conflict loop bounded at 3. */
const transactItems = [{
  Update: {
    TableName: '${TableName}',
    Key: { pk: { 'S.$': "States.Format('INVENTORY#{}', $.order.product)" }, sk: { 'S.$': "States.Format('MODEL#{}', $.order.model)" } },
    ExpressionAttributeValues: { ':quantity': { 'N.$': "States.Format('{}', $.order.quantity)" }, ':now': { 'S.$': '$$.State.EnteredTime' }, ':pending': { S: 'PENDING' } },
  },
}];
const definition: Parameters<typeof reservationPolicy>[0] = {
  States: {
    Reserve: {
      Type: 'Task',
      Parameters: { TransactItems: transactItems },
      Retry: [{ ErrorEquals: ['DynamoDb.ThrottlingException'], IntervalSeconds: 2, JitterStrategy: 'FULL' }],
      Catch: [{ ErrorEquals: ['DynamoDb.TransactionCanceledException'], Next: 'Conflict?' }],
    },
    'Conflict?': {
      Type: 'Choice',
      Choices: [{
        And: [{ Variable: '$.cancellation.Cause', StringMatches: '*TransactionConflict*' }, { Variable: '$.conflicts', NumericLessThan: 3 }],
        Next: 'Count',
      }],
    },
    Count: { Type: 'Pass', Next: 'Reserve' },
  },
};

describe('reservationPolicy', () => {
  it('reads the Retry with Step Functions\' defaults, and the conflict loop\'s cause and bound', () => {
    // Act
    const policy = reservationPolicy(definition, 'Reserve');

    // Assess
    expect(policy.retriers).toEqual([{ errors: ['DynamoDb.ThrottlingException'], intervalSeconds: 2, backoffRate: 2, maxAttempts: 3, jitter: 'FULL' }]);
    expect(policy.conflictRetries).toBe(3);
    expect(policy.conflictCause.test('Transaction cancelled [None, TransactionConflict]')).toBe(true);
    expect(policy.conflictCause.test('Transaction cancelled [ConditionalCheckFailed, None]')).toBe(false);
  });

  it('refuses a Catch whose Choice does not lead back to the state', () => {
    const broken = { States: { ...definition.States, Count: { Type: 'Pass', Next: 'Elsewhere' } } };
    expect(() => reservationPolicy(broken, 'Reserve')).toThrow('no bounded conflict loop');
  });

  it('reads the repository\'s ASL: ReserveStock\'s two-item transaction and a bounded conflict loop', () => {
    const policy = reservationPolicy(JSON.parse(readFileSync('statemachine/orders.asl.json', 'utf8')) as Parameters<typeof reservationPolicy>[0]);
    expect(policy.transactItems).toHaveLength(2);
    expect(policy.conflictRetries).toBeGreaterThan(0);
  });
});

describe('retryDelayMs', () => {
  const retrier: Retrier = { errors: [], intervalSeconds: 1, backoffRate: 2, maxAttempts: 5, jitter: 'NONE' };

  it('grows by the backoff rate from the interval, capped by MaxDelaySeconds, and FULL jitter draws below it', () => {
    expect([1, 2, 3].map((retry) => retryDelayMs(retrier, retry))).toEqual([1000, 2000, 4000]);
    expect(retryDelayMs({ ...retrier, maxDelaySeconds: 3 }, 3)).toBe(3000);
    expect(retryDelayMs({ ...retrier, jitter: 'FULL' }, 3, () => 0.25)).toBe(1000);
  });
});

describe('reservationItems', () => {
  it('substitutes the table name and evaluates the .$ fields against the order', () => {
    // Act
    const [item] = reservationItems(transactItems, {
      order: { pk: 'CUSTOMER#1', sk: 'ORDER#1', product: 'MACGUFFIN', model: 'LX', quantity: 3 },
    }, 'Table-1', '2026-01-01T00:00:00Z');

    // Assess
    expect(item).toEqual({
      Update: {
        TableName: 'Table-1',
        Key: { pk: { S: 'INVENTORY#MACGUFFIN' }, sk: { S: 'MODEL#LX' } },
        ExpressionAttributeValues: { ':quantity': { N: '3' }, ':now': { S: '2026-01-01T00:00:00Z' }, ':pending': { S: 'PENDING' } },
      },
    });
  });

  it('refuses a path the evaluator does not know', () => {
    expect(() => reservationItems([{ 'S.$': '$.order.missing' }], { order: { pk: '', sk: '', product: '', model: '', quantity: 1 } }, 'T', '')).toThrow('$.order.missing');
  });
});
