/**
 * The capacity model of `npm run bench -- --capacity`: what one order uses of each AWS quota on
 * its path (measured by the benchmark), divided into the quotas of `loadtest/quotas.json`, gives
 * the orders per second each service allows; the lowest names the bottleneck. Pure functions: the
 * benchmark measures, this module only computes.
 *
 * Quotas that bound one inventory item (its partition's write throughput) scale with the number of
 * SKUs the orders spread over: the model assumes an even spread and one partition per SKU's item.
 */
import type { LoadedTemplate } from '../local/template/loader.js';

/** One entry of `loadtest/quotas.json`. */
export interface Quota {
  id: string;
  service: string;
  name: string;
  /** The default quota; null when AWS documents no number (the model then derives no bound). */
  value: number | null;
  unit: string;
  burst?: number;
  adjustable: boolean | null;
  /** The template's own setting the value comes from (read at run time, see {@link withTemplateValues}). */
  fromTemplate?: { parameter: string } | { stageOf: string };
  source: string;
  readFrom?: string[];
  note?: string;
}

/** `loadtest/quotas.json`. */
export interface QuotaTable {
  region: string;
  retrieved: string;
  notes: string[];
  quotas: Quota[];
}

/** What one order uses, on average, of each metered quantity (measured over a batch of orders). */
export interface OrderUse {
  /** REST API requests of every API in the account (intake, provider, webhook). */
  apiRequests: number;
  ordersApiRequests: number;
  /** Requests to the payment provider. */
  providerRequests: number;
  tableWriteUnits: number;
  tableReadUnits: number;
  /** Write units on the inventory item of the order's SKU (the reservation's transactional decrement). */
  inventoryItemWriteUnits: number;
  /** Events put on buses (entries; a PutEvents request carries up to 10). */
  putEventsEntries: number;
  /** Rule target invocations. */
  ruleInvocations: number;
  expressStarts: number;
  sqsRequests: number;
  /** Events the pipes passed on (every attempt). */
  pipeEvents: number;
  lambdaInvocations: number;
  /** Billed Lambda duration, seconds: concurrency-seconds. */
  lambdaSeconds: number;
  apiDestinationCalls: number;
}

/** Whose limit a quota is: AWS's, this template's own setting, or the payment provider's (its contract, and the rate the template derives from it). */
export type LimitKind = 'aws' | 'template' | 'external';

/** One quota the model checks: which meter of {@link OrderUse} consumes it, and whether it is per SKU. */
export interface Limit {
  quota: string;
  meter: keyof OrderUse;
  kind: LimitKind;
  /** The quota bounds one SKU's inventory item, so N SKUs allow N times as many orders. */
  perSku?: true;
}

/** The order path's quotas, in the order of an order's journey. */
export const LIMITS: readonly Limit[] = [
  { quota: 'apigateway.accountThrottle', meter: 'apiRequests', kind: 'aws' },
  { quota: 'apigateway.ordersStageThrottle', meter: 'ordersApiRequests', kind: 'template' },
  { quota: 'dynamodb.onDemandTableWrite', meter: 'tableWriteUnits', kind: 'aws' },
  { quota: 'dynamodb.onDemandTableRead', meter: 'tableReadUnits', kind: 'aws' },
  { quota: 'dynamodb.partitionWrite', meter: 'inventoryItemWriteUnits', kind: 'aws', perSku: true },
  { quota: 'dynamodb.transactionConflicts', meter: 'inventoryItemWriteUnits', kind: 'aws', perSku: true },
  { quota: 'dynamodbStreams.getRecordsRate', meter: 'pipeEvents', kind: 'aws' },
  { quota: 'pipes.concurrency', meter: 'pipeEvents', kind: 'aws' },
  { quota: 'eventbridge.putEvents', meter: 'putEventsEntries', kind: 'aws' },
  { quota: 'eventbridge.invocations', meter: 'ruleInvocations', kind: 'aws' },
  { quota: 'stepfunctions.expressStartExecution', meter: 'expressStarts', kind: 'aws' },
  { quota: 'sqs.standardThroughput', meter: 'sqsRequests', kind: 'aws' },
  { quota: 'lambda.concurrency', meter: 'lambdaSeconds', kind: 'aws' },
  // The template's parameter, but it passes the provider's published limit on: the provider's limit.
  { quota: 'eventbridge.apiDestinationRate', meter: 'apiDestinationCalls', kind: 'external' },
  { quota: 'provider.rate', meter: 'providerRequests', kind: 'external' },
];

/** One line of the capacity table. */
export interface CapacityRow {
  quota: Quota;
  meter: keyof OrderUse;
  kind: LimitKind;
  perSku: boolean;
  perOrder: number;
  /** Orders per second the quota allows (for one SKU when {@link perSku}); null when it sets no bound. */
  ordersPerSecond: number | null;
  /** Why {@link ordersPerSecond} is null. */
  unbounded?: 'no documented number' | 'not used by an order';
}

/** The quota's value, by id; a missing id is a mistake in {@link LIMITS} or the JSON file. */
function quotaById(table: QuotaTable, id: string): Quota {
  const quota = table.quotas.find((entry) => entry.id === id);
  if (quota === undefined) throw new Error(`loadtest/quotas.json has no quota ${id}`);
  return quota;
}

/** The capacity table: per quota, the orders per second that `use` per order leaves room for. */
export function capacityRows(use: OrderUse, table: QuotaTable, limits: readonly Limit[] = LIMITS): CapacityRow[] {
  return limits.map((limit) => {
    const quota = quotaById(table, limit.quota);
    const perOrder = use[limit.meter];
    const row = { quota, meter: limit.meter, kind: limit.kind, perSku: limit.perSku === true, perOrder };
    if (quota.value === null) return { ...row, ordersPerSecond: null, unbounded: 'no documented number' };
    if (!(perOrder > 0)) return { ...row, ordersPerSecond: null, unbounded: 'not used by an order' };
    return { ...row, ordersPerSecond: quota.value / perOrder };
  });
}

/** The ceiling at a number of SKUs: the lowest bound of the rows considered, and the rows that set it (ties included). */
export interface Ceiling {
  skus: number;
  ordersPerSecond: number;
  bottlenecks: CapacityRow[];
}

/** Bounds this close to the lowest count as the same bottleneck (two quotas that allow the same rate). */
const TIE = 1e-9;

/**
 * Orders per second the rows allow when orders spread evenly over `skus` SKUs (each SKU's item on
 * its own partition): per-SKU bounds multiply by `skus`. `kinds` limits the rows considered (e.g.
 * AWS's quotas only). Throws when no row sets a bound.
 */
export function ceiling(rows: readonly CapacityRow[], skus: number, kinds: readonly LimitKind[] = ['aws', 'template', 'external']): Ceiling {
  if (!(Number.isInteger(skus) && skus > 0)) throw new RangeError(`ceiling needs a positive whole number of SKUs, got ${skus}`);
  const bounds = rows.flatMap((row) => (row.ordersPerSecond === null || !kinds.includes(row.kind)
    ? []
    : [{ row, ordersPerSecond: row.perSku ? row.ordersPerSecond * skus : row.ordersPerSecond }]));
  if (bounds.length === 0) throw new Error('No quota sets a bound on orders per second');
  const lowest = Math.min(...bounds.map((bound) => bound.ordersPerSecond));
  const bottlenecks = bounds.filter((bound) => bound.ordersPerSecond <= lowest * (1 + TIE)).map((bound) => bound.row);
  return { skus, ordersPerSecond: lowest, bottlenecks };
}

/**
 * The quotas with the template's own settings read from `template` (its parameter defaults, or an
 * API's stage throttle), so the model describes this template as deployed with its defaults.
 */
export function withTemplateValues(table: QuotaTable, template: LoadedTemplate): QuotaTable {
  return {
    ...table,
    quotas: table.quotas.map((quota) => {
      if (quota.fromTemplate === undefined) return quota;
      if ('parameter' in quota.fromTemplate) {
        const parameter = template.parameters[quota.fromTemplate.parameter];
        if (parameter === undefined) throw new Error(`${quota.id}: template.yaml has no parameter ${quota.fromTemplate.parameter}`);
        return { ...quota, value: Number(parameter.value) };
      }
      const { rate, burst } = stageThrottle(template, quota.fromTemplate.stageOf);
      return { ...quota, value: rate, burst };
    }),
  };
}

/** The first method setting's throttle of the stage SAM generates for a serverless API. */
function stageThrottle(template: LoadedTemplate, api: string): { rate: number; burst: number } {
  const resources = template.template.Resources ?? {};
  for (const logicalId of template.resourcesOfType('AWS::ApiGateway::Stage')) {
    const properties = (resources[logicalId]?.Properties ?? {}) as { RestApiId?: unknown; MethodSettings?: Array<Record<string, unknown>> };
    if (JSON.stringify(properties.RestApiId) !== JSON.stringify({ Ref: api })) continue;
    const [setting] = properties.MethodSettings ?? [];
    const rate = Number(parameterOrLiteral(template, setting?.ThrottlingRateLimit));
    const burst = Number(parameterOrLiteral(template, setting?.ThrottlingBurstLimit));
    if (Number.isFinite(rate) && Number.isFinite(burst)) return { rate, burst };
  }
  throw new Error(`template.yaml has no stage of ${api} with a throttle in its MethodSettings`);
}

function parameterOrLiteral(template: LoadedTemplate, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && 'Ref' in value) return template.parameters[String(value.Ref)]?.value;
  return value;
}

/** A plain-text table of the rows, with the orders/s at 1 SKU and at `skus` SKUs. */
export function formatCapacityTable(rows: readonly CapacityRow[], skus: number): string {
  const header = ['service', 'quota', 'source', 'per order', 'orders/s (1 SKU)', `orders/s (${skus} SKUs)`];
  const body = rows.map((row) => {
    const { quota } = row;
    const bound = (count: number): string => {
      if (row.ordersPerSecond === null) return `- (${row.unbounded})`;
      return whole(row.perSku ? row.ordersPerSecond * count : row.ordersPerSecond);
    };
    const value = quota.value === null ? 'no number' : `${quota.value.toLocaleString('en-US')} ${quota.unit}`;
    return [quota.service, `${clip(quota.name.split(' (')[0]!, NAME_CHARS)}: ${value}`, clip(quota.source.replace(/^https:\/\/docs\.aws\.amazon\.com\//, '').replace(/#.*$/, ''), SOURCE_CHARS), significant(row.perOrder), bound(1), bound(skus)];
  });
  const widths = header.map((title, column) => Math.max(title.length, ...body.map((line) => line[column]!.length)));
  const render = (line: string[]): string => line.map((cell, column) => (column < 3 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ').trimEnd();
  return [render(header), widths.map((width) => '-'.repeat(width)).join('  '), ...body.map(render)].join('\n');
}

/** Column widths of the quota's name and source: the JSON file keeps them whole. */
const NAME_CHARS = 44;
const SOURCE_CHARS = 48;

function clip(text: string, chars: number): string {
  return text.length > chars ? `${text.slice(0, chars - 1)}…` : text;
}

function whole(value: number): string {
  return value >= 10 ? Math.floor(value).toLocaleString('en-US') : value.toFixed(1);
}

function significant(value: number): string {
  return value === 0 ? '0' : String(Number(value.toPrecision(3)));
}
