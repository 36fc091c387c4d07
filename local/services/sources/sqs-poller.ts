/**
 * Polls an SQS queue the way Lambda event source mappings and EventBridge Pipes do: concurrent
 * long-polling loops receive batches, hand them to a processor in the SQS event record shape, and
 * delete what the processor reports as done. What it does not delete becomes visible again after
 * the queue's visibility timeout, so the queue's own redrive policy moves repeatedly failing
 * messages to its dead-letter queue — exactly as on AWS. Like AWS's pollers, the loops scale with
 * the backlog: five to start, one more for each full batch received (up to a local maximum), and
 * one fewer for each empty receive above five — so a slow processor (a rate-limited API
 * destination taking 100 ms a call) is not held to five calls at a time.
 *
 * LIMITATIONS: at most 20 loops (AWS scales much further, by the minute); batching windows longer
 * than the receive wait are approximated by one long poll.
 */
import {
  DeleteMessageBatchCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { localClientConfig } from '../../net.js';
import { traceHop } from '../../trace.js';

/** SQS hands out at most 10 messages per ReceiveMessage. */
const MAX_RECEIVE = 10;
/** Loops a poller starts with (AWS starts with five) and the most it grows to here. */
const MIN_LOOPS = 5;
const MAX_LOOPS = 20;
/** Long-poll wait: short enough that stop() returns quickly. */
const RECEIVE_WAIT_SECONDS = 1;

export interface SqsPollerOptions {
  queueArn: string;
  endpoint: string;
  region: string;
  batchSize: number;
  /** Receive loops to start with and to keep at least (default five, as AWS starts). */
  pollers?: number;
  /**
   * Processes one batch and returns the messageIds that failed (they stay on the queue);
   * throwing fails the whole batch.
   */
  process: (records: SQSRecord[]) => Promise<string[]>;
  log: (message: string) => void;
}

/** `arn:aws:sqs:region:account:name` → its parts. */
function parseQueueArn(arn: string): { account: string; name: string } {
  const [, , , , account, name] = arn.split(':');
  if (!account || !name) throw new Error(`Not an SQS queue ARN: ${arn}`);
  return { account, name };
}

/** Converts a received message to the record shape of Lambda's and Pipes' SQS events. */
export function toSqsRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
        name,
        {
          dataType: value.DataType ?? 'String',
          ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
          ...(value.BinaryValue !== undefined ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') } : {}),
        },
      ]),
    ),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/** A running SQS poller; `stop()` lets in-flight batches finish. */
export class SqsPoller {
  private readonly client: SQSClient;
  private stopping = false;
  private readonly loops = new Set<Promise<void>>();
  private queueUrl = '';

  constructor(private readonly options: SqsPollerOptions) {
    this.client = new SQSClient(localClientConfig(options.endpoint, options.region));
  }

  async start(): Promise<void> {
    const { account, name } = parseQueueArn(this.options.queueArn);
    const { QueueUrl } = await this.client.send(new GetQueueUrlCommand({ QueueName: name, QueueOwnerAWSAccountId: account }));
    if (!QueueUrl) throw new Error(`Queue ${name} not found`);
    this.queueUrl = QueueUrl;
    for (let loop = 0; loop < this.minimumLoops(); loop++) this.addLoop();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    // Loops that end add none, so the set only shrinks from here.
    while (this.loops.size > 0) await Promise.all(this.loops);
    this.client.destroy();
  }

  /** Receive loops running now. */
  get concurrency(): number {
    return this.loops.size;
  }

  private minimumLoops(): number {
    return this.options.pollers ?? MIN_LOOPS;
  }

  private addLoop(): void {
    const loop: Promise<void> = this.poll(this.queueUrl).finally(() => this.loops.delete(loop));
    this.loops.add(loop);
  }

  private async poll(queueUrl: string): Promise<void> {
    const batchSize = Math.min(MAX_RECEIVE, Math.max(1, this.options.batchSize));
    while (!this.stopping) {
      let messages: Message[];
      try {
        ({ Messages: messages = [] } = await this.client.send(new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: batchSize,
          WaitTimeSeconds: RECEIVE_WAIT_SECONDS,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        })));
      } catch (error) {
        if (this.stopping) return;
        this.options.log(`receive failed: ${(error as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
        continue;
      }
      if (messages.length === 0) {
        if (this.loops.size > this.minimumLoops()) return; // the backlog is gone: scale down
        continue;
      }
      // A full batch means more is waiting: another loop takes the next batch meanwhile.
      if (messages.length === batchSize && this.loops.size < Math.max(MAX_LOOPS, this.minimumLoops()) && !this.stopping) this.addLoop();
      const records = messages.map((message) => toSqsRecord(message, this.options.queueArn, this.options.region));
      traceHop('sqs', 'ReceiveMessage', this.options.queueArn, records);
      let failed: Set<string>;
      try {
        failed = new Set(await this.options.process(records));
      } catch (error) {
        this.options.log(`batch of ${records.length} failed, left for redelivery: ${(error as Error).message}`);
        continue;
      }
      const done = messages.filter((message) => !failed.has(message.MessageId ?? ''));
      if (done.length === 0) continue;
      await this.client.send(new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: done.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle ?? '' })),
      })).catch((error: Error) => this.options.log(`delete failed: ${error.message}`));
    }
  }
}
