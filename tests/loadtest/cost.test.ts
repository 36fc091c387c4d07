/**
 * The cost model on hand-computed cases, and the shape of the repository's price table.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { formatCostTable, monthlyCost, perOrder, type PriceTable } from '../../loadtest/cost.js';
import type { UsageReport } from '../../local/services/usage.js';

/** A report with every counter at 0, changed where given. */
function report(change: (usage: UsageReport) => void = () => undefined): UsageReport {
  const usage: UsageReport = {
    apiGateway: { restRequests: 0, byApi: {} },
    dynamodb: {
      writeRequestUnits: 0, readRequestUnits: 0, byTable: {}, failedConditionalWrites: 0, cancelledTransactions: 0,
      streamsReadRequests: 0, streamsEmptyReadRequests: 0, requestsByAction: {},
    },
    sqs: { requests: 0, emptyReceives: 0 },
    sns: { publishes: 0, emailDeliveries: 0 },
    eventBridge: {
      customEvents: 0, apiDestinationInvocations: 0, archivedEvents: 0, archiveProcessedBytes: 0, replayedEvents: 0, schemaDiscoveryEvents: 0,
    },
    pipes: { requests: 0, byPipe: {} },
    stepFunctions: { expressRequests: 0, expressGbSeconds: 0, byStateMachine: {} },
    lambda: { requests: 0, gbSeconds: { arm64: 0, x86_64: 0 }, byFunction: {} },
  };
  change(usage);
  return usage;
}

const price = (fields: Partial<PriceTable['prices'][number]> & Pick<PriceTable['prices'][number], 'meter' | 'usdPerUnit'>) => ({
  service: 'S', unit: 'request', source: 'https://aws.amazon.com/x/pricing/', asOf: '2026-01-01', ...fields,
});

const table: PriceTable = {
  region: 'us-east-1',
  currency: 'USD',
  retrieved: '2026-01-01',
  notes: [],
  prices: [
    price({ service: 'Lambda', meter: 'lambda.requests', usdPerUnit: 0.0000002, freeTier: { unitsPerMonth: 1_000_000, note: '' } }),
    price({ service: 'EventBridge', meter: 'eventBridge.archiveProcessedBytes', unit: 'GB', meterUnitsPerUnit: 1024 ** 3, usdPerUnit: 0.1 }),
    price({ service: 'SNS', meter: 'sns.publishes', usdPerUnit: null }),
    price({ service: 'SNS', meter: 'sns.emailDeliveries', usdPerUnit: 0.00002, freeTier: { unitsPerMonth: null, note: '' } }),
  ],
};

/** Per order: 7 Lambda requests, a millionth of a GB archived, half a publish, a thousandth of an e-mail. */
const usagePerOrder = report((usage) => {
  usage.lambda.requests = 7;
  usage.eventBridge.archiveProcessedBytes = 1024 ** 3 / 1_000_000;
  usage.sns.publishes = 0.5;
  usage.sns.emailDeliveries = 0.001;
});

describe('perOrder', () => {
  it('divides the growth of every counter by the orders, counting new keys from 0 and keeping labels', () => {
    // Prepare
    const before = report((usage) => {
      usage.dynamodb.writeRequestUnits = 4;
      usage.sqs.emptyReceives = 100;
      usage.lambda.byFunction.A = { requests: 1, gbSeconds: 0.5, architecture: 'arm64' };
    });
    const after = report((usage) => {
      usage.dynamodb.writeRequestUnits = 28;
      usage.sqs.emptyReceives = 100;
      usage.lambda.byFunction.A = { requests: 5, gbSeconds: 1.5, architecture: 'arm64' };
      usage.lambda.byFunction.B = { requests: 2, gbSeconds: 0.25, architecture: 'x86_64' };
    });

    // Act
    const usage = perOrder(before, after, 2);

    // Assess
    expect(usage.dynamodb.writeRequestUnits).toBe(12);
    expect(usage.sqs.emptyReceives).toBe(0);
    expect(usage.lambda.byFunction).toEqual({
      A: { requests: 2, gbSeconds: 0.5, architecture: 'arm64' },
      B: { requests: 1, gbSeconds: 0.125, architecture: 'x86_64' },
    });
  });

  it('refuses a count of orders that is not positive', () => {
    expect(() => perOrder(report(), report(), 0)).toThrow(RangeError);
  });
});

describe('monthlyCost', () => {
  it('multiplies usage per order by orders and price, and names the meters without a price', () => {
    // Act
    const cost = monthlyCost(usagePerOrder, 1_000_000, table);

    // Assess: 7M requests × $0.20/M = $1.40; 1 GB × $0.10; 1,000 e-mails × $0.00002 = $0.02;
    // the 500,000 publishes have no price, so they are named and left out.
    expect(cost.lines.map(({ meter, unitsPerMonth, monthlyUsd }) => ({ meter, unitsPerMonth, monthlyUsd: round(monthlyUsd) }))).toEqual([
      { meter: 'lambda.requests', unitsPerMonth: 7_000_000, monthlyUsd: 1.4 },
      { meter: 'eventBridge.archiveProcessedBytes', unitsPerMonth: expect.closeTo(1, 9), monthlyUsd: 0.1 },
      { meter: 'sns.publishes', unitsPerMonth: 500_000, monthlyUsd: 0 },
      { meter: 'sns.emailDeliveries', unitsPerMonth: expect.closeTo(1000, 9), monthlyUsd: 0.02 },
    ]);
    expect(cost.lines[1]!.unitsPerOrder).toBeCloseTo(0.000001, 12);
    expect(round(cost.totalUsd)).toBe(1.52);
    expect(cost.missing).toEqual(['sns.publishes']);
  });

  it('deducts the free tiers as separate lines when asked, and names those of unknown size', () => {
    // Act
    const cost = monthlyCost(usagePerOrder, 1_000_000, table, { freeTier: true });

    // Assess: 1M of the 7M Lambda requests are free (−$0.20); the e-mail free tier has no known size.
    expect(cost.lines.filter((line) => line.freeTier)).toEqual([
      { service: 'Lambda', meter: 'lambda.requests', unitsPerOrder: 0, unitsPerMonth: -1_000_000, unitPrice: 0.0000002, monthlyUsd: expect.closeTo(-0.2, 12), freeTier: true },
    ]);
    expect(round(cost.totalUsd)).toBe(1.32);
    expect(cost.missing).toEqual(['sns.publishes', 'sns.emailDeliveries (free tier)']);
  });

  it('never deducts more than the month used', () => {
    const cost = monthlyCost(usagePerOrder, 100_000, table, { freeTier: true });
    // 700,000 requests, all inside the 1M free tier.
    expect(round(cost.lines.filter((line) => line.meter === 'lambda.requests').reduce((total, line) => total + line.monthlyUsd, 0))).toBe(0);
  });

  it('refuses a price whose meter is not in the usage report', () => {
    const typo: PriceTable = { ...table, prices: [price({ meter: 'lambda.invocations', usdPerUnit: 1 })] };
    expect(() => monthlyCost(report(), 1, typo)).toThrow('lambda.invocations');
  });
});

describe('formatCostTable', () => {
  it('prints one row per line, the total and what is missing', () => {
    // Act
    const text = formatCostTable(monthlyCost(usagePerOrder, 1_000_000, table, { freeTier: true }), 1_000_000);

    // Assess
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^service\s+meter\s+units\/order\s+units\/month\s+USD\/unit\s+USD\/month$/);
    expect(lines).toContainEqual(expect.stringMatching(/^Lambda\s+lambda\.requests\s+7\s+7000000\s+0\.0000002\s+1\.40$/));
    expect(lines).toContainEqual(expect.stringMatching(/^Lambda\s+lambda\.requests \(free tier\)\s+-1000000\s+0\.0000002\s+-0\.20$/));
    expect(lines).toContainEqual(expect.stringMatching(/^SNS\s+sns\.publishes\s+0\.5\s+500000\s+missing\s+0\.00$/));
    expect(lines).toContainEqual(expect.stringMatching(/^total\s+1000000 orders\/month\s+1\.32$/));
    expect(lines.at(-1)).toBe('not in the total (no price): sns.publishes, sns.emailDeliveries (free tier)');
  });
});

describe('loadtest/prices.json', () => {
  const prices = JSON.parse(readFileSync(new URL('../../loadtest/prices.json', import.meta.url), 'utf8')) as PriceTable;

  it('prices meters of the usage report, each with its AWS page, a date and a price or a note why not', () => {
    expect(() => monthlyCost(report(), 1_000_000, prices, { freeTier: true })).not.toThrow();
    for (const entry of prices.prices) {
      expect(entry.source).toMatch(/^https:\/\/aws\.amazon\.com\/.+\/pricing\//);
      expect(entry.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(entry.usdPerUnit === null ? entry.note : entry.usdPerUnit).toBeTruthy();
      if (entry.freeTier?.unitsPerMonth === null) expect(entry.freeTier.note).toBeTruthy();
    }
    expect(new Set(prices.prices.map((entry) => entry.meter)).size).toBe(prices.prices.length);
  });
});

function round(usd: number): number {
  return Math.round(usd * 100) / 100;
}
