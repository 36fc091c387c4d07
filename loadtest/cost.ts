/**
 * The cost model of the benchmark: usage per order (the difference of two `stack.usage()`
 * reports divided by the orders placed in between) times an order rate times the prices of
 * `loadtest/prices.json`. Pure functions: the benchmark measures, this module only computes.
 */
import type { UsageReport } from '../local/services/usage.js';

/** One price of the price table. */
export interface Price {
  service: string;
  /** Dotted path of a number in a {@link UsageReport}, e.g. `dynamodb.writeRequestUnits`. */
  meter: string;
  /** What one priced unit is (`request`, `GB-second`, …). */
  unit: string;
  /** Meter units in one priced unit (e.g. 1073741824 bytes in a GB); 1 when absent. */
  meterUnitsPerUnit?: number;
  /** USD per priced unit; null when no source gave one. */
  usdPerUnit: number | null;
  /** The price as the source words it. */
  listed?: string;
  /** The AWS pricing page the price belongs to. */
  source: string;
  /** Where the number was actually read. */
  readFrom?: string[];
  /** The date the price was read as valid. */
  asOf: string;
  note?: string;
  /** Units AWS does not bill each month; null when its size is unknown. */
  freeTier?: { unitsPerMonth: number | null; note: string };
}

/** `loadtest/prices.json`. */
export interface PriceTable {
  region: string;
  currency: string;
  retrieved: string;
  notes: string[];
  prices: Price[];
}

/** One line of a monthly cost. */
export interface CostLine {
  service: string;
  meter: string;
  /** In priced units (see {@link Price.unit}). */
  unitsPerOrder: number;
  unitsPerMonth: number;
  unitPrice: number | null;
  monthlyUsd: number;
  /** A free-tier deduction: negative units and USD. */
  freeTier?: true;
}

/** A monthly cost: `missing` names the meters used but not priced (their cost is not in the total). */
export interface MonthlyCost {
  lines: CostLine[];
  totalUsd: number;
  missing: string[];
}

/** Options of {@link monthlyCost}. */
export interface MonthlyCostOptions {
  /** Deduct the free tiers, as separate lines (default false: AWS bills every unit). */
  freeTier?: boolean;
}

/**
 * Usage per order between two reports of the same running stack: every counter's growth divided
 * by `orders`. Keys that appear only in `after` (a function invoked for the first time) count from 0.
 */
export function perOrder(before: UsageReport, after: UsageReport, orders: number): UsageReport {
  if (!(orders > 0)) throw new RangeError(`perOrder needs a positive number of orders, got ${orders}`);
  return growth(after, before, orders) as UsageReport;
}

function growth(after: unknown, before: unknown, orders: number): unknown {
  if (typeof after === 'number') return (after - (typeof before === 'number' ? before : 0)) / orders;
  if (after === null || typeof after !== 'object') return after; // labels such as a function's architecture
  const earlier = (before ?? {}) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(after).map(([key, value]) => [key, growth(value, earlier[key], orders)]));
}

/**
 * What `ordersPerMonth` orders cost in a month: one line per price (in the table's order), the
 * free tiers as extra negative lines when asked. A meter with usage but no price (or a free tier
 * of unknown size, when asked) is listed in `missing` and left out of the total.
 */
export function monthlyCost(perOrderUsage: UsageReport, ordersPerMonth: number, prices: PriceTable, options: MonthlyCostOptions = {}): MonthlyCost {
  const lines: CostLine[] = [];
  const missing: string[] = [];
  for (const price of prices.prices) {
    const unitsPerOrder = meterValue(perOrderUsage, price.meter) / (price.meterUnitsPerUnit ?? 1);
    const unitsPerMonth = unitsPerOrder * ordersPerMonth;
    const unitPrice = price.usdPerUnit;
    if (unitPrice === null && unitsPerMonth > 0) missing.push(price.meter);
    lines.push({ service: price.service, meter: price.meter, unitsPerOrder, unitsPerMonth, unitPrice, monthlyUsd: unitsPerMonth * (unitPrice ?? 0) });
    if (!options.freeTier || price.freeTier === undefined || unitPrice === null || unitsPerMonth === 0) continue;
    const free = price.freeTier.unitsPerMonth;
    if (free === null) {
      missing.push(`${price.meter} (free tier)`);
      continue;
    }
    const deducted = Math.min(free, unitsPerMonth);
    lines.push({
      service: price.service,
      meter: price.meter,
      unitsPerOrder: 0,
      unitsPerMonth: -deducted,
      unitPrice,
      monthlyUsd: -deducted * unitPrice,
      freeTier: true,
    });
  }
  return { lines, totalUsd: lines.reduce((total, line) => total + line.monthlyUsd, 0), missing };
}

/** The number at `meter` (a dotted path) of a usage report; throws for a path that names none. */
function meterValue(usage: UsageReport, meter: string): number {
  const value = meter.split('.').reduce<unknown>((node, key) => (node === null || typeof node !== 'object' ? undefined : (node as Record<string, unknown>)[key]), usage);
  if (typeof value !== 'number') throw new Error(`Price meter ${meter} names no number of the usage report`);
  return value;
}

/** A plain-text table of a monthly cost, for the benchmark's output. */
export function formatCostTable(cost: MonthlyCost, ordersPerMonth: number): string {
  const header = ['service', 'meter', 'units/order', 'units/month', 'USD/unit', 'USD/month'];
  const rows = cost.lines.map((line) => [
    line.service,
    line.freeTier ? `${line.meter} (free tier)` : line.meter,
    line.freeTier ? '' : significant(line.unitsPerOrder),
    significant(line.unitsPerMonth),
    line.unitPrice === null ? 'missing' : significant(line.unitPrice, PRICE_DIGITS),
    line.monthlyUsd.toFixed(2),
  ]);
  const total = ['total', `${significant(ordersPerMonth)} orders/month`, '', '', '', cost.totalUsd.toFixed(2)];
  const widths = header.map((title, column) => Math.max(title.length, ...[...rows, total].map((row) => row[column]!.length)));
  // Text columns to the left, numbers to the right.
  const render = (row: string[]): string => row.map((cell, column) => (column < 2 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ').trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  const lines = [render(header), rule, ...rows.map(render), rule, render(total)];
  if (cost.missing.length > 0) lines.push(`not in the total (no price): ${cost.missing.join(', ')}`);
  return lines.join('\n');
}

/** Significant digits of a unit price: as many as the price lists give (e.g. $0.0000133334). */
const PRICE_DIGITS = 10;

/** A number to `digits` significant digits, without exponent at the magnitudes of a bill. */
function significant(value: number, digits = 4): string {
  if (value === 0) return '0';
  return Number(value.toPrecision(digits)).toLocaleString('en-US', { maximumFractionDigits: 15, useGrouping: false });
}
