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
 * LIMITATIONS: a conditional write refused by its condition answers an error without consumed
 * capacity; AWS bills it by the size of the existing item, which the error does not tell, so it
 * counts the minimum, 1 write request unit. A cancelled transaction is counted, not billed (what
 * AWS bills for one is not documented where we looked). PartiQL actions (ExecuteStatement,
 * BatchExecuteStatement, ExecuteTransaction) pass through unmetered. Bodies are buffered, not
 * streamed.
 */
import { Agent, createServer, request as forwardRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32 } from 'node:zlib';
import { LOOPBACK } from '../../net.js';

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

const DYNAMODB_API = 'DynamoDB_20120810';
const STREAMS_API = 'DynamoDBStreams_20120810';
const READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems']);
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);
const SINGLE_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem']);
const ASK_FIELD = '"ReturnConsumedCapacity"';
const ASK_TOTAL = `${ASK_FIELD}:"TOTAL"`;
const OPEN_BRACE = 0x7b;
/** Headers that describe one hop or a body the proxy may rewrite. */
const HOP_HEADERS = ['connection', 'keep-alive', 'transfer-encoding', 'content-length'];

interface Capacity {
  TableName?: string;
  CapacityUnits?: number;
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Starts the proxy on a free loopback port, forwarding to `target` (DynamoDB Local's endpoint). */
export async function startMeteringProxy(target: string): Promise<MeteringProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true });
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

  const addUnits = (kind: keyof TableUnits, table: string, units: number): void => {
    usage[kind] += units;
    const perTable = (usage.byTable[table] ??= { writeRequestUnits: 0, readRequestUnits: 0 });
    perTable[kind] += units;
  };

  const forward = (req: IncomingMessage, body: Buffer): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const headers = { ...withoutHopHeaders(req.headers), 'content-length': String(body.length) };
      const outgoing = forwardRequest(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent },
        (response) => {
          readBody(response).then((answer) => resolve({ status: response.statusCode ?? 502, headers: response.headers, body: answer }), reject);
        },
      );
      outgoing.once('error', reject);
      outgoing.end(body);
    });

  /** Counts the units of a data-plane answer; returns the body to send back (without the capacity the caller did not ask for). */
  const meter = (action: string, request: Buffer, answer: Answer, added: boolean): Buffer => {
    if (answer.status !== 200) {
      countRefusal(action, request, answer.body);
      return answer.body;
    }
    const parsed = JSON.parse(answer.body.toString('utf8')) as { ConsumedCapacity?: Capacity | Capacity[] };
    const kind = READS.has(action) ? 'readRequestUnits' : 'writeRequestUnits';
    for (const capacity of [parsed.ConsumedCapacity ?? []].flat()) {
      addUnits(kind, capacity.TableName ?? '', capacity.CapacityUnits ?? 0);
      // The write's stream records exist once DynamoDB Local has answered.
      if (kind === 'writeRequestUnits') writeListeners.get(capacity.TableName ?? '')?.forEach((listener) => listener());
    }
    if (!added) return answer.body;
    delete parsed.ConsumedCapacity;
    return Buffer.from(JSON.stringify(parsed));
  };

  const countRefusal = (action: string, request: Buffer, answer: Buffer): void => {
    if (answer.includes('TransactionCanceledException')) usage.cancelledTransactions++;
    else if (SINGLE_WRITES.has(action) && answer.includes('ConditionalCheckFailedException')) {
      usage.failedConditionalWrites++;
      addUnits('writeRequestUnits', String((JSON.parse(request.toString('utf8')) as { TableName?: string }).TableName ?? ''), 1);
    }
  };

  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const [api, action = ''] = String(req.headers['x-amz-target'] ?? '').split('.');
      usage.requestsByAction[action] = (usage.requestsByAction[action] ?? 0) + 1;
      const metered = api === DYNAMODB_API && (READS.has(action) || WRITES.has(action));
      const asked = metered ? askForCapacity(body) : { body, added: false };
      const answer = await forward(req, asked.body);
      let reply = answer.body;
      if (metered) reply = meter(action, asked.body, answer, asked.added);
      else if (api === STREAMS_API && action === 'GetRecords' && answer.status === 200) {
        // Every stream record carries an eventID; an answer without one returned nothing.
        if (answer.body.includes('"eventID"')) usage.streamsReadRequests++;
        else usage.streamsEmptyReadRequests++;
      }
      const headers = withoutHopHeaders(answer.headers);
      // DynamoDB sends a CRC32 of the body (x-amz-crc32), which SDKs may check.
      if (reply !== answer.body && headers['x-amz-crc32'] !== undefined) headers['x-amz-crc32'] = String(crc32(reply));
      res.writeHead(answer.status, { ...headers, 'content-length': reply.length });
      res.end(reply);
    })().catch((error: Error) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: `metering proxy: ${error.message}` }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => resolve());
  });
  let stopped: Promise<void> | undefined;
  return {
    endpoint: `http://${LOOPBACK}:${(server.address() as AddressInfo).port}`,
    usage: () => structuredClone(usage),
    subscribe,
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      })),
  };
}

/**
 * Makes sure the request asks for TOTAL consumed capacity; `added` says the caller had not asked
 * (so the answer must not show it). The common case, a body without the field, is patched
 * without parsing it.
 */
function askForCapacity(body: Buffer): { body: Buffer; added: boolean } {
  if (body.includes(ASK_FIELD)) {
    const request = JSON.parse(body.toString('utf8')) as { ReturnConsumedCapacity?: string };
    if (request.ReturnConsumedCapacity === 'TOTAL' || request.ReturnConsumedCapacity === 'INDEXES') return { body, added: false };
    return { body: Buffer.from(JSON.stringify({ ...request, ReturnConsumedCapacity: 'TOTAL' })), added: true };
  }
  const open = body.indexOf(OPEN_BRACE);
  if (open < 0) return { body, added: false }; // not JSON: DynamoDB answers the error
  const rest = body.subarray(open + 1);
  const empty = rest.length < 16 && rest.toString('utf8').trim() === '}';
  return { body: Buffer.concat([body.subarray(0, open + 1), Buffer.from(empty ? ASK_TOTAL : `${ASK_TOTAL},`), body.subarray(open + 1)]), added: true };
}

function withoutHopHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const kept = { ...headers };
  for (const name of HOP_HEADERS) delete kept[name];
  return kept;
}

async function readBody(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
