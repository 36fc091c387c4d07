/**
 * Embeds fauxqs (an in-process SQS + SNS emulator; SQS JSON protocol, SNS query protocol, DLQ
 * redrive as in AWS) and serves it on 127.0.0.1. Also owns the e-mail outbox folder that the SNS
 * providers write to: `<stateDir>/outbox`, or a temporary folder removed on stop. A
 * {@link MessagingMeter} counts the requests AWS would bill as fauxqs answers them.
 *
 * DURABILITY: with a state folder, queues, messages (with their receive counts and visibility),
 * topics and subscriptions live in `<stateDir>/messaging/fauxqs.db`: fauxqs's own SQLite
 * persistence, wired here as its stand-alone server wires it (which itself binds 0.0.0.0). Every
 * change is committed before fauxqs answers the request (SQLite WAL, synchronous FULL), so an
 * accepted SendMessage survives a SIGKILL and a power loss. A message received but not deleted
 * by the time the runtime stopped is visible again as soon as it restarts (see releaseInFlight).
 * Without a state folder everything lives in memory. The outbox persists with the state folder.
 *
 * SendMessage and SendMessageBatch accept the characters SQS accepts (#x9 | #xA | #xD | #x20 to
 * #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF) and refuse the rest with InvalidMessageContents:
 * fauxqs 2.4.1 also refuses every character beyond U+FFFF (see acceptSupplementaryCharacters).
 * Errors carry SQS's query-protocol codes, which SDK clients name errors after (see sqsQueryError).
 *
 * LIMITATIONS:
 * fauxqs puts account 000000000000 in every ARN and queue URL, and queue URLs have the form
 * `http://sqs.<region>.localhost:<port>/000000000000/<name>`; SDK clients only need the endpoint.
 * When the stack's account differs, ARNs naming that account (e.g. built with `${AWS::AccountId}`)
 * are accepted in requests and translated; responses and message bodies keep 000000000000.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DatabaseSync } from 'node:sqlite';
import { buildApp, type BuildAppOptions } from 'fauxqs';
import { LOOPBACK } from '../../net.js';
import { MessagingMeter } from './metering.js';

/** The account id fauxqs uses in all ARNs and queue URLs. */
export const MESSAGING_ACCOUNT_ID = '000000000000';

/** A running SQS + SNS emulator. */
export interface Messaging {
  /** `http://127.0.0.1:<port>`, for SQS and SNS SDK clients' `endpoint`. */
  endpoint: string;
  port: number;
  region: string;
  /** Where e-mail subscriptions are delivered, one `<topicName>.jsonl` per topic (see `readOutbox`). */
  outboxDir: string;
  /** Billable SQS and SNS requests answered so far. */
  meter: MessagingMeter;
  /** Milliseconds until it listened. */
  startupMs: number;
  /** Closes the server and its connections (long polls end at once) and removes a temporary outbox. */
  stop(): Promise<void>;
}

/** Options for {@link startMessaging}. */
export interface StartMessagingOptions {
  /** Port to listen on; a free one when absent. */
  port?: number;
  /** Region of queues and topics created without a signed region. */
  region: string;
  /** The stack's account; ARNs naming it are translated to {@link MESSAGING_ACCOUNT_ID}. */
  accountId: string;
  /** Keeps the outbox in `<stateDir>/outbox`; a temporary folder when absent. */
  stateDir?: string;
}

/** Request fields that carry user payload, which must reach queues unchanged. */
const PAYLOAD_KEY = /(^|\.)(Message|MessageBody|Subject|MessageAttributes|MessageSystemAttributes)(\.|$)/;

/** Rewrites ARNs of `accountId` to fauxqs's account in every request field except payloads. */
function translateArns(value: unknown, pattern: RegExp, key = ''): unknown {
  if (PAYLOAD_KEY.test(key)) return value;
  if (typeof value === 'string') return value.replace(pattern, `$1${MESSAGING_ACCOUNT_ID}:`);
  if (Array.isArray(value)) return value.map((element) => translateArns(element, pattern, key));
  // Only parsed SQS/SNS bodies (plain objects); S3 bodies are Buffers and stay as they are.
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([name, element]) => [name, translateArns(element, pattern, name)]));
  }
  return value;
}

/** The SQS errors whose query-protocol code carries the `AWS.SimpleQueueService.` prefix (SQS's model, awsQueryError). */
const PREFIXED_QUERY_ERRORS = new Set([
  'BatchEntryIdsNotDistinct', 'BatchRequestTooLong', 'EmptyBatchRequest', 'InvalidBatchEntryId', 'MessageNotInflight', 'NonExistentQueue',
  'PurgeQueueInProgress', 'QueueDeletedRecently', 'TooManyEntriesInBatchRequest', 'UnsupportedOperation',
]);

/**
 * The `x-amzn-query-error` header as SQS sends it. fauxqs prefixes every code with
 * `AWS.SimpleQueueService.`; SQS does so only for the errors above, and SDK clients take the
 * header's code as the error's name (InvalidMessageContents, not AWS.SimpleQueueService.InvalidMessageContents).
 */
function sqsQueryError(header: string): string {
  const [, code, fault] = /^AWS\.SimpleQueueService\.([^;]+)(;.*)?$/.exec(header) ?? [];
  return code === undefined || PREFIXED_QUERY_ERRORS.has(code) ? header : `${code}${fault ?? ''}`;
}

/** fauxqs's in-memory stores, which `buildApp` can be given. */
type FauxqsStores = NonNullable<BuildAppOptions['stores']>;
/** fauxqs's SQLite persistence (fauxqs 2.4.1; the package does not export it, so it is loaded by path). */
interface FauxqsPersistence {
  load(sqs: FauxqsStores['sqsStore'], sns: FauxqsStores['snsStore'], s3: FauxqsStores['s3Store']): void;
  close(): void;
}

/**
 * Makes the messages a previous run had received but not deleted visible again at once. The
 * consumers that held them were this runtime's own pollers (pipes, event source mappings), which
 * are gone; waiting out each visibility timeout (300 s for the payments queue) would only delay
 * them. Their receive counts stay, so redrive to a dead-letter queue still counts these receives.
 */
function releaseInFlight(databasePath: string): void {
  if (!existsSync(databasePath)) return;
  const db = new DatabaseSync(databasePath);
  try {
    db.exec('UPDATE sqs_messages SET receipt_handle = NULL, visibility_deadline = NULL WHERE visibility_deadline IS NOT NULL');
  } finally {
    db.close();
  }
}

/** A module of fauxqs's dist/ folder, which the package does not export (fauxqs 2.4.1). */
async function fauxqsInternal(path: string): Promise<Record<string, unknown>> {
  // The package exports only its entry point, so its folder is found as Node would look for it.
  const root = (createRequire(import.meta.url).resolve.paths('fauxqs') ?? [])
    .map((modules) => join(modules, 'fauxqs')).find((folder) => existsSync(join(folder, 'package.json')));
  if (!root) throw new Error('fauxqs is not installed: run npm ci');
  return import(pathToFileURL(join(root, 'dist', path)).href) as Promise<Record<string, unknown>>;
}

/** What SQS refuses in a message body: any code point outside the ranges SendMessage documents. */
const INVALID_BODY_CHARACTER = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/**
 * fauxqs 2.4.1 checks bodies with `/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD]/` (dist/sqs/sqsTypes.js,
 * INVALID_MESSAGE_BODY_CHAR), without the u flag: it sees UTF-16 code units, so the two surrogates
 * of a character beyond U+FFFF (an emoji) each fall outside its ranges and SendMessage refuses a
 * body SQS takes. Its callers (SendMessage, SendMessageBatch, the programmatic sendMessage) only
 * call its test(), so that method of the shared instance is given SQS's check, code point by code
 * point (a lone surrogate is still refused). A fauxqs that sets the u flag is left as it is.
 */
async function acceptSupplementaryCharacters(): Promise<void> {
  const { INVALID_MESSAGE_BODY_CHAR: check } = await fauxqsInternal('sqs/sqsTypes.js');
  if (!(check instanceof RegExp)) throw new Error('fauxqs no longer exports INVALID_MESSAGE_BODY_CHAR from sqs/sqsTypes.js: review acceptSupplementaryCharacters');
  if (check.unicode) return;
  check.test = (body: string) => INVALID_BODY_CHARACTER.test(body);
}

/** fauxqs's stores, loaded from and written to `<dataDir>/fauxqs.db`, as its stand-alone server sets them up. */
async function persistentStores(dataDir: string): Promise<{ stores: FauxqsStores; persistence: FauxqsPersistence }> {
  type Constructor = new (dataDir?: string) => unknown;
  const [{ SqsStore }, { SnsStore }, { S3Store }, { PersistenceManager }] = await Promise.all([
    fauxqsInternal('sqs/sqsStore.js'), fauxqsInternal('sns/snsStore.js'), fauxqsInternal('s3/s3Store.js'), fauxqsInternal('persistence.js'),
  ]) as [Record<string, Constructor>, Record<string, Constructor>, Record<string, Constructor>, Record<string, Constructor>];
  releaseInFlight(join(dataDir, 'fauxqs.db'));
  const stores = { sqsStore: new SqsStore!(), snsStore: new SnsStore!(), s3Store: new S3Store!() } as FauxqsStores;
  const persistence = new PersistenceManager!(dataDir) as FauxqsPersistence;
  // Load first, then attach: attached, loading would write every row back (startFauxqs's order).
  persistence.load(stores.sqsStore, stores.snsStore, stores.s3Store);
  const attached = [stores.sqsStore, stores.snsStore, stores.s3Store, ...stores.sqsStore.allQueues()] as Array<{ persistence?: unknown }>;
  for (const store of attached) store.persistence = persistence;
  return { stores, persistence };
}

/** Starts fauxqs on 127.0.0.1 and resolves once it listens. */
export async function startMessaging(options: StartMessagingOptions): Promise<Messaging> {
  const started = Date.now();
  await acceptSupplementaryCharacters();
  const persistent = options.stateDir === undefined ? undefined : await persistentStores(join(options.stateDir, 'messaging'));
  const app = buildApp({ logger: false, defaultRegion: options.region, ...(persistent && { stores: persistent.stores }) });
  if (persistent) app.addHook('preClose', () => persistent.persistence.close());
  const meter = new MessagingMeter();
  app.addHook('onSend', (request, reply, payload, done) => {
    meter.record(request, payload);
    const queryError = reply.getHeader('x-amzn-query-error');
    if (typeof queryError === 'string') reply.header('x-amzn-query-error', sqsQueryError(queryError));
    done();
  });
  if (options.accountId !== MESSAGING_ACCOUNT_ID) {
    const pattern = new RegExp(`(arn:aws:(?:sqs|sns):[a-z0-9-]+:)${options.accountId}:`, 'g');
    app.addHook('preHandler', async (request) => {
      request.body = translateArns(request.body, pattern);
    });
  }
  await app.listen({ host: LOOPBACK, port: options.port ?? 0 });
  const address = app.server.address();
  if (address === null || typeof address !== 'object') {
    await app.close();
    throw new Error('fauxqs is not listening on a TCP port');
  }
  const baseDir = options.stateDir ?? mkdtempSync(join(tmpdir(), 'wims-messaging-'));
  const outboxDir = join(baseDir, 'outbox');
  mkdirSync(outboxDir, { recursive: true });
  return {
    endpoint: `http://${LOOPBACK}:${address.port}`,
    port: address.port,
    region: options.region,
    outboxDir,
    meter,
    startupMs: Date.now() - started,
    stop: async () => {
      await app.close();
      if (options.stateDir === undefined) rmSync(baseDir, { recursive: true, force: true });
    },
  };
}
