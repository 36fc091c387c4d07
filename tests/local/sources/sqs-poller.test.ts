/**
 * The SQS source shared by Pipes and event source mappings, on a real fauxqs: what the processor
 * reports as failed (or a whole batch it throws on) stays on the queue and comes back after the
 * visibility timeout, everything else is deleted; stop() ends idle long polls. Then the
 * `AWS::Lambda::EventSourceMapping` provider on top of it, running a real handler module in the
 * LambdaRuntime's worker threads: ReportBatchItemFailures keeps only the reported items.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { localClientConfig, waitUntil } from '../../../local/net.js';
import type { Json } from '../../../local/template/parse.js';
import { createEventSourceMappingProvider } from '../../../local/services/lambda/providers.js';
import { LambdaRuntime } from '../../../local/services/lambda/runtime.js';
import { LogStore } from '../../../local/services/logs/store.js';
import { MESSAGING_ACCOUNT_ID, startMessaging, type Messaging } from '../../../local/services/messaging/engine.js';
import { SqsPoller } from '../../../local/services/sources/sqs-poller.js';
import { testRuntimeContext } from '../../helpers/runtime-context.js';

const REGION = 'us-east-1';
/** Per test: room for waitUntil's 10 s deadline, so a condition never met fails with its description. */
const WAIT_MS = 20_000;

/**
 * Two handlers: `reportsFailures` answers with a batchItemFailures entry for every message whose
 * body starts with "fail"; `throws` fails the invocation.
 */
const HANDLER_MODULE = `
export const reportsFailures = async (event) => ({
  batchItemFailures: event.Records.filter((record) => record.body.startsWith('fail')).map((record) => ({ itemIdentifier: record.messageId })),
});
export const throws = async () => {
  throw new Error('the payment provider is down');
};
`;

let messaging: Messaging;
let sqs: SQSClient;
let workDir: string;
let lambda: LambdaRuntime;
const stopSteps: Array<() => Promise<void>> = [];

beforeAll(async () => {
  messaging = await startMessaging({ region: REGION, accountId: MESSAGING_ACCOUNT_ID });
  sqs = new SQSClient(localClientConfig(messaging.endpoint, REGION));
  workDir = mkdtempSync(join(tmpdir(), 'wims-sqs-poller-'));
  writeFileSync(join(workDir, 'handler.mjs'), HANDLER_MODULE);
  lambda = new LambdaRuntime(new LogStore(undefined), {});
  for (const exportName of ['reportsFailures', 'throws']) {
    lambda.register({
      name: exportName,
      arn: `arn:aws:lambda:${REGION}:${MESSAGING_ACCOUNT_ID}:function:${exportName}`,
      bundlePath: join(workDir, 'handler.mjs'),
      exportName,
      environment: {},
      timeoutSeconds: 5,
      memoryMb: 128,
    });
  }
});

afterEach(async () => {
  for (const step of stopSteps.splice(0).reverse()) await step();
}, 30_000);

afterAll(async () => {
  await lambda?.stop();
  sqs?.destroy();
  await messaging?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
}, 30_000);

/** A queue whose unfinished messages come back after one second. */
async function createQueue(name: string): Promise<{ url: string; arn: string }> {
  const { QueueUrl: url } = await sqs.send(new CreateQueueCommand({
    QueueName: `${name}-${randomUUID().slice(0, 8)}`, Attributes: { VisibilityTimeout: '1' },
  }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  if (url === undefined || Attributes?.QueueArn === undefined) throw new Error(`no queue ${name}`);
  return { url, arn: Attributes.QueueArn };
}

async function send(url: string, bodies: string[]): Promise<void> {
  await sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: bodies.map((body, index) => ({ Id: String(index), MessageBody: body })) }));
}

/** Messages on the queue, visible or in flight. */
async function messagesOn(url: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({
    QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
  }));
  return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible);
}

/** Receives one message directly (without deleting it), waiting until one is visible. */
async function receiveOne(url: string): Promise<Message> {
  return waitUntil(async () => {
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({
      QueueUrl: url, MaxNumberOfMessages: 1, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['ApproximateReceiveCount'],
    }));
    return Messages[0];
  }, { description: `a message on ${url}` });
}

/** Starts a poller with one receive loop; it is stopped after the test. */
async function startPoller(queueArn: string, process: (records: SQSRecord[]) => Promise<string[]>): Promise<SqsPoller> {
  const poller = new SqsPoller({ queueArn, endpoint: messaging.endpoint, region: REGION, batchSize: 10, pollers: 1, process, log: () => undefined });
  await poller.start();
  stopSteps.push(() => poller.stop());
  return poller;
}

/** What a processor was handed: body and receive count of each record, in order. */
type Seen = Array<[body: string, receiveCount: number]>;
const seenOf = (records: SQSRecord[]): Seen => records.map((record) => [record.body, Number(record.attributes.ApproximateReceiveCount)]);
const countsFor = (seen: Seen, body: string): number[] => seen.filter(([seenBody]) => seenBody === body).map(([, count]) => count);

describe('SqsPoller', () => {
  test('deletes what the processor did not report as failed; the failed messages stay on the queue and come back', async () => {
    // Prepare
    const queue = await createQueue('poller-partial');
    await send(queue.url, ['ok-1', 'fail-2', 'ok-3']);
    const seen: Seen = [];

    // Act
    await startPoller(queue.arn, async (records) => {
      seen.push(...seenOf(records));
      return records.filter((record) => record.body.startsWith('fail')).map((record) => record.messageId);
    });
    await waitUntil(() => countsFor(seen, 'fail-2').includes(2), { description: 'fail-2 received a second time' });

    // Assess
    expect(countsFor(seen, 'ok-1')).toEqual([1]);
    expect(countsFor(seen, 'ok-3')).toEqual([1]);
    expect(await messagesOn(queue.url)).toBe(1);
  }, WAIT_MS);

  test('leaves the whole batch on the queue when the processor throws', async () => {
    // Prepare: the processor throws on every batch holding a first receive
    const queue = await createQueue('poller-throws');
    await send(queue.url, ['a', 'b']);
    const seen: Seen = [];

    // Act
    await startPoller(queue.arn, async (records) => {
      seen.push(...seenOf(records));
      if (records.some((record) => record.attributes.ApproximateReceiveCount === '1')) throw new Error('enrichment failed');
      return [];
    });
    await waitUntil(() => countsFor(seen, 'a').includes(2) && countsFor(seen, 'b').includes(2), { description: 'a and b received again' });
    await waitUntil(async () => (await messagesOn(queue.url)) === 0, { description: 'the queue drained' });

    // Assess
    expect(countsFor(seen, 'a')).toEqual([1, 2]);
    expect(countsFor(seen, 'b')).toEqual([1, 2]);
  }, WAIT_MS);

  test('adds loops while batches come full and drops them once the queue is empty', async () => {
    // Prepare: a processor that holds every batch until released, so loops pile up on a backlog
    const queue = await createQueue('poller-scaling');
    const held: Array<() => void> = [];
    let peak = 0;
    const poller = new SqsPoller({
      queueArn: queue.arn, endpoint: messaging.endpoint, region: REGION, batchSize: 1,
      process: async () => {
        peak = Math.max(peak, poller.concurrency);
        await new Promise<void>((release) => held.push(release));
        return [];
      },
      log: () => undefined,
    });
    stopSteps.push(() => poller.stop());
    await poller.start();
    expect(poller.concurrency).toBe(5);

    // Act
    await sqs.send(new SendMessageBatchCommand({ QueueUrl: queue.url, Entries: Array.from({ length: 10 }, (_, index) => ({ Id: String(index), MessageBody: `m${index}` })) }));
    await sqs.send(new SendMessageBatchCommand({ QueueUrl: queue.url, Entries: Array.from({ length: 10 }, (_, index) => ({ Id: String(index), MessageBody: `n${index}` })) }));
    await waitUntil(() => held.length === 20, { description: 'all 20 messages held at once' });
    for (const release of held.splice(0)) release();
    await waitUntil(async () => (await messagesOn(queue.url)) === 0 && poller.concurrency === 5, { description: 'back to five loops on an empty queue' });

    // Assess: twenty batches were processed at the same time, more than the five loops it started with
    expect(peak).toBe(20);
  }, WAIT_MS);

  test('stop() returns while its loops wait on an empty queue, and nothing is received afterwards', async () => {
    // Prepare
    const queue = await createQueue('poller-idle');
    const seen: Seen = [];
    const poller = new SqsPoller({
      queueArn: queue.arn, endpoint: messaging.endpoint, region: REGION, batchSize: 10, pollers: 3,
      process: async (records) => {
        seen.push(...seenOf(records));
        return [];
      },
      log: () => undefined,
    });
    await poller.start();

    // Act
    await poller.stop();
    await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'after stop' }));

    // Assess: the first receive of the message is this test's
    const message = await receiveOne(queue.url);
    expect(message.Body).toBe('after stop');
    expect(message.Attributes?.ApproximateReceiveCount).toBe('1');
    expect(seen).toEqual([]);
  }, WAIT_MS);
});

describe('the SQS event source mapping', () => {
  /** Creates a mapping from the queue to the function through the provider; stopped after the test. */
  async function createMapping(queueArn: string, functionName: string, extra: Record<string, Json> = {}): Promise<void> {
    const context = testRuntimeContext({ region: REGION });
    const provider = createEventSourceMappingProvider(lambda, { dynamodb: 'http://127.0.0.1:1', sqs: messaging.endpoint, sns: messaging.endpoint });
    await provider.create(
      { logicalId: 'Consumer', type: 'AWS::Lambda::EventSourceMapping', properties: { EventSourceArn: queueArn, FunctionName: functionName, BatchSize: 10, ...extra }, metadata: {} },
      context,
    );
    stopSteps.push(() => context.stop());
  }

  const invocations = (name: string): number => lambda.stats()[name]?.invocations ?? 0;

  test('with FunctionResponseTypes [ReportBatchItemFailures], only the items the function reports stay on the queue', async () => {
    // Prepare
    const queue = await createQueue('mapping-partial');
    await send(queue.url, ['ok-1', 'fail-2', 'ok-3']);
    const before = invocations('reportsFailures');

    // Act
    await createMapping(queue.arn, 'reportsFailures', { FunctionResponseTypes: ['ReportBatchItemFailures'] });
    await waitUntil(async () => invocations('reportsFailures') - before >= 2 && (await messagesOn(queue.url)) === 1, {
      description: 'the reported item left on the queue and received again',
    });
    await stopSteps.pop()?.();

    // Assess
    const left = await receiveOne(queue.url);
    expect(left.Body).toBe('fail-2');
    expect(Number(left.Attributes?.ApproximateReceiveCount)).toBeGreaterThanOrEqual(3);
    expect(await messagesOn(queue.url)).toBe(1);
  }, WAIT_MS);

  test('without ReportBatchItemFailures, the batchItemFailures of an answer are ignored and the whole batch is deleted', async () => {
    // Prepare
    const queue = await createQueue('mapping-whole');
    await send(queue.url, ['ok-1', 'fail-2']);
    const before = invocations('reportsFailures');

    // Act
    await createMapping(queue.arn, 'reportsFailures');
    await waitUntil(() => invocations('reportsFailures') > before, { description: 'the function invoked' });

    // Assess
    await waitUntil(async () => (await messagesOn(queue.url)) === 0, { description: 'the queue drained' });
  }, WAIT_MS);

  test('leaves the whole batch on the queue when the function fails', async () => {
    // Prepare
    const queue = await createQueue('mapping-error');
    await send(queue.url, ['a', 'b']);
    const before = invocations('throws');

    // Act
    await createMapping(queue.arn, 'throws');
    await waitUntil(() => invocations('throws') - before >= 2, { description: 'the function invoked twice' });
    await stopSteps.pop()?.();

    // Assess
    expect(await messagesOn(queue.url)).toBe(2);
    const left = await receiveOne(queue.url);
    expect(Number(left.Attributes?.ApproximateReceiveCount)).toBeGreaterThanOrEqual(2);
  }, WAIT_MS);
});
