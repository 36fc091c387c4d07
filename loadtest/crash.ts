/**
 * `npm run crash`: what a crash does to accepted orders. Each run starts `wims up` as its own
 * process group (state in a fresh folder), sends orders from concurrent clients, SIGKILLs the
 * whole group (DynamoDB Local included) once a random share of them has been answered 202, as an
 * OOM kill or a closed laptop would, then, after a downtime, starts `wims up` again on the same
 * state and waits until every order is terminal. Printed per run: accepted orders, where the kill fell, how many are
 * stranded (accepted but missing, or not terminal: an order written whose 202 the kill cut off
 * counts too), the stock decrement against the reserved quantities, orders charged more
 * than once, and FulfillmentQueue messages beyond one per order.
 *
 *   npm run crash                              5 runs of 120 orders from 10 clients
 *   npm run crash -- --runs 20 --orders 200 --clients 10
 *   npm run crash -- --downtime 0               restart at once (see DEFAULT_DOWNTIME_MS)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { localClientConfig } from '../local/net.js';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Statuses an order leaves no more without a person acting. */
const TERMINAL = new Set(['READY_FOR_FULFILLMENT', 'BACKORDERED']);
const SEED_STOCK_KEY = { pk: 'INVENTORY#MACGUFFIN', sk: 'MODEL#LX' };

export interface CrashOptions {
  orders: number;
  clients: number;
  /** How long the restarted stack has to settle every accepted order. */
  settleTimeoutMs?: number;
  /** The share of orders answered before the kill, [0, 1); random in [0.2, 0.8) when absent. */
  killAt?: number;
  /** How long the runtime stays down, in ms (default {@link DEFAULT_DOWNTIME_MS}). */
  downtimeMs?: number;
}

/**
 * Longer than the functions' 10 s Timeout: Powertools' in-progress record of a payment the kill
 * cut short has expired by then, so its redelivery is charged at once. Restarted sooner, that
 * retry is refused as in progress and waits out PaymentsQueue's 300 s visibility timeout (as it
 * would on AWS): nothing is lost either way, it only takes longer.
 */
export const DEFAULT_DOWNTIME_MS = 11_000;

export interface CrashResult {
  accepted: number;
  killedAfter: number;
  stranded: number;
  /** Written orders by status (with `/<paymentStatus>` when one is set) once settled or timed out. */
  byStatus: Record<string, number>;
  reservedQuantity: number;
  stockDecrement: number;
  doubleCharges: number;
  /** FulfillmentQueue messages beyond one per order. */
  duplicateFulfillmentMessages: number;
  settleSeconds: number;
}

interface Runtime { child: ChildProcess; api: string; dynamodb: string; sqs: string; table: string; ledger: string; fulfillmentQueue: string }

/** The runtimes started and not yet exited: their groups are detached, so an interrupted run must stop them itself. */
const liveRuntimes = new Set<ChildProcess>();

/** Starts `wims up` in its own process group and resolves once it is ready. */
async function startRuntime(stateDir: string): Promise<Runtime> {
  const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin', 'wims.js'), 'up', '--port', '0', '--aws-port', '0', '--state-dir', stateDir], {
    cwd: PROJECT_ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  liveRuntimes.add(child);
  child.once('exit', () => liveRuntimes.delete(child));
  let output = '';
  await new Promise<void>((ready, fail) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      if (/^ready in /m.test(output)) ready();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => fail(new Error(`wims up exited with ${code} before it was ready:\n${output}`)));
  });
  const state = JSON.parse(readFileSync(join(stateDir, 'runtime.json'), 'utf8')) as {
    endpoints: { dynamodb: string; sqs: string; apis: Array<{ logicalId: string; url: string }> };
    outputs: Record<string, string>;
  };
  return {
    child,
    api: state.endpoints.apis.find((api) => api.logicalId === 'OrdersApi')!.url,
    dynamodb: state.endpoints.dynamodb,
    sqs: state.endpoints.sqs,
    table: state.outputs.TableName!,
    ledger: state.outputs.ProviderLedgerTableName!,
    fulfillmentQueue: state.outputs.FulfillmentQueueUrl!,
  };
}

/** Sends a signal to the whole process group and resolves once its leader has exited. */
async function signalGroup(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  process.kill(-child.pid!, signal);
  await exited;
}

interface Accepted { orderId: string; customerId: string; quantity: number }

/** Sends orders from `clients` concurrent clients until `orders` are sent or the stack stops answering. */
async function sendOrders(api: string, options: CrashOptions, onAccepted: (count: number) => void): Promise<Accepted[]> {
  const accepted: Accepted[] = [];
  let next = 0;
  const client = async (): Promise<void> => {
    while (next < options.orders) {
      const index = next++;
      const order = { customerId: `crash-${index}`, quantity: 1 + (index % 3) };
      try {
        const response = await fetch(`${api}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(order) });
        const body = (await response.json()) as { orderId?: string };
        if (response.status === 202 && body.orderId) {
          accepted.push({ orderId: body.orderId, ...order });
          onAccepted(accepted.length);
        }
      } catch {
        return; // the stack is down: the kill happened
      }
    }
  };
  await Promise.all(Array.from({ length: options.clients }, client));
  return accepted;
}

/** Messages on the runtime's FulfillmentQueue beyond one per value of `key` in their bodies (they are received and left to expire back). */
async function duplicateMessages(runtime: Runtime, key: string): Promise<number> {
  const sqs = new SQSClient(localClientConfig(runtime.sqs, 'us-east-1'));
  const values: string[] = [];
  try {
    for (let empty = 0; empty < 2;) {
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({
        QueueUrl: runtime.fulfillmentQueue, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 900,
      }));
      empty = Messages.length === 0 ? empty + 1 : 0;
      values.push(...Messages.map((message) => String((JSON.parse(message.Body ?? '{}') as Record<string, unknown>)[key])));
    }
  } finally {
    sqs.destroy();
  }
  return values.length - new Set(values).size;
}

/** One crash and recovery. */
export async function crashRun(options: CrashOptions): Promise<CrashResult> {
  const stateDir = mkdtempSync(join(tmpdir(), 'wims-crash-'));
  let runtime: Runtime | undefined;
  try {
    runtime = await startRuntime(stateDir);
    const killAfter = Math.max(1, Math.floor(options.orders * (options.killAt ?? 0.2 + Math.random() * 0.6)));
    const first = runtime;
    let killing: Promise<void> | undefined;
    const accepted = await sendOrders(first.api, options, (count) => {
      if (count === killAfter) killing = signalGroup(first.child, 'SIGKILL');
    });
    // Every order answered before the kill point (some refused): kill now, before the restart.
    await (killing ?? signalGroup(first.child, 'SIGKILL'));
    await sleep(options.downtimeMs ?? DEFAULT_DOWNTIME_MS);

    const started = Date.now();
    runtime = await startRuntime(stateDir);
    const documents = DynamoDBDocumentClient.from(new DynamoDBClient(localClientConfig(runtime.dynamodb, 'us-east-1')));
    try {
      const orderIds = new Set(accepted.map((order) => order.orderId));
      const ordersNow = async (): Promise<Array<Record<string, unknown>>> => {
        const items: Array<Record<string, unknown>> = [];
        let start: Record<string, unknown> | undefined;
        do {
          const page = await documents.send(new ScanCommand({ TableName: runtime!.table, ExclusiveStartKey: start, FilterExpression: 'begins_with(pk, :customer)', ExpressionAttributeValues: { ':customer': 'CUSTOMER#crash-' } }));
          items.push(...(page.Items ?? []));
          start = page.LastEvaluatedKey;
        } while (start);
        return items;
      };
      const deadline = started + (options.settleTimeoutMs ?? 120_000);
      let orders = await ordersNow();
      while (orders.some((order) => !TERMINAL.has(String(order.status))) && Date.now() < deadline) {
        await sleep(1000);
        orders = await ordersNow();
      }
      const settleSeconds = (Date.now() - started) / 1000;
      const byStatus: Record<string, number> = {};
      for (const order of orders) {
        const key = order.paymentStatus ? `${String(order.status)}/${String(order.paymentStatus)}` : String(order.status);
        byStatus[key] = (byStatus[key] ?? 0) + 1;
      }
      // An order written whose 202 the kill cut off must settle too; an accepted one must exist.
      const written = new Set(orders.map((order) => String(order.orderId)));
      const stranded = [...orderIds].filter((orderId) => !written.has(orderId)).length
        + orders.filter((order) => !TERMINAL.has(String(order.status))).length;
      const reservedQuantity = orders
        .filter((order) => order.status !== 'PENDING' && order.status !== 'BACKORDERED')
        .reduce((sum, order) => sum + Number(order.quantity), 0);
      const stock = (await documents.send(new GetCommand({ TableName: runtime.table, Key: SEED_STOCK_KEY }))).Item;
      const seeded = 1_000_000;
      const charges = new Map<string, number>();
      for (const charge of (await documents.send(new ScanCommand({ TableName: runtime.ledger }))).Items ?? []) {
        const orderId = String(charge.orderId);
        charges.set(orderId, (charges.get(orderId) ?? 0) + 1);
      }
      return {
        accepted: accepted.length,
        killedAfter: killAfter,
        stranded,
        byStatus,
        reservedQuantity,
        stockDecrement: seeded - Number(stock?.quantity),
        doubleCharges: [...charges.values()].filter((count) => count > 1).length,
        duplicateFulfillmentMessages: await duplicateMessages(runtime, 'orderId'),
        settleSeconds,
      };
    } finally {
      documents.destroy();
    }
  } finally {
    if (runtime) await signalGroup(runtime.child, 'SIGTERM');
    rmSync(stateDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const child of liveRuntimes) process.kill(-child.pid!, 'SIGKILL');
      process.exit(130);
    });
  }
  const { values } = parseArgs({ options: {
    runs: { type: 'string', default: '5' }, orders: { type: 'string', default: '120' }, clients: { type: 'string', default: '10' },
    downtime: { type: 'string', default: String(DEFAULT_DOWNTIME_MS / 1000) },
  } });
  const runs = Number(values.runs);
  const options = { orders: Number(values.orders), clients: Number(values.clients), downtimeMs: Number(values.downtime) * 1000, settleTimeoutMs: 420_000 };
  console.log(`${runs} runs of ${options.orders} orders from ${options.clients} clients, down ${values.downtime} s after each kill`);
  console.log('run | accepted | killed after | stranded | stock decrement / reserved | double charges | duplicate hand-offs | settled in | statuses');
  let failed = 0;
  for (let run = 1; run <= runs; run++) {
    const result = await crashRun(options);
    const ok = result.stranded === 0 && result.stockDecrement === result.reservedQuantity
      && result.doubleCharges === 0 && result.duplicateFulfillmentMessages === 0;
    if (!ok) failed++;
    console.log([
      run, result.accepted, result.killedAfter, result.stranded, `${result.stockDecrement} / ${result.reservedQuantity}`,
      result.doubleCharges, result.duplicateFulfillmentMessages, `${result.settleSeconds.toFixed(0)} s`, JSON.stringify(result.byStatus),
    ].join(' | '));
  }
  console.log(`${runs - failed} of ${runs} runs lost nothing and counted nothing twice`);
  if (failed > 0) process.exitCode = 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
