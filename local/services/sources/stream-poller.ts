/**
 * Reads a DynamoDB stream through the real DynamoDB Streams API of DynamoDB Local, the way
 * Lambda's event source mapping does: shard discovery (children after their parents), batches of
 * up to `batchSize` records in sequence order per shard, the same batch again while the handler
 * throws, and a checkpoint (last processed sequence number per shard) that survives restarts.
 *
 * Delivery is at least once: a crash between the handler's success and the checkpoint write
 * redelivers that one batch. The handler decides about retries, bisecting and DLQs; it should
 * return normally once it has dealt with a batch, including by giving up on it.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  TrimmedDataAccessException,
  type AttributeValue,
  type _Record,
} from '@aws-sdk/client-dynamodb-streams';
import type { AttributeValue as LambdaAttributeValue, DynamoDBRecord } from 'aws-lambda';
import { localClientConfig } from '../../net.js';
import { traceHop } from '../../trace.js';

/** A stream record exactly as the DynamoDB Streams SDK returns it (the SDK calls this type `_Record`). */
export type StreamRecord = _Record;

/** Where a stream is read from when no checkpoint exists yet. */
export type StartingPosition = 'LATEST' | 'TRIM_HORIZON';

/** Options for {@link StreamPoller}. */
export interface StreamPollerOptions {
  /** DynamoDB Local's endpoint. */
  endpoint: string;
  /** The table's real `LatestStreamArn`. */
  streamArn: string;
  /** Names the checkpoint file `<stateDir>/streams/<name>.json`; e.g. the event source mapping's logical id. */
  name: string;
  /** Folder for the checkpoint; kept in memory only when absent. */
  stateDir?: string;
  /** Used only when there is no checkpoint for this stream. */
  startingPosition: StartingPosition;
  /** Most records per handler call, 1–1000 (the GetRecords limit); default 100. */
  batchSize?: number;
  /** Receives each batch; throwing makes the poller retry the same batch. */
  handler: (records: StreamRecord[]) => Promise<void>;
  /** Diagnostics (handler failures, API errors, trimmed data). */
  log?: (message: string) => void;
  /**
   * Tells the poller when the table was written, so that it reads at once instead of at its next
   * poll: called with a wake function, returns the function that stops the notifications.
   */
  changes?: (wake: () => void) => () => void;
  /** Longest pause between polls of an idle stream; default 50 ms, or 1000 ms with `changes` (which then only catches what no client wrote: TTL deletions). */
  maxIdleDelayMs?: number;
  /** Longest pause between retries of a failing handler or API call; default 1000 ms. */
  maxRetryDelayMs?: number;
}

interface ShardState {
  id: string;
  parentId: string | undefined;
  /** Last sequence number handed to the handler (or skipped for LATEST); absent: read from TRIM_HORIZON. */
  sequenceNumber: string | undefined;
  /** The shard is closed and fully read. */
  finished: boolean;
  iterator: string | undefined;
}

interface CheckpointFile {
  streamArn: string;
  shards: Record<string, { sequenceNumber?: string; finished?: boolean }>;
}

/** How often an idle poller looks for new shards besides when a shard closes. */
const DISCOVERY_INTERVAL_MS = 5000;
const FIRST_IDLE_DELAY_MS = 5;
const POLLED_IDLE_DELAY_MS = 50;
const NOTIFIED_IDLE_DELAY_MS = 1000;
const FIRST_RETRY_DELAY_MS = 100;

/** Polls one DynamoDB stream and feeds its records, in order, to a handler. */
export class StreamPoller {
  private readonly client: DynamoDBStreamsClient;
  private readonly shards = new Map<string, ShardState>();
  private readonly checkpointPath: string | undefined;
  private readonly batchSize: number;
  private stopping = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** A write was notified since the last poll began. */
  private changed = false;
  /** Sleeping between polls of an idle stream (not backing off after a failure): a write ends the sleep. */
  private idle = false;
  private stopChanges: (() => void) | undefined;
  private lastDiscovery = 0;
  private lastErrorMessage = '';

  constructor(private readonly options: StreamPollerOptions) {
    this.client = new DynamoDBStreamsClient(localClientConfig(options.endpoint, 'us-east-1'));
    this.checkpointPath = options.stateDir === undefined ? undefined : join(options.stateDir, 'streams', `${options.name}.json`);
    this.batchSize = Math.min(1000, Math.max(1, options.batchSize ?? 100));
  }

  /**
   * Loads the checkpoint, finds the shards and, on a first start at LATEST, skips what the
   * stream already holds; resolves once polling runs, so writes made afterwards are delivered.
   */
  async start(): Promise<void> {
    if (this.loop) throw new Error(`StreamPoller ${this.options.name} is already started`);
    const resumed = await this.loadCheckpoint();
    await this.discoverShards();
    if (!resumed && this.options.startingPosition === 'LATEST') {
      for (const shard of this.shards.values()) await this.skipToEnd(shard);
    }
    await this.saveCheckpoint();
    this.stopChanges = this.options.changes?.(() => {
      this.changed = true;
      if (this.idle) this.wake?.();
    });
    this.loop = this.run();
  }

  /** Lets the in-flight batch finish (without further retries) and stops; the checkpoint is saved after every batch. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.stopChanges?.();
    this.wake?.();
    await this.loop;
    this.client.destroy();
  }

  private async run(): Promise<void> {
    let idleDelay = 0;
    let failures = 0;
    const maxIdleDelay = this.options.maxIdleDelayMs ?? (this.options.changes ? NOTIFIED_IDLE_DELAY_MS : POLLED_IDLE_DELAY_MS);
    while (!this.stopping) {
      let delivered = false;
      this.changed = false;
      try {
        for (const shard of this.readyShards()) {
          if (this.stopping) break;
          delivered = (await this.pollShard(shard)) || delivered;
        }
        if (Date.now() - this.lastDiscovery > DISCOVERY_INTERVAL_MS) await this.discoverShards();
        failures = 0;
        this.lastErrorMessage = '';
      } catch (error) {
        this.report(`polling ${this.options.streamArn} failed: ${(error as Error).message}`);
        await this.sleep(this.retryDelay(++failures));
        continue;
      }
      // Poll again at once while records flow; back off gradually when idle to keep latency low.
      idleDelay = delivered || this.changed ? 0 : Math.min(maxIdleDelay, Math.max(FIRST_IDLE_DELAY_MS, idleDelay * 2));
      if (idleDelay > 0) {
        this.idle = true;
        await this.sleep(idleDelay);
        this.idle = false;
      }
    }
  }

  /** Shards whose parent is finished or unknown (trimmed), in discovery order. */
  private readyShards(): ShardState[] {
    return [...this.shards.values()].filter((shard) => {
      const parent = shard.parentId === undefined ? undefined : this.shards.get(shard.parentId);
      return !shard.finished && (parent === undefined || parent.finished);
    });
  }

  /** Reads one batch from the shard and hands it over; returns whether records were delivered. */
  private async pollShard(shard: ShardState): Promise<boolean> {
    let response;
    try {
      shard.iterator ??= await this.iteratorFor(shard);
      response = await this.client.send(new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: this.batchSize }));
    } catch (error) {
      shard.iterator = undefined;
      if (error instanceof ExpiredIteratorException) return false;
      if (error instanceof TrimmedDataAccessException) {
        this.report(`records after ${shard.sequenceNumber} in ${shard.id} were trimmed; continuing from the oldest record left`);
        shard.sequenceNumber = undefined;
        return false;
      }
      throw error;
    }
    const records = response.Records ?? [];
    if (records.length > 0) {
      if (!(await this.deliver(records))) {
        shard.iterator = undefined; // stopped before the handler succeeded: read the batch again next time
        return false;
      }
      shard.sequenceNumber = records.at(-1)?.dynamodb?.SequenceNumber ?? shard.sequenceNumber;
    }
    shard.iterator = response.NextShardIterator;
    if (shard.iterator === undefined) {
      shard.finished = true;
      this.lastDiscovery = 0; // a closed shard has children to find
    }
    if (records.length > 0 || shard.finished) await this.saveCheckpoint();
    return records.length > 0;
  }

  /** Calls the handler until it succeeds; returns false if stopped first. */
  private async deliver(records: StreamRecord[]): Promise<boolean> {
    traceHop('dynamodb', 'GetRecords', this.options.streamArn, records);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.options.handler(records);
        return true;
      } catch (error) {
        this.report(`handler failed on ${records.length} record(s) (attempt ${attempt}), retrying the same batch: ${(error as Error).message}`);
        if (this.stopping) return false;
        await this.sleep(this.retryDelay(attempt));
        if (this.stopping) return false;
      }
    }
  }

  private async iteratorFor(shard: ShardState): Promise<string | undefined> {
    const response = await this.client.send(new GetShardIteratorCommand({
      StreamArn: this.options.streamArn,
      ShardId: shard.id,
      ...(shard.sequenceNumber === undefined
        ? { ShardIteratorType: 'TRIM_HORIZON' }
        : { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: shard.sequenceNumber }),
    }));
    return response.ShardIterator;
  }

  /**
   * LATEST without a checkpoint: reads past every record already in the shard, so that the
   * position is a sequence number the checkpoint can keep (a LATEST iterator has none).
   */
  private async skipToEnd(shard: ShardState): Promise<void> {
    if (shard.finished) return;
    let iterator = await this.iteratorFor(shard);
    while (iterator !== undefined) {
      const response = await this.client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
      shard.sequenceNumber = response.Records?.at(-1)?.dynamodb?.SequenceNumber ?? shard.sequenceNumber;
      iterator = response.NextShardIterator;
      if ((response.Records ?? []).length === 0) break;
    }
    shard.iterator = iterator;
    shard.finished = iterator === undefined;
  }

  /** Adds new shards (DescribeStream, paginated) and forgets finished ones the stream no longer lists. */
  private async discoverShards(): Promise<void> {
    const listed = new Set<string>();
    let exclusiveStartShardId: string | undefined;
    do {
      const { StreamDescription: description } = await this.client.send(new DescribeStreamCommand({
        StreamArn: this.options.streamArn,
        ExclusiveStartShardId: exclusiveStartShardId,
      }));
      for (const shard of description?.Shards ?? []) {
        if (shard.ShardId === undefined) continue;
        listed.add(shard.ShardId);
        const known = this.shards.get(shard.ShardId);
        if (known) known.parentId = shard.ParentShardId; // checkpoints do not keep the parent link
        else {
          this.shards.set(shard.ShardId, {
            id: shard.ShardId, parentId: shard.ParentShardId, sequenceNumber: undefined, finished: false, iterator: undefined,
          });
        }
      }
      exclusiveStartShardId = description?.LastEvaluatedShardId;
    } while (exclusiveStartShardId !== undefined);
    for (const shard of this.shards.values()) {
      if (shard.finished && !listed.has(shard.id)) this.shards.delete(shard.id);
    }
    this.lastDiscovery = Date.now();
  }

  /** Restores shard positions; returns whether a checkpoint for this stream existed. */
  private async loadCheckpoint(): Promise<boolean> {
    if (this.checkpointPath === undefined) return false;
    let file: CheckpointFile;
    try {
      file = JSON.parse(await readFile(this.checkpointPath, 'utf8')) as CheckpointFile;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw new Error(`Unreadable stream checkpoint ${this.checkpointPath}: ${(error as Error).message}`, { cause: error });
    }
    if (file.streamArn !== this.options.streamArn) {
      this.report(`checkpoint ${this.checkpointPath} is for another stream (table recreated); starting at ${this.options.startingPosition}`);
      return false;
    }
    for (const [id, saved] of Object.entries(file.shards)) {
      this.shards.set(id, {
        id, parentId: undefined, sequenceNumber: saved.sequenceNumber, finished: saved.finished ?? false, iterator: undefined,
      });
    }
    return true;
  }

  /** Writes the checkpoint atomically (temporary file + rename; no fsync: a crash may lose the last batch's entry). */
  private async saveCheckpoint(): Promise<void> {
    if (this.checkpointPath === undefined) return;
    const file: CheckpointFile = { streamArn: this.options.streamArn, shards: {} };
    for (const shard of this.shards.values()) {
      file.shards[shard.id] = { sequenceNumber: shard.sequenceNumber, finished: shard.finished || undefined };
    }
    await mkdir(join(this.checkpointPath, '..'), { recursive: true });
    const temporary = `${this.checkpointPath}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify(file));
    await rename(temporary, this.checkpointPath);
  }

  private retryDelay(attempt: number): number {
    return Math.min(this.options.maxRetryDelayMs ?? 1000, FIRST_RETRY_DELAY_MS * 2 ** (attempt - 1));
  }

  /** Logs a message unless it repeats the previous one, so a down endpoint does not flood the log. */
  private report(message: string): void {
    if (message === this.lastErrorMessage) return;
    this.lastErrorMessage = message;
    this.options.log?.(`stream ${this.options.name}: ${message}`);
  }

  /** Waits `ms`, or less if stop() is called (or, while idle, the table is written). */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}

/** Options for {@link toLambdaRecord}. */
export interface LambdaRecordOptions {
  /** The runtime's region (DynamoDB Local reports `ddblocal`). */
  awsRegion: string;
  /** `eventSourceARN` of the record: the stream ARN the event source mapping names. */
  eventSourceArn: string;
}

/** DynamoDB Local names TTL deletions `UNKNOWN_TO_SDK_VERSION` and omits the TTL service identity. */
const TTL_IDENTITY = { type: 'Service', principalId: 'dynamodb.amazonaws.com' };

/**
 * Converts a raw stream record to the record of a Lambda (or EventBridge Pipes) DynamoDB stream
 * event: `ApproximateCreationDateTime` in epoch seconds, binary values in base64, `eventSourceARN`
 * added, and DynamoDB Local's TTL deletions reported as `REMOVE` by the TTL service as in AWS.
 */
export function toLambdaRecord(record: StreamRecord, options: LambdaRecordOptions): DynamoDBRecord {
  const stream = record.dynamodb ?? {};
  const known = record.eventName === 'INSERT' || record.eventName === 'MODIFY' || record.eventName === 'REMOVE';
  const userIdentity = known ? record.userIdentity : TTL_IDENTITY;
  return {
    eventID: record.eventID,
    eventName: known ? record.eventName : 'REMOVE',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: options.awsRegion,
    dynamodb: {
      ApproximateCreationDateTime: stream.ApproximateCreationDateTime && Math.floor(stream.ApproximateCreationDateTime.getTime() / 1000),
      Keys: toLambdaItem(stream.Keys),
      NewImage: toLambdaItem(stream.NewImage),
      OldImage: toLambdaItem(stream.OldImage),
      SequenceNumber: stream.SequenceNumber,
      SizeBytes: stream.SizeBytes,
      StreamViewType: stream.StreamViewType,
    },
    eventSourceARN: options.eventSourceArn,
    ...(userIdentity ? { userIdentity } : {}),
  };
}

function toLambdaItem(item: Record<string, AttributeValue>): Record<string, LambdaAttributeValue>;
function toLambdaItem(item: Record<string, AttributeValue> | undefined): Record<string, LambdaAttributeValue> | undefined;
function toLambdaItem(item: Record<string, AttributeValue> | undefined): Record<string, LambdaAttributeValue> | undefined {
  return item && Object.fromEntries(Object.entries(item).map(([name, value]) => [name, toLambdaValue(value)]));
}

const base64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

/** The JSON wire form of an attribute value: what Lambda receives. */
function toLambdaValue(value: AttributeValue): LambdaAttributeValue {
  if (value.B !== undefined) return { B: base64(value.B) };
  if (value.BS !== undefined) return { BS: value.BS.map(base64) };
  if (value.M !== undefined) return { M: toLambdaItem(value.M) };
  if (value.L !== undefined) return { L: value.L.map(toLambdaValue) };
  return value as LambdaAttributeValue;
}
