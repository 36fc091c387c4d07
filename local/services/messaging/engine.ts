/**
 * Embeds fauxqs (an in-process SQS + SNS emulator; SQS JSON protocol, SNS query protocol, DLQ
 * redrive as in AWS) and serves it on 127.0.0.1. Also owns the e-mail outbox folder that the SNS
 * providers write to: `<stateDir>/outbox`, or a temporary folder removed on stop. A
 * {@link MessagingMeter} counts the requests AWS would bill as fauxqs answers them.
 *
 * LIMITATIONS: queues, topics and messages live in memory even with a state folder (fauxqs's own
 * persistence comes only with its stand-alone server, which binds 0.0.0.0); the outbox persists.
 * fauxqs puts account 000000000000 in every ARN and queue URL, and queue URLs have the form
 * `http://sqs.<region>.localhost:<port>/000000000000/<name>`; SDK clients only need the endpoint.
 * When the stack's account differs, ARNs naming that account (e.g. built with `${AWS::AccountId}`)
 * are accepted in requests and translated; responses and message bodies keep 000000000000.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from 'fauxqs';
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

/** Starts fauxqs on 127.0.0.1 and resolves once it listens. */
export async function startMessaging(options: StartMessagingOptions): Promise<Messaging> {
  const started = Date.now();
  const app = buildApp({ logger: false, defaultRegion: options.region });
  const meter = new MessagingMeter();
  app.addHook('onSend', (request, _reply, payload, done) => {
    meter.record(request, payload);
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
