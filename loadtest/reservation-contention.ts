/**
 * The reservation under contention: N concurrent reservations of one inventory item on DynamoDB
 * Local, each the TransactWriteItems of `statemachine/orders.asl.json`'s ReserveStock state (its
 * own Parameters, evaluated), retried as that state says: its Retry policy for the errors it lists,
 * and its Catch → Choice loop that retries a TransactionConflict at once, a bounded number of times.
 *
 * LIMITATIONS: DynamoDB Local's conflict behaviour (which concurrent transaction loses, and for how
 * long an item is held) is a model of AWS's, not AWS's: AWS documents that an item within a
 * TransactWriteItems that is part of another ongoing TransactWriteItems cancels it with reason
 * TransactionConflict, but not how long a transaction holds its items. Only the ReserveStock task is
 * run, not the state machine around it (no Step Functions transition time between attempts).
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { BatchWriteItemCommand, CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand, TransactWriteItemsCommand, type TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { localClientConfig } from '../local/net.js';
import { startDynamoDbLocal } from '../local/services/dynamodb/engine.js';

const ASL = 'statemachine/orders.asl.json';
const RESERVE_STATE = 'ReserveStock';
/** The prefix the runtime gives SDK errors of the aws-sdk:dynamodb integration, as Step Functions does. */
const ERROR_PREFIX = 'DynamoDb.';
const CANCELLED = `${ERROR_PREFIX}TransactionCanceledException`;
/** BatchWriteItem's limit: 25 puts a request. */
const BATCH_WRITE_MAX = 25;
const STOCK = 1_000_000;

/** One retrier of a Task state's Retry field, with Step Functions' defaults filled in. */
export interface Retrier {
  errors: string[];
  intervalSeconds: number;
  backoffRate: number;
  maxAttempts: number;
  maxDelaySeconds?: number;
  jitter: 'FULL' | 'NONE';
}

/** How the ASL retries a reservation, and the transaction it sends. */
export interface ReservationPolicy {
  retriers: Retrier[];
  /** A TransactionCanceledException whose cause matches this is a conflict... */
  conflictCause: RegExp;
  /** ...retried at once at most this many times (the Choice's bound on `$.conflicts`). */
  conflictRetries: number;
  /** The state's `Parameters.TransactItems`, with `.$` fields still to evaluate. */
  transactItems: unknown[];
}

interface AslState {
  Type: string;
  Parameters?: { TransactItems?: unknown[] };
  Retry?: Array<{ ErrorEquals: string[]; IntervalSeconds?: number; BackoffRate?: number; MaxAttempts?: number; MaxDelaySeconds?: number; JitterStrategy?: 'FULL' | 'NONE' }>;
  Catch?: Array<{ ErrorEquals: string[]; Next: string }>;
  Choices?: AslChoice[];
  Next?: string;
}

interface AslChoice {
  And?: Array<{ Variable: string; StringMatches?: string; NumericLessThan?: number }>;
  Next: string;
}

/**
 * Reads the reservation's retry behaviour from an ASL definition: the state's Retry (Step Functions'
 * defaults: IntervalSeconds 1, BackoffRate 2, MaxAttempts 3, no jitter) and the bounded conflict
 * loop its Catch of TransactionCanceledException leads to. Throws when the shape is not the one
 * this simulation knows, so a change of the ASL cannot pass unnoticed.
 */
export function reservationPolicy(definition: { States: Record<string, AslState> }, stateName = RESERVE_STATE): ReservationPolicy {
  const state = definition.States[stateName];
  const transactItems = state?.Parameters?.TransactItems;
  if (state?.Type !== 'Task' || !Array.isArray(transactItems)) throw new Error(`${stateName} is not a Task with Parameters.TransactItems`);
  const retriers = (state.Retry ?? []).map((retry): Retrier => ({
    errors: retry.ErrorEquals,
    intervalSeconds: retry.IntervalSeconds ?? 1,
    backoffRate: retry.BackoffRate ?? 2,
    maxAttempts: retry.MaxAttempts ?? 3,
    ...(retry.MaxDelaySeconds === undefined ? {} : { maxDelaySeconds: retry.MaxDelaySeconds }),
    jitter: retry.JitterStrategy ?? 'NONE',
  }));
  const cancelled = state.Catch?.find((entry) => entry.ErrorEquals.includes(CANCELLED));
  const choice = cancelled && definition.States[cancelled.Next];
  for (const rule of choice?.Choices ?? []) {
    const cause = rule.And?.find((test) => test.Variable === '$.cancellation.Cause' && test.StringMatches !== undefined);
    const bound = rule.And?.find((test) => test.NumericLessThan !== undefined);
    if (cause?.StringMatches === undefined || bound?.NumericLessThan === undefined) continue;
    if (!leadsBackTo(definition, rule.Next, stateName)) continue;
    return { retriers, conflictCause: globToRegExp(cause.StringMatches), conflictRetries: bound.NumericLessThan, transactItems };
  }
  throw new Error(`${stateName}'s Catch of ${CANCELLED} leads to no bounded conflict loop back to it`);
}

/** Whether following Next from `from` through Pass states reaches `target`. */
function leadsBackTo(definition: { States: Record<string, AslState> }, from: string, target: string): boolean {
  let name: string | undefined = from;
  for (let hops = 0; name !== undefined && hops < Object.keys(definition.States).length; hops++) {
    if (name === target) return true;
    const state: AslState | undefined = definition.States[name];
    name = state?.Type === 'Pass' ? state.Next : undefined;
  }
  return false;
}

/** ASL's StringMatches: `*` is any text, `\*` a literal star. */
function globToRegExp(pattern: string): RegExp {
  const parts = pattern.split(/(?<!\\)\*/).map((part) => part.replace(/\\\*/g, '*').replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*')}$`, 's');
}

/**
 * How long a retrier waits before retry number `retry` (1 for the first): IntervalSeconds ×
 * BackoffRate^(retry−1), at most MaxDelaySeconds, and with FULL jitter a uniform draw below it.
 */
export function retryDelayMs(retrier: Retrier, retry: number, random: () => number = Math.random): number {
  const seconds = Math.min(retrier.intervalSeconds * retrier.backoffRate ** (retry - 1), retrier.maxDelaySeconds ?? Number.POSITIVE_INFINITY);
  return (retrier.jitter === 'FULL' ? random() * seconds : seconds) * 1000;
}

/** What the ASL's `.$` fields of the reservation read. */
interface ReservationInput {
  order: { pk: string; sk: string; product: string; model: string; quantity: number };
}

/**
 * The TransactItems of one reservation: the ASL's Parameters with `${TableName}` substituted (the
 * template's DefinitionSubstitutions) and each `.$` field evaluated against the input. Supports the
 * paths the state uses: `$.…`, `$$.State.EnteredTime` and `States.Format('…{}…', $.…)`.
 */
export function reservationItems(template: unknown[], input: ReservationInput, tableName: string, enteredTime: string): TransactWriteItem[] {
  const evaluate = (expression: string): string => {
    const format = /^States\.Format\('((?:[^'\\]|\\.)*)',\s*(.+)\)$/.exec(expression);
    if (format) {
      const args = format[2]!.split(',').map((arg) => evaluate(arg.trim()));
      let index = 0;
      return format[1]!.replace(/\{\}/g, () => args[index++] ?? '');
    }
    if (expression === '$$.State.EnteredTime') return enteredTime;
    if (expression.startsWith('$.')) {
      const value = expression.slice(2).split('.').reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], input);
      if (value === undefined) throw new Error(`${expression} names nothing in the reservation's input`);
      return String(value);
    }
    throw new Error(`Unsupported path in ${RESERVE_STATE}'s Parameters: ${expression}`);
  };
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') return node.replaceAll('${TableName}', tableName);
    if (Array.isArray(node)) return node.map(walk);
    if (node === null || typeof node !== 'object') return node;
    return Object.fromEntries(Object.entries(node).map(([key, value]) =>
      key.endsWith('.$') ? [key.slice(0, -2), evaluate(String(value))] : [key, walk(value)]));
  };
  return walk(template) as TransactWriteItem[];
}

/** One concurrency level of the simulation. */
export interface ContentionStep {
  concurrency: number;
  reservations: number;
  reserved: number;
  /** TransactionCanceledExceptions with a TransactionConflict reason. */
  conflicts: number;
  conflictsPerReservation: number;
  /** Retries the Retry policy made (with its backoff). */
  backoffRetries: number;
  /** Reservations that ran out of retries (conflict bound or MaxAttempts) or failed otherwise: the order would stay PENDING for a replay. */
  exhausted: number;
  durationMs: number;
  reservationsPerSecond: number;
  /** The item's decrement, which must equal `reserved` (one unit each): no lost or double update. */
  stockDecrement: number;
}

/** Options of {@link simulateContention}. */
export interface ContentionOptions {
  concurrencies: readonly number[];
  /** Reservations per level, e.g. a few per concurrent client. */
  reservationsAt(concurrency: number): number;
  progress?(message: string): void;
}

/** Runs the simulation on an in-memory DynamoDB Local it starts and stops. */
export async function simulateContention(options: ContentionOptions): Promise<ContentionStep[]> {
  const policy = reservationPolicy(JSON.parse(readFileSync(ASL, 'utf8')) as { States: Record<string, AslState> });
  const engine = await startDynamoDbLocal();
  // One attempt per call: the ASL's policy is the only retry, as in the state machine's SDK integration.
  const client = new DynamoDBClient({ ...localClientConfig(engine.endpoint, 'us-east-1'), maxAttempts: 1 });
  try {
    const steps: ContentionStep[] = [];
    for (const concurrency of options.concurrencies) {
      const step = await contentionStep(client, policy, `contention-${concurrency}`, concurrency, options.reservationsAt(concurrency));
      options.progress?.(`${concurrency} concurrent: ${step.reserved}/${step.reservations} reserved, ${step.conflicts} conflicts, ${step.reservationsPerSecond.toFixed(0)}/s`);
      steps.push(step);
    }
    return steps;
  } finally {
    client.destroy();
    await engine.stop();
  }
}

async function contentionStep(
  client: DynamoDBClient,
  policy: ReservationPolicy,
  table: string,
  concurrency: number,
  reservations: number,
): Promise<ContentionStep> {
  const inventory = { pk: 'INVENTORY#MACGUFFIN', sk: 'MODEL#LX' };
  await client.send(new CreateTableCommand({
    TableName: table,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
  }));
  await client.send(new PutItemCommand({ TableName: table, Item: { pk: { S: inventory.pk }, sk: { S: inventory.sk }, quantity: { N: String(STOCK) } } }));
  const orders = Array.from({ length: reservations }, (_, index) => ({ pk: `CUSTOMER#${index}`, sk: `ORDER#${index}`, product: 'MACGUFFIN', model: 'LX', quantity: 1 }));
  for (let start = 0; start < orders.length; start += BATCH_WRITE_MAX) {
    const puts = orders.slice(start, start + BATCH_WRITE_MAX).map((order) => ({ PutRequest: { Item: { pk: { S: order.pk }, sk: { S: order.sk }, status: { S: 'PENDING' } } } }));
    await client.send(new BatchWriteItemCommand({ RequestItems: { [table]: puts } }));
  }

  const tally = { reserved: 0, conflicts: 0, backoffRetries: 0, exhausted: 0 };
  let next = 0;
  const reserveOne = async (order: ReservationInput['order']): Promise<void> => {
    const retries = policy.retriers.map(() => 0);
    let conflicts = 0;
    for (;;) {
      try {
        await client.send(new TransactWriteItemsCommand({ TransactItems: reservationItems(policy.transactItems, { order }, table, new Date().toISOString()) }));
        tally.reserved++;
        return;
      } catch (error) {
        const { name, message } = error as Error;
        const code = `${ERROR_PREFIX}${name}`;
        // Step Functions tries the state's Retry first and the Catch only once no retrier applies.
        const index = policy.retriers.findIndex((retrier) => retrier.errors.includes(code) || retrier.errors.includes('States.ALL'));
        const retrier = policy.retriers[index];
        if (retrier === undefined || retries[index]! >= retrier.maxAttempts) {
          if (code === CANCELLED && policy.conflictCause.test(message)) {
            tally.conflicts++;
            if (conflicts++ < policy.conflictRetries) continue;
          }
          tally.exhausted++;
          return;
        }
        retries[index]!++;
        tally.backoffRetries++;
        await sleep(retryDelayMs(retrier, retries[index]!));
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    for (let order = orders[next++]; order !== undefined; order = orders[next++]) await reserveOne(order);
  }));
  const durationMs = performance.now() - started;

  const { Item } = await client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: inventory.pk }, sk: { S: inventory.sk } }, ConsistentRead: true }));
  return {
    concurrency,
    reservations,
    ...tally,
    conflictsPerReservation: tally.conflicts / reservations,
    durationMs: Math.round(durationMs),
    reservationsPerSecond: tally.reserved / (durationMs / 1000),
    stockDecrement: STOCK - Number(Item?.quantity?.N),
  };
}

/** A plain-text table of the simulation. */
export function formatContention(steps: readonly ContentionStep[]): string {
  const header = ['concurrent', 'reservations', 'reserved', 'conflicts', 'conflicts/reservation', 'backoff retries', 'exhausted', 'reservations/s', 'stock decrement'];
  const rows = steps.map((step) => [
    step.concurrency, step.reservations, step.reserved, step.conflicts, step.conflictsPerReservation.toFixed(2), step.backoffRetries, step.exhausted,
    step.reservationsPerSecond.toFixed(0), step.stockDecrement,
  ].map(String));
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const render = (row: string[]): string => row.map((cell, column) => cell.padStart(widths[column]!)).join('  ');
  return [render(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(render)].join('\n');
}
