/**
 * A counting HTTP proxy in front of DynamoDB Local. Every client of the local runtime (functions,
 * state machines, API integrations, stream pollers, the printed endpoint) talks to it, so it sees
 * every request AWS would bill. DynamoDB Local computes consumed capacity as DynamoDB does (1 KB per
 * write request unit, 4 KB per read request unit, half for eventually consistent reads, double for
 * transactions, index writes included), but only reports it when asked: the proxy adds
 * `ReturnConsumedCapacity: TOTAL` to each data-plane request and strips `ConsumedCapacity` from the
 * answer again when the caller had not asked for it. DynamoDB Streams `GetRecords` calls (one
 * streams read request unit each) are counted apart, those that returned records apart from the
 * empty ones (a poller's idle polling).
 *
 * The forwarding runs on the intake thread (local/service-thread.ts; metering-worker.ts), which
 * reports each request; the counts, and the stream readers waiting for a table's writes, stay here.
 *
 * LIMITATIONS: a conditional write refused by its condition answers an error without consumed
 * capacity; AWS bills it by the size of the existing item, which the error does not tell, so it
 * counts the minimum, 1 write request unit. A cancelled transaction is counted, not billed (what
 * AWS bills for one is not documented where we looked). PartiQL actions (ExecuteStatement,
 * BatchExecuteStatement, ExecuteTransaction) pass through unmetered. Bodies are buffered, not
 * streamed.
 */
import { LOOPBACK } from '../../net.js';
import type { ServiceThread } from '../../service-thread.js';
import type { MeteredRequest, MeteringWorkerMessage, MeteringWorkerSetup } from './metering-worker.js';

/** Consumed capacity of one table. */
export interface TableUnits {
  writeRequestUnits: number;
  readRequestUnits: number;
}

/** Billable DynamoDB units since the proxy started. */
export interface DynamoDbUsage extends TableUnits {
  /** By table name. */
  byTable: Record<string, TableUnits>;
  /** Single-item writes refused by their condition (1 write request unit each is in writeRequestUnits). */
  failedConditionalWrites: number;
  /** TransactWriteItems/TransactGetItems calls that were cancelled (no units counted). */
  cancelledTransactions: number;
  /** DynamoDB Streams GetRecords calls that returned records. */
  streamsReadRequests: number;
  /** GetRecords calls that returned no record: polling, whose rate depends on the poller. */
  streamsEmptyReadRequests: number;
  /** Every request by its action (`GetItem`, `TransactWriteItems`, `GetRecords`, …), answered or refused: what DynamoDB Local did. */
  requestsByAction: Record<string, number>;
}

/** Successful writes to tables, as the proxy sees them pass: what a stream reader waits for. */
export interface TableWrites {
  /** Calls `listener` after each successful write to `tableName`; returns the unsubscribe function. */
  subscribe(tableName: string, listener: () => void): () => void;
}

/** A running proxy. */
export interface MeteringProxy extends TableWrites {
  /** `http://127.0.0.1:<port>`: give this to clients instead of DynamoDB Local's endpoint. */
  endpoint: string;
  usage(): DynamoDbUsage;
  /** Closes the server and its connections; safe to call twice. */
  stop(): Promise<void>;
}

/** Starts the proxy on `thread`, on a free loopback port, forwarding to `target` (DynamoDB Local's endpoint). */
export async function startMeteringProxy(target: string, thread: ServiceThread): Promise<MeteringProxy> {
  const usage: DynamoDbUsage = {
    writeRequestUnits: 0, readRequestUnits: 0, byTable: {}, failedConditionalWrites: 0, cancelledTransactions: 0,
    streamsReadRequests: 0, streamsEmptyReadRequests: 0, requestsByAction: {},
  };

  const writeListeners = new Map<string, Set<() => void>>();
  const subscribe = (tableName: string, listener: () => void): (() => void) => {
    const listeners = writeListeners.get(tableName) ?? new Set();
    writeListeners.set(tableName, listeners.add(listener));
    return () => void listeners.delete(listener);
  };

  const count = (request: MeteredRequest): void => {
    usage.requestsByAction[request.action] = (usage.requestsByAction[request.action] ?? 0) + 1;
    for (const { kind, table, units } of request.units) {
      usage[kind] += units;
      const perTable = (usage.byTable[table] ??= { writeRequestUnits: 0, readRequestUnits: 0 });
      perTable[kind] += units;
    }
    if (request.failedConditionalWrite) usage.failedConditionalWrites++;
    if (request.cancelledTransaction) usage.cancelledTransactions++;
    if (request.streamRead === 'records') usage.streamsReadRequests++;
    if (request.streamRead === 'empty') usage.streamsEmptyReadRequests++;
    for (const table of request.written) writeListeners.get(table)?.forEach((listener) => listener());
  };

  const setup: MeteringWorkerSetup = { target };
  const port = thread.host(new URL('./metering-worker.ts', import.meta.url), setup);
  let closed = false;
  const listening = await new Promise<number>((resolve, reject) => {
    port.on('message', (message: MeteringWorkerMessage) => {
      if ('metered' in message) count(message.metered);
      else resolve(message.listening);
    });
    port.once('close', () => {
      closed = true;
      reject(new Error('the intake thread ended before the metering proxy listened'));
    });
  });

  let stopped: Promise<void> | undefined;
  return {
    endpoint: `http://${LOOPBACK}:${listening}`,
    usage: () => structuredClone(usage),
    subscribe,
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        // A thread that has ended has closed the port: nothing is left to stop.
        if (closed) return resolve();
        port.once('close', () => resolve());
        port.postMessage('stop');
      })),
  };
}
