/**
 * `npm run chaos`: the faults an event-driven system must heal from, each against a whole local
 * stack of its own (a fresh state folder, the template's own schedules and retries):
 *
 *   provider-5xx          the payment provider answers 30 % of its requests with a 5xx
 *   provider-outage       the provider is down for 60 s under load, then comes back
 *   provider-down         the provider stays down: payments are dead-lettered, the customers told;
 *                         after it recovers (a restart without the fault), `wims dlq redrive` pays them
 *   sigkill               the whole runtime is SIGKILLed mid-load and restarted (loadtest/crash.ts)
 *   duplicates            every order event is put on the bus a second time, at a random later moment
 *   replay                the event archive is replayed three times once every order has settled
 *   poison                hostile requests (refused with a 4xx, nothing written) and a malformed order
 *                         written straight to the table (its workflow fails it)
 *   dynamodb-restart      DynamoDB Local is killed mid-load and started again on the same files
 *
 * For each it prints one table row and writes all rows to `loadtest/results/chaos.json`:
 * orders accepted, orders in a terminal status, orders stranded (accepted and not terminal),
 * double charges (orders with more than one ledger charge), double decrements (stock taken
 * beyond what the orders holding stock reserved; negative: released twice), duplicate
 * fulfillment messages (FulfillmentQueue messages beyond one per order) and the time to heal,
 * from the end of the fault until every order is terminal. It exits 1 when a target is missed:
 * 0 stranded, 0 double charges, 0 double decrements, 0 duplicate messages.
 *
 *   npm run chaos
 *   npm run chaos -- --only replay,duplicates --orders 40 --clients 4
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { SubscribeCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand, DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SetQueueAttributesCommand, SQSClient,
} from '@aws-sdk/client-sqs';
import { redriveDeadLetters } from '../local/admin.js';
import { localClientConfig } from '../local/net.js';
import { startLocalStack, type LocalStack } from '../local/runtime.js';
import { startDynamoDbLocal, type DynamoDbLocal } from '../local/services/dynamodb/engine.js';
import { crashRun } from './crash.js';
import { LocalObserver, SKU } from './observe.js';
import type { ObservedOrder } from './stats.js';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS_FILE = join(PROJECT_ROOT, 'loadtest', 'results', 'chaos.json');
/** Statuses an order does not leave without an operator (see README, "What each status means"). */
const TERMINAL = new Set(['READY_FOR_FULFILLMENT', 'BACKORDERED', 'FAILED']);
/** Statuses whose orders hold the stock they reserved. */
const RELEASED_OR_NEVER_TAKEN = new Set(['PENDING', 'BACKORDERED', 'FAILED']);
/** How long a scenario's orders may take to settle after its fault ended. */
const SETTLE_TIMEOUT_MS = 600_000;
/**
 * The reconciler as the scenarios run it: every minute (the template's default), for orders open
 * 20 s (not 600 s: each scenario has its few orders in flight at once, no payment backlog), failed
 * after 3 re-drives.
 */
const RECONCILER = { ReconcileSchedule: 'rate(1 minute)', ReconcileDeadlineSeconds: '20', ReconcileMaxAttempts: '3' };
/** The time-to-heal target: the reconciler's interval and deadline, plus draining the payments at the provider's rate. */
const RECONCILER_INTERVAL_SECONDS = 60;
const PAYMENTS_PER_SECOND = 5;
/**
 * PaymentsQueue's visibility timeout in the provider scenarios: a failed call is retried after
 * 10 s instead of the template's 300 s, which are sized for a backlog waiting its turn at the rate
 * limit (this suite's few orders never wait), so that a provider fault heals by the queue's own
 * retries within the target rather than by the reconciler alone.
 */
const PROVIDER_SCENARIO_VISIBILITY_SECONDS = '10';
const REGION = 'us-east-1';

/** One scenario's row. */
export interface ChaosRow {
  scenario: string;
  accepted: number;
  terminal: number;
  stranded: number;
  doubleCharges: number;
  doubleDecrements: number;
  duplicateFulfillmentMessages: number;
  healSeconds: number;
  /** What healSeconds must not exceed: the reconciler's interval and deadline plus the payment drain time. */
  healTargetSeconds: number;
  /** Orders by status (`status/paymentStatus`), once settled. */
  statuses: Record<string, number>;
  /** What else the scenario checked, in words. */
  notes: string[];
}

interface Accepted { orderId: string; customerId: string; quantity: number }

interface ChaosOptions { orders: number; clients: number }

/** A running stack of one scenario, with the readers the measurements need. */
class Harness {
  readonly observer: LocalObserver;
  readonly sqs: SQSClient;
  readonly accepted: Accepted[] = [];

  private constructor(readonly stack: LocalStack, readonly stateDir: string, readonly logLines: string[]) {
    this.observer = new LocalObserver(stack);
    this.sqs = new SQSClient(localClientConfig(stack.endpoints.sqs, REGION));
  }

  /** Starts the template with `parameters` on `stateDir` (a new folder when absent). */
  static async start(parameters: Record<string, string>, stateDir = mkdtempSync(join(tmpdir(), 'wims-chaos-'))): Promise<Harness> {
    const lines: string[] = [];
    const stack = await startLocalStack({
      stateDir,
      apiPort: 0,
      parameterOverrides: { ...RECONCILER, ...parameters },
      log: (component, message) => void lines.push(`[${component}] ${message}`),
    });
    return new Harness(stack, stateDir, lines);
  }

  get api(): string {
    const api = this.stack.endpoints.apis.find((entry) => entry.logicalId === 'OrdersApi');
    if (api === undefined) throw new Error('The stack serves no OrdersApi');
    return api.url;
  }

  /** Sends `count` orders from `clients` concurrent clients; keeps the accepted ones. */
  async sendOrders(count: number, clients: number, tag: string): Promise<void> {
    let next = 0;
    const client = async (): Promise<void> => {
      while (next < count) {
        const index = next++;
        const order = { customerId: `chaos-${tag}-${index}`, quantity: 1 + (index % 3) };
        const response = await fetch(`${this.api}/orders`, {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(order),
        }).catch(() => undefined);
        const body = response && ((await response.json().catch(() => ({}))) as { orderId?: string });
        if (response?.status === 202 && body?.orderId) this.accepted.push({ orderId: body.orderId, ...order });
      }
    };
    await Promise.all(Array.from({ length: clients }, client));
  }

  /** The accepted orders as stored. */
  async orders(): Promise<Map<string, ObservedOrder>> {
    return this.observer.orders(new Set(this.accepted.map((order) => order.customerId)));
  }

  /** Waits until every accepted order is terminal (or `until` says so); resolves with when that was. */
  async settle(until: (orders: Map<string, ObservedOrder>) => boolean = (orders) => this.allTerminal(orders)): Promise<number> {
    const deadline = Date.now() + SETTLE_TIMEOUT_MS;
    let reported = Date.now();
    while (Date.now() < deadline) {
      const orders = await this.orders();
      if (until(orders)) return Date.now();
      if (Date.now() - reported > 30_000) {
        reported = Date.now();
        const open = this.accepted.map((order) => orders.get(order.orderId)).filter((order) => !TERMINAL.has(order?.status ?? ''));
        console.log(`  waiting: ${open.length} orders open (${[...new Set(open.map((order) => `${order?.status ?? 'missing'}/${order?.paymentStatus ?? '-'}`))].join(', ')})`);
      }
      await sleep(1000);
    }
    return Date.now();
  }

  allTerminal(orders: Map<string, ObservedOrder>): boolean {
    return this.accepted.every((order) => TERMINAL.has(orders.get(order.orderId)?.status ?? ''));
  }

  /** A queue subscribed to the customers' topic, as a notification consumer would have. */
  async subscribeToCustomerNotices(): Promise<string> {
    const { QueueUrl } = await this.sqs.send(new CreateQueueCommand({ QueueName: `chaos-notices-${Date.now()}` }));
    const { Attributes } = await this.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    const sns = new SNSClient(localClientConfig(this.stack.endpoints.sqs, REGION));
    try {
      await sns.send(new SubscribeCommand({
        TopicArn: this.output('CustomerNotificationsTopicArn'), Protocol: 'sqs', Endpoint: Attributes?.QueueArn, Attributes: { RawMessageDelivery: 'true' },
      }));
    } finally {
      sns.destroy();
    }
    if (QueueUrl === undefined) throw new Error('CreateQueue returned no URL');
    return QueueUrl;
  }

  /** Shortens PaymentsQueue's visibility timeout (and, when given, its receive budget), as an operator could. */
  async tunePayments(visibilitySeconds: string, maxReceiveCount?: number): Promise<void> {
    await this.sqs.send(new SetQueueAttributesCommand({
      QueueUrl: this.output('PaymentsQueueUrl'),
      Attributes: {
        VisibilityTimeout: visibilitySeconds,
        ...(maxReceiveCount !== undefined && {
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: await this.queueArn('PaymentsDeadLetterQueueUrl'), maxReceiveCount }),
        }),
      },
    }));
  }

  /** The ARN of the queue an output names by URL. */
  async queueArn(urlOutput: string): Promise<string> {
    const { Attributes } = await this.sqs.send(new GetQueueAttributesCommand({ QueueUrl: this.output(urlOutput), AttributeNames: ['QueueArn'] }));
    if (Attributes?.QueueArn === undefined) throw new Error(`No queue behind ${urlOutput}`);
    return Attributes.QueueArn;
  }

  /** Every message on a queue, received once and deleted. */
  async drain(queueUrl: string): Promise<string[]> {
    const bodies: string[] = [];
    for (let empty = 0; empty < 2;) {
      const { Messages = [] } = await this.sqs.send(new ReceiveMessageCommand({
        QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 900,
      }));
      if (Messages.length === 0) {
        empty++;
        continue;
      }
      empty = 0;
      bodies.push(...Messages.map((message) => message.Body ?? ''));
      await this.sqs.send(new DeleteMessageBatchCommand({
        QueueUrl: queueUrl, Entries: Messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle ?? '' })),
      }));
    }
    return bodies;
  }

  /** The row's figures, read once the scenario has settled. */
  async measure(scenario: string, faultEndedAt: number, settledAt: number, notes: string[]): Promise<ChaosRow> {
    const orders = await this.orders();
    const statuses: Record<string, number> = {};
    for (const order of orders.values()) {
      const key = order.paymentStatus ? `${order.status}/${order.paymentStatus}` : order.status;
      statuses[key] = (statuses[key] ?? 0) + 1;
    }
    const terminal = this.accepted.filter((order) => TERMINAL.has(orders.get(order.orderId)?.status ?? '')).length;
    const held = [...orders.values()].filter((order) => !RELEASED_OR_NEVER_TAKEN.has(order.status)).reduce((sum, order) => sum + order.quantity, 0);
    const stockTaken = (await this.seededStock()) - (await this.observer.stock());
    const charges = new Map<string, number>();
    for (const charge of await this.observer.ledger()) charges.set(charge.orderId, (charges.get(charge.orderId) ?? 0) + 1);
    const handedOff = (await this.drain(this.output('FulfillmentQueueUrl'))).map((body) => String((JSON.parse(body) as { orderId?: unknown }).orderId));
    const row: ChaosRow = {
      scenario,
      accepted: this.accepted.length,
      terminal,
      stranded: this.accepted.length - terminal,
      doubleCharges: [...charges.values()].filter((count) => count > 1).length,
      doubleDecrements: stockTaken - held,
      duplicateFulfillmentMessages: handedOff.length - new Set(handedOff).size,
      healSeconds: Math.max(0, Math.round((settledAt - faultEndedAt) / 1000)),
      healTargetSeconds: healTarget(this.accepted.length),
      statuses,
      notes,
    };
    // What the runtime said last helps to find out why.
    if (!meetsTargets(row)) row.notes.push(...this.logLines.slice(-10).map((line) => `log: ${line}`));
    return row;
  }

  async stop(options: { keepState?: boolean } = {}): Promise<void> {
    this.observer.close();
    this.sqs.destroy();
    await this.stack.stop();
    if (!options.keepState) rmSync(this.stateDir, { recursive: true, force: true });
  }

  output(name: string): string {
    const value = this.stack.outputs[name];
    if (value === undefined) throw new Error(`The stack has no output ${name}`);
    return value;
  }

  /** What SeedInventory put in stock (its custom resource's property). */
  private async seededStock(): Promise<number> {
    const seed = this.stack.template.template.Resources.SeedInventory?.Properties?.Items;
    const item = Array.isArray(seed) ? (seed as Array<Record<string, unknown>>).find((entry) => entry.Sku === SKU) : undefined;
    if (item === undefined) throw new Error(`SeedInventory seeds no ${SKU}`);
    return Number(item.Quantity);
  }
}

function healTarget(orders: number): number {
  return RECONCILER_INTERVAL_SECONDS + Number(RECONCILER.ReconcileDeadlineSeconds) + Math.ceil(orders / PAYMENTS_PER_SECOND);
}

/** An ISO-8601 interval from now, for the provider's outage parameter (an open end: for good). */
function outageFromNow(seconds: number | undefined): string {
  const start = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  return seconds === undefined ? `${start}/` : `${start}/PT${seconds}S`;
}

type Scenario = (options: ChaosOptions) => Promise<ChaosRow>;

/** The provider fails a share of its requests all along; healing is measured from the last order sent. */
const provider5xx: Scenario = async ({ orders, clients }) => {
  const harness = await Harness.start({ ProviderFaultFailureRate: '0.3' });
  try {
    await harness.tunePayments(PROVIDER_SCENARIO_VISIBILITY_SECONDS);
    await harness.sendOrders(orders, clients, '5xx');
    const faultEnded = Date.now();
    return await harness.measure('provider-5xx', faultEnded, await harness.settle(), [
      `30 % of provider requests answered 5xx throughout (healing counted from the last order sent); PaymentsQueue visibility ${PROVIDER_SCENARIO_VISIBILITY_SECONDS} s`,
    ]);
  } finally {
    await harness.stop();
  }
};

/** The provider is down for 60 s of load (its window opens as the stack starts, which takes seconds). */
const providerOutage: Scenario = async ({ orders, clients }) => {
  const boot = 15;
  const outage = outageFromNow(60 + boot);
  const faultEnds = Date.parse(outage.split('/')[0]!) + (60 + boot) * 1000;
  const harness = await Harness.start({ ProviderFaultOutage: outage });
  try {
    await harness.tunePayments(PROVIDER_SCENARIO_VISIBILITY_SECONDS);
    await harness.sendOrders(orders, clients, 'outage');
    return await harness.measure('provider-outage', faultEnds, await harness.settle(), [
      `provider down until ${new Date(faultEnds).toISOString()}; PaymentsQueue visibility ${PROVIDER_SCENARIO_VISIBILITY_SECONDS} s`,
    ]);
  } finally {
    await harness.stop();
  }
};

/**
 * The provider stays down: every payment is dead-lettered (PaymentsQueue's visibility timeout and
 * receive count shortened, as an operator could, so that this takes a minute rather than the
 * template's 50) and every customer told. The provider then recovers (the stack restarts on the
 * same state without the fault): the reconciler enqueues the dead-lettered payments again, and
 * every order ends paid and handed off. `wims dlq redrive` is run too, as an operator would.
 */
const providerDown: Scenario = async ({ orders, clients }) => {
  // Enough attempts that the orders outlive the outage (each run re-drives a dead-lettered payment, which fails again).
  const patient = { ReconcileMaxAttempts: '20' };
  const down = await Harness.start({ ...patient, ProviderFaultOutage: outageFromNow(undefined) });
  let stateDir = down.stateDir;
  const notes: string[] = [];
  try {
    await down.tunePayments('5', 2);
    const notices = await down.subscribeToCustomerNotices();
    await down.sendOrders(orders, clients, 'down');
    await down.settle((stored) => down.accepted.every((order) => stored.get(order.orderId)?.paymentStatus === 'FAILED'));
    const failedPayments = [...(await down.orders()).values()].filter((order) => order.paymentStatus === 'FAILED').length;
    const told = new Set((await down.drain(notices)).map((body) => String((JSON.parse(body) as { orderId?: unknown }).orderId)));
    notes.push(`${failedPayments} of ${down.accepted.length} payments dead-lettered and marked FAILED; ${told.size} customers told`);
    stateDir = down.stateDir;
  } finally {
    await down.stop({ keepState: true });
  }
  const recovered = await Harness.start(patient, stateDir).catch((error: unknown) => {
    rmSync(stateDir, { recursive: true, force: true });
    throw error;
  });
  try {
    recovered.accepted.push(...down.accepted);
    const recoveredAt = Date.now();
    const moved = await redriveDeadLetters(recovered.stack, 'PaymentsDeadLetterQueue');
    notes.push(`provider back; wims dlq redrive moved ${moved} payments (PaymentFailedFunction had consumed them); the reconciler enqueued them again`);
    return await recovered.measure('provider-down', recoveredAt, await recovered.settle(), notes);
  } finally {
    await recovered.stop();
  }
};


/** The runtime SIGKILLed at a random point of the load and restarted, as loadtest/crash.ts does it. */
const sigkill: Scenario = async ({ orders, clients }) => {
  const result = await crashRun({ orders, clients, settleTimeoutMs: SETTLE_TIMEOUT_MS });
  const terminal = Object.entries(result.byStatus).filter(([status]) => TERMINAL.has(status.split('/')[0]!)).reduce((sum, [, count]) => sum + count, 0);
  return {
    scenario: 'sigkill',
    accepted: result.accepted,
    terminal,
    stranded: result.stranded,
    doubleCharges: result.doubleCharges,
    doubleDecrements: result.stockDecrement - result.reservedQuantity,
    duplicateFulfillmentMessages: result.duplicateFulfillmentMessages,
    healSeconds: Math.round(result.settleSeconds),
    healTargetSeconds: healTarget(result.accepted),
    statuses: result.byStatus,
    notes: [`killed after ${result.killedAfter} orders; healing counted from the restart`],
  };
};

/** Each order event the bus accepts is put on it once more, 0–3 s later, so duplicates arrive out of order. */
const duplicates: Scenario = async ({ orders, clients }) => {
  const harness = await Harness.start({});
  try {
    const bus = harness.output('EventBusName');
    let duplicated = 0;
    const pending: Array<Promise<void>> = [];
    const stopListening = harness.stack.events.onEvent(({ busName, event }) => {
      if (busName !== bus || event.source === 'aws.events' || event['replay-name'] !== undefined) return;
      if ((event.detail as { chaosDuplicate?: boolean }).chaosDuplicate) return;
      pending.push(sleep(Math.random() * 3000).then(() => {
        harness.stack.events.putEvents([{
          EventBusName: bus, Source: event.source, DetailType: event['detail-type'], Resources: event.resources,
          Detail: JSON.stringify({ ...event.detail, chaosDuplicate: true }),
        }]);
        duplicated++;
      }));
    });
    await harness.sendOrders(orders, clients, 'dup');
    await harness.settle();
    stopListening();
    await Promise.all(pending);
    const faultEnded = Date.now();
    return await harness.measure('duplicates', faultEnded, await harness.settle(), [`${duplicated} events put twice, up to 3 s apart`]);
  } finally {
    await harness.stop();
  }
};

/** Once every order has settled, the whole event archive is replayed three times. */
const replay: Scenario = async ({ orders, clients }) => {
  const harness = await Harness.start({});
  try {
    await harness.sendOrders(orders, clients, 'replay');
    await harness.settle();
    let replayed = 0;
    for (let round = 0; round < 3; round++) {
      ({ replayed } = await harness.stack.events.replay({ archiveName: harness.output('EventArchiveName'), startTime: new Date(0), endTime: new Date() }));
    }
    await harness.stack.events.idle();
    const faultEnded = Date.now();
    return await harness.measure('replay', faultEnded, await harness.settle(), [`${replayed} archived events replayed 3 times`]);
  } finally {
    await harness.stop();
  }
};

/** Hostile requests beside real orders, and a malformed order written past the API. */
const poison: Scenario = async ({ orders, clients }) => {
  const harness = await Harness.start({});
  try {
    const hostile: Array<{ body: string; contentType?: string }> = [
      { body: '{"customerId": "p-1", "quantity": 1' },
      { body: JSON.stringify({ customerId: 'p-2', quantity: -1 }) },
      { body: JSON.stringify({ customerId: 'p-3', quantity: 1e9 }) },
      { body: JSON.stringify({ customerId: 'p-4', quantity: 1, sku: 'NO-SUCH-THING' }) },
      { body: JSON.stringify({ customerId: 'p-\u0000', quantity: 1 }) },
      { body: JSON.stringify({ customerId: '\u202Ep-6', quantity: 1 }) },
      { body: JSON.stringify({ customerId: ' ', quantity: 1 }) },
      { body: JSON.stringify({ customerId: 'x'.repeat(10_000), quantity: 1 }) },
      { body: JSON.stringify({ customerId: 'p-9', quantity: 1 }), contentType: 'text/plain' },
    ];
    const answers = await Promise.all(hostile.map(async ({ body, contentType }) => (await fetch(`${harness.api}/orders`, {
      method: 'POST', headers: { 'content-type': contentType ?? 'application/json' }, body,
    })).status));
    const refused = answers.filter((status) => status >= 400 && status < 500).length;
    await harness.sendOrders(orders, clients, 'poison');
    // An open order no API would write (its quantity not a number): the reconciler must end it, not strand it.
    const orderId = `poison-${Date.now()}`;
    const now = String(Date.now());
    const dynamodb = new DynamoDBClient(localClientConfig(harness.stack.endpoints.dynamodb, REGION));
    try {
      await dynamodb.send(new PutItemCommand({
        TableName: harness.output('TableName'),
        Item: {
          pk: { S: 'CUSTOMER#chaos-poison-direct' }, sk: { S: `ORDER#${orderId}` }, orderId: { S: orderId }, customerId: { S: 'chaos-poison-direct' },
          status: { S: 'PENDING' }, quantity: { S: 'many' }, sku: { S: SKU }, createdAt: { N: now }, openShard: { S: 'OPEN#0' }, openSince: { N: now },
        },
      }));
    } finally {
      dynamodb.destroy();
    }
    harness.accepted.push({ orderId, customerId: 'chaos-poison-direct', quantity: 0 });
    const faultEnded = Date.now();
    const written = [...(await harness.observer.orders(new Set(['p-1', 'p-2', 'p-3', 'p-4', 'p-9']))).values()].length;
    return await harness.measure('poison', faultEnded, await harness.settle(), [
      `${refused} of ${hostile.length} hostile requests refused with a 4xx (${answers.join(', ')}), ${written} of them written`,
      `a malformed order written to the table: ${(await harness.orders()).get(orderId)?.status ?? 'missing'}`,
    ]);
  } finally {
    await harness.stop();
  }
};

/** DynamoDB Local is killed mid-load, and a new one starts on the same port and files 5 s later. */
const dynamodbRestart: Scenario = async ({ orders, clients }) => {
  const harness = await Harness.start({});
  let replacement: DynamoDbLocal | undefined;
  try {
    const { port, pid } = harness.stack.dynamodbEngine;
    const load = harness.sendOrders(orders, clients, 'ddb');
    await sleep(3000);
    const killedAt = Date.now();
    const answeredBeforeKill = harness.accepted.length;
    process.kill(pid, 'SIGKILL');
    await sleep(5000);
    replacement = await startDynamoDbLocal({ stateDir: harness.stateDir, port });
    const faultEnded = Date.now();
    await load;
    return await harness.measure('dynamodb-restart', faultEnded, await harness.settle(), [
      `DynamoDB Local killed 3 s in (${answeredBeforeKill} orders accepted by then, the rest in flight) and down for ${((faultEnded - killedAt) / 1000).toFixed(0)} s; a request it missed is answered 5xx, not accepted`,
    ]);
  } finally {
    await harness.stop();
    await replacement?.stop();
  }
};

const SCENARIOS: Record<string, Scenario> = {
  'provider-5xx': provider5xx,
  'provider-outage': providerOutage,
  'provider-down': providerDown,
  sigkill,
  duplicates,
  replay,
  poison,
  'dynamodb-restart': dynamodbRestart,
};

const COLUMNS: Array<[string, (row: ChaosRow) => string | number]> = [
  ['scenario', (row) => row.scenario],
  ['accepted', (row) => row.accepted],
  ['terminal', (row) => row.terminal],
  ['stranded', (row) => row.stranded],
  ['double charges', (row) => row.doubleCharges],
  ['double decrements', (row) => row.doubleDecrements],
  ['duplicate fulfillment msgs', (row) => row.duplicateFulfillmentMessages],
  ['time to heal (target)', (row) => `${row.healSeconds} s (${row.healTargetSeconds} s)`],
];

/** Whether a row meets every target. */
export function meetsTargets(row: ChaosRow): boolean {
  return !row.notes.some((note) => note.startsWith('failed: ')) && row.stranded === 0 && row.doubleCharges === 0 && row.doubleDecrements === 0
    && row.duplicateFulfillmentMessages === 0 && row.healSeconds <= row.healTargetSeconds;
}

function formatRow(row: ChaosRow): string {
  const header = COLUMNS.map(([name]) => name);
  const values = COLUMNS.map(([, value]) => String(value(row)));
  const widths = header.map((name, index) => Math.max(name.length, values[index]!.length));
  const line = (cells: string[]) => `| ${cells.map((cell, index) => cell.padEnd(widths[index]!)).join(' | ')} |`;
  return [line(header), line(widths.map((width) => '-'.repeat(width))), line(values), ...row.notes.map((note) => `  ${note}`), `  statuses: ${JSON.stringify(row.statuses)}`].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    only: { type: 'string' }, orders: { type: 'string', default: '60' }, clients: { type: 'string', default: '6' },
  } });
  const names = values.only === undefined ? Object.keys(SCENARIOS) : values.only.split(',');
  const unknown = names.filter((name) => !(name in SCENARIOS));
  if (unknown.length > 0) throw new Error(`no such scenario: ${unknown.join(', ')} (scenarios: ${Object.keys(SCENARIOS).join(', ')})`);
  const options = { orders: Number(values.orders), clients: Number(values.clients) };
  const rows: ChaosRow[] = [];
  for (const name of names) {
    const started = Date.now();
    console.log(`\n${name} (${options.orders} orders from ${options.clients} clients)`);
    // A scenario that throws misses its targets; the others still run.
    const row = await SCENARIOS[name]!(options).catch((error: unknown): ChaosRow => ({
      scenario: name, accepted: 0, terminal: 0, stranded: 0, doubleCharges: 0, doubleDecrements: 0, duplicateFulfillmentMessages: 0,
      healSeconds: 0, healTargetSeconds: 0,
      statuses: {}, notes: [`failed: ${error instanceof Error ? error.message : String(error)}`],
    }));
    rows.push(row);
    console.log(formatRow(row));
    console.log(`  ${meetsTargets(row) ? 'every target met' : 'TARGET MISSED'} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  }
  mkdirSync(dirname(RESULTS_FILE), { recursive: true });
  writeFileSync(RESULTS_FILE, `${JSON.stringify({ when: new Date().toISOString(), ...options, rows }, null, 2)}\n`);
  console.log(`\nwrote ${RESULTS_FILE}`);
  if (!rows.every(meetsTargets)) process.exitCode = 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.stack : error);
    process.exitCode = 1;
  });
}
