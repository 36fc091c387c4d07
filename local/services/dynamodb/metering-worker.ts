/**
 * The metering proxy's half on the intake thread (local/service-thread.ts): it forwards every
 * request to DynamoDB Local and reports what each one was billed (see metering-proxy.ts, which
 * keeps the counts). Off the main thread, a DynamoDB call never waits for the runtime's main
 * event loop, which the rest of the stack keeps busy: API Gateway's intake writes pass here too.
 *
 * Its report of a request is posted before the answer is written, so a caller that has its
 * answer finds the request counted.
 */
import { Agent, createServer, request as forwardRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MessagePort } from 'node:worker_threads';
import { crc32 } from 'node:zlib';
// By their .ts names: the thread runs without a TypeScript loader (Node strips the types itself).
import { LOOPBACK } from '../../net.ts';
import type { HostedStart } from '../../service-thread-worker.ts';

/** Which units a request consumed, and on which table. */
export interface ConsumedUnits {
  kind: 'writeRequestUnits' | 'readRequestUnits';
  table: string;
  units: number;
}

/** One request as the proxy saw it pass. */
export interface MeteredRequest {
  /** `GetItem`, `TransactWriteItems`, `GetRecords`, …; empty when the request named none. */
  action: string;
  units: ConsumedUnits[];
  /** Tables with a successful write: their stream records exist once this is reported. */
  written: string[];
  failedConditionalWrite: boolean;
  cancelledTransaction: boolean;
  /** For DynamoDB Streams GetRecords answers: whether it returned records. */
  streamRead?: 'records' | 'empty';
}

/** What the proxy's half posts: its port once listening, then one report per request; it closes the port once stopped. */
export type MeteringWorkerMessage = { listening: number } | { metered: MeteredRequest };

/** What the proxy's half is started with. */
export interface MeteringWorkerSetup {
  /** DynamoDB Local's endpoint. */
  target: string;
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

/** Starts the proxy on a free loopback port; `port` carries its reports and the stop request. */
export const start: HostedStart<MeteringWorkerSetup> = (port: MessagePort, setup, thread) => {
  const upstream = new URL(setup.target);
  const agent = new Agent({ keepAlive: true });
  const post = (message: MeteringWorkerMessage): void => port.postMessage(message);

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

  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const [api, action = ''] = String(req.headers['x-amz-target'] ?? '').split('.');
      const metered: MeteredRequest = { action, units: [], written: [], failedConditionalWrite: false, cancelledTransaction: false };
      const dataPlane = api === DYNAMODB_API && (READS.has(action) || WRITES.has(action));
      const asked = dataPlane ? askForCapacity(body) : { body, added: false };
      const answer = await forward(req, asked.body);
      let reply = answer.body;
      if (dataPlane) reply = meter(metered, asked.body, answer, asked.added);
      // Every stream record carries an eventID; an answer without one returned nothing.
      else if (api === STREAMS_API && action === 'GetRecords' && answer.status === 200) metered.streamRead = answer.body.includes('"eventID"') ? 'records' : 'empty';
      post({ metered });
      thread.reportCpu();
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

  port.on('message', (message: 'stop') => {
    if (message !== 'stop') return;
    server.close(() => port.close());
    server.closeAllConnections();
    agent.destroy();
  });
  server.listen(0, LOOPBACK, () => post({ listening: (server.address() as AddressInfo).port }));
};

/** Fills in the units of a data-plane answer; returns the body to send back (without the capacity the caller did not ask for). */
function meter(metered: MeteredRequest, request: Buffer, answer: Answer, added: boolean): Buffer {
  if (answer.status !== 200) {
    countRefusal(metered, request, answer.body);
    return answer.body;
  }
  const parsed = JSON.parse(answer.body.toString('utf8')) as { ConsumedCapacity?: Capacity | Capacity[] };
  const kind = READS.has(metered.action) ? 'readRequestUnits' : 'writeRequestUnits';
  for (const capacity of [parsed.ConsumedCapacity ?? []].flat()) {
    const table = capacity.TableName ?? '';
    metered.units.push({ kind, table, units: capacity.CapacityUnits ?? 0 });
    if (kind === 'writeRequestUnits') metered.written.push(table);
  }
  if (!added) return answer.body;
  delete parsed.ConsumedCapacity;
  return Buffer.from(JSON.stringify(parsed));
}

function countRefusal(metered: MeteredRequest, request: Buffer, answer: Buffer): void {
  if (answer.includes('TransactionCanceledException')) metered.cancelledTransaction = true;
  else if (SINGLE_WRITES.has(metered.action) && answer.includes('ConditionalCheckFailedException')) {
    metered.failedConditionalWrite = true;
    const table = String((JSON.parse(request.toString('utf8')) as { TableName?: string }).TableName ?? '');
    metered.units.push({ kind: 'writeRequestUnits', table, units: 1 });
  }
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
