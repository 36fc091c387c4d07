/**
 * EventBridge Pipes, locally: `AWS::Pipes::Pipe` with a DynamoDB stream or SQS source, optional
 * filters, a Lambda enrichment and a target (event bus, API destination, state machine, Lambda,
 * SQS, SNS), all read from the template's properties.
 *
 * Failure handling follows the source, as on AWS: a stream batch is retried (with
 * AUTOMATIC_BISECT splitting it) up to MaximumRetryAttempts and then reported to the dead-letter
 * target, so the stream moves on; an SQS batch that fails stays on the queue and the queue's
 * redrive policy decides when it is dead-lettered.
 *
 * DURABILITY: a pipe keeps nothing of its own. A batch is taken from its source only after the
 * target took it (an event bus answers once its delivery journal has the events; an API
 * destination once the call, rate-limited, was answered): the stream checkpoint advances, or the
 * SQS messages are deleted, afterwards. A SIGKILL in between redelivers the batch after the
 * restart (at least once, as on AWS).
 *
 * LIMITATIONS: sources other than DynamoDB streams and SQS (Kinesis, MQ, MSK, Kafka) are rejected;
 * only Lambda enrichments; ParallelizationFactor is 1 (records of one stream are handled in
 * order); DesiredState STOPPED is honoured by not starting; LogConfiguration is ignored (see the
 * runtime's own log); the dead-letter message for a stream batch carries the batch's sequence
 * numbers (as on AWS), not the records.
 */
import type { Json } from '../../template/parse.js';
import { compilePattern } from '../events/pattern.js';
import { shapeTargetInput, valueAtJsonPath } from '../events/input.js';
import type { HttpParameters } from '../events/api-destinations.js';
import type { LambdaInvoker } from '../lambda/runtime.js';
import { resourceName } from '../cfn-properties.js';
import type { DeployedResource, ResolvedResource, ResourceProvider, RuntimeContext } from '../provider.js';
import { SqsPoller } from '../sources/sqs-poller.js';
import { StreamPoller, toLambdaRecord, type StreamRecord } from '../sources/stream-poller.js';
import { targetKind } from '../targets/registry.js';
import type { TargetSender } from '../targets/sender.js';

/** What a pipe needs from the rest of the runtime. */
export interface PipeServices {
  dynamodbEndpoint: string;
  sqsEndpoint: string;
  /** Runs the enrichment. */
  lambda: LambdaInvoker;
  /** Delivers to the target and to the dead-letter queue. */
  senders: TargetSender;
}

/** Largest batch each target accepts (Pipes documentation, "batching and concurrency"). */
const TARGET_BATCH_LIMIT: Record<string, number> = { 'event-bus': 10, sqs: 10, sns: 10, 'api-destination': 1 };
/** Pipes' limit on pipe names. */
const MAX_PIPE_NAME = 64;
/** Pipes' default for stream sources: retry until the record expires. */
const RETRY_FOREVER = -1;
const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5000;

/** Counters for `wims status` and the benchmark. */
export interface PipeStats {
  batches: number;
  records: number;
  filteredOut: number;
  failures: number;
  deadLettered: number;
}

class PipeError extends Error {
  override name = 'PipeError';
}

type PipeRecord = Record<string, unknown>;

/** The `AWS::Pipes::Pipe` properties a local pipe reads, as the template resolves them. */
interface PipeProperties {
  Source?: Json;
  Target?: Json;
  DesiredState?: Json;
  Enrichment?: string;
  SourceParameters?: {
    FilterCriteria?: { Filters?: Array<{ Pattern: string }> };
    DynamoDBStreamParameters?: {
      BatchSize?: Json;
      MaximumRetryAttempts?: Json;
      OnPartialBatchItemFailure?: Json;
      DeadLetterConfig?: { Arn?: string };
      StartingPosition?: Json;
    };
    SqsQueueParameters?: { BatchSize?: Json };
  };
  EnrichmentParameters?: { InputTemplate?: string };
  TargetParameters?: PipeTargetParameters;
}

/** The target parameters a local pipe reads. */
interface PipeTargetParameters {
  InputTemplate?: string;
  EventBridgeEventBusParameters?: { Source?: Json; DetailType?: Json; Resources?: Json };
  HttpParameters?: HttpParameters;
}

/** One running pipe. */
export class Pipe {
  readonly stats: PipeStats = { batches: 0, records: 0, filteredOut: 0, failures: 0, deadLettered: 0 };
  private readonly filters: Array<(record: object) => boolean>;
  private readonly properties: PipeProperties;
  private stopSource: (() => Promise<void>) | undefined;

  constructor(
    readonly name: string,
    readonly arn: string,
    resource: ResolvedResource,
    private readonly services: PipeServices,
    private readonly context: RuntimeContext,
  ) {
    this.properties = resource.properties as PipeProperties;
    const filters: Array<{ Pattern: string }> = this.properties.SourceParameters?.FilterCriteria?.Filters ?? [];
    this.filters = filters.map((filter) => compilePattern(JSON.parse(filter.Pattern) as object));
    const target = String(this.properties.Target);
    const batchSize = this.batchSize();
    const limit = TARGET_BATCH_LIMIT[targetKind(target) ?? ''] ?? Infinity;
    if (batchSize > limit) {
      throw new PipeError(`${resource.logicalId}: BatchSize ${batchSize} is more than the target accepts (${limit}); Pipes refuses this pipe too`);
    }
  }

  /** Starts reading the source (unless the pipe's DesiredState is STOPPED). */
  async start(): Promise<void> {
    if (this.properties.DesiredState === 'STOPPED') return;
    const source = String(this.properties.Source);
    if (source.startsWith('arn:aws:dynamodb:') && source.includes('/stream/')) await this.startStream(source);
    else if (source.startsWith('arn:aws:sqs:')) await this.startQueue(source);
    else throw new PipeError(`${this.name}: source ${source} is not supported locally (DynamoDB streams and SQS are)`);
  }

  async stop(): Promise<void> {
    await this.stopSource?.();
  }

  private batchSize(): number {
    const parameters = this.properties.SourceParameters ?? {};
    return Number(
      parameters.DynamoDBStreamParameters?.BatchSize ??
      parameters.SqsQueueParameters?.BatchSize ??
      (parameters.DynamoDBStreamParameters ? 100 : 10),
    );
  }

  private async startStream(streamArn: string): Promise<void> {
    const parameters = this.properties.SourceParameters!.DynamoDBStreamParameters ?? {};
    const maxRetries = Number(parameters.MaximumRetryAttempts ?? RETRY_FOREVER);
    const bisect = parameters.OnPartialBatchItemFailure === 'AUTOMATIC_BISECT';
    const deadLetterArn: string | undefined = parameters.DeadLetterConfig?.Arn;
    const poller = new StreamPoller({
      endpoint: this.services.dynamodbEndpoint,
      streamArn,
      name: `pipe-${this.name}`,
      stateDir: this.context.stateDir,
      startingPosition: parameters.StartingPosition === 'TRIM_HORIZON' ? 'TRIM_HORIZON' : 'LATEST',
      batchSize: this.batchSize(),
      log: (message) => this.context.log(`pipe ${this.name}`, message),
      handler: async (raw: StreamRecord[]) => {
        const records = raw.map((record) => toLambdaRecord(record, { awsRegion: this.context.region, eventSourceArn: streamArn }) as unknown as PipeRecord);
        await this.processWithRetries(records, { maxRetries, bisect, deadLetterArn, streamArn });
      },
    });
    await poller.start();
    this.stopSource = () => poller.stop();
  }

  private async startQueue(queueArn: string): Promise<void> {
    const source = new SqsPoller({
      queueArn,
      endpoint: this.services.sqsEndpoint,
      region: this.context.region,
      batchSize: this.batchSize(),
      log: (message) => this.context.log(`pipe ${this.name}`, message),
      process: async (records) => {
        await this.process(records as unknown as PipeRecord[]);
        return [];
      },
    });
    await source.start();
    this.stopSource = () => source.stop();
  }

  /** Stream sources: retry, bisect, and finally dead-letter a failing batch so the shard moves on. */
  private async processWithRetries(
    records: PipeRecord[],
    policy: { maxRetries: number; bisect: boolean; deadLetterArn: string | undefined; streamArn: string },
  ): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.process(records);
        return;
      } catch (error) {
        this.stats.failures++;
        this.context.log(`pipe ${this.name}`, `batch of ${records.length} failed (attempt ${attempt + 1}): ${(error as Error).message}`);
        if (policy.bisect && records.length > 1) {
          const middle = Math.ceil(records.length / 2);
          await this.processWithRetries(records.slice(0, middle), policy);
          await this.processWithRetries(records.slice(middle), policy);
          return;
        }
        if (policy.maxRetries !== RETRY_FOREVER && attempt >= policy.maxRetries) {
          await this.deadLetter(records, policy.deadLetterArn, policy.streamArn, attempt + 1);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** attempt)));
      }
    }
  }

  private async deadLetter(records: PipeRecord[], deadLetterArn: string | undefined, streamArn: string, attempts: number): Promise<void> {
    this.stats.deadLettered += records.length;
    if (deadLetterArn === undefined) {
      this.context.log(`pipe ${this.name}`, `dropped ${records.length} records after ${attempts} attempts (no dead-letter target)`);
      return;
    }
    const sequence = (record: PipeRecord): string => String((record.dynamodb as { SequenceNumber?: string } | undefined)?.SequenceNumber ?? '');
    const arrival = (record: PipeRecord): string =>
      new Date(Number((record.dynamodb as { ApproximateCreationDateTime?: number } | undefined)?.ApproximateCreationDateTime ?? 0) * 1000).toISOString();
    const first = records[0]!;
    const last = records[records.length - 1]!;
    const body = {
      context: { pipeArn: this.arn, condition: 'RetryAttemptsExhausted', approximateInvokeCount: attempts },
      version: '1.0',
      timestamp: new Date().toISOString(),
      DDBStreamBatchInfo: {
        startSequenceNumber: sequence(first),
        endSequenceNumber: sequence(last),
        approximateArrivalOfFirstRecord: arrival(first),
        approximateArrivalOfLastRecord: arrival(last),
        batchSize: records.length,
        streamArn,
      },
    };
    await this.services.senders.deliver(deadLetterArn, JSON.stringify(body));
  }

  /** One batch through filter → enrichment → target; throws if any step fails. */
  private async process(records: PipeRecord[]): Promise<void> {
    this.stats.batches++;
    const kept = records.filter((record) => this.passesFilters(record));
    this.stats.filteredOut += records.length - kept.length;
    this.stats.records += kept.length;
    if (kept.length === 0) return;
    const events = await this.enrich(kept);
    if (events.length > 0) await this.sendToTarget(events);
  }

  private passesFilters(record: PipeRecord): boolean {
    if (this.filters.length === 0) return true;
    // Pipes matches an SQS body that is JSON as an object, so patterns can reach into it.
    const subject = typeof record.body === 'string' ? { ...record, body: parseJsonOr(record.body) } : record;
    return this.filters.some((matches) => matches(subject));
  }

  private async enrich(records: PipeRecord[]): Promise<unknown[]> {
    const enrichment: string | undefined = this.properties.Enrichment;
    if (enrichment === undefined) return records;
    const template: string | undefined = this.properties.EnrichmentParameters?.InputTemplate;
    const input = template === undefined ? records : records.map((record) => JSON.parse(renderInputTemplate(template, record)) as unknown);
    const result = await this.services.lambda.invoke(enrichment, input);
    if (!result.ok) throw new PipeError(`enrichment ${enrichment} failed: ${result.errorType}: ${result.errorMessage}`);
    if (result.payload === null || result.payload === undefined) return [];
    return Array.isArray(result.payload) ? result.payload : [result.payload];
  }

  private async sendToTarget(events: unknown[]): Promise<void> {
    const target = String(this.properties.Target);
    const parameters: PipeTargetParameters = this.properties.TargetParameters ?? {};
    const template: string | undefined = parameters.InputTemplate;
    const render = (event: unknown): string => (template === undefined ? JSON.stringify(event) : renderInputTemplate(template, event));
    const kind = targetKind(target);
    if (kind === 'event-bus') {
      const bus = parameters.EventBridgeEventBusParameters ?? {};
      await this.services.senders.deliverBatch(target, events.map(render), {
        eventBus: {
          Source: String(bus.Source ?? 'Pipe ' + this.name),
          DetailType: String(bus.DetailType ?? 'Event from aws:sqs'),
          ...(bus.Resources ? { Resources: bus.Resources as string[] } : {}),
        },
      });
      return;
    }
    if (kind === 'lambda' || kind === 'states') {
      // These targets take the whole batch as one JSON array, as on AWS.
      await this.services.senders.deliver(target, `[${events.map(render).join(',')}]`);
      return;
    }
    for (const event of events) {
      const httpParameters = resolveHttpParameters(parameters.HttpParameters, event);
      await this.services.senders.deliver(target, render(event), httpParameters ? { httpParameters } : undefined);
    }
  }
}

function parseJsonOr(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const TEMPLATE_PATH = /<(\$(?:\.[\w/_-]+(?:\[\d+\])*)*)>/g;

/**
 * Renders a Pipes input template: each `<$.path>` is replaced by that value of the event,
 * quoted or not as Pipes does (the EventBridge input transformer's rules).
 */
export function renderInputTemplate(template: string, event: unknown): string {
  const paths: Record<string, string> = {};
  let index = 0;
  const rewritten = template.replace(TEMPLATE_PATH, (_whole, path: string) => {
    const name = `p${index++}`;
    paths[name] = path;
    return `<${name}>`;
  });
  return shapeTargetInput({ InputTransformer: { InputPathsMap: paths, InputTemplate: rewritten } }, event as object);
}

/** Header, query and path values that are JSON paths (`$.idempotencyKey`) take the event's value. */
function resolveHttpParameters(parameters: HttpParameters | undefined, event: unknown): HttpParameters | undefined {
  if (parameters === undefined) return undefined;
  const resolveValue = (value: string): string => (value.startsWith('$') ? String(valueAtJsonPath(event, value) ?? '') : value);
  const resolveMap = (map: Record<string, string> | undefined) =>
    map === undefined ? undefined : Object.fromEntries(Object.entries(map).map(([key, value]) => [key, resolveValue(value)]));
  const headers = resolveMap(parameters.HeaderParameters);
  const query = resolveMap(parameters.QueryStringParameters);
  return {
    ...(headers ? { HeaderParameters: headers } : {}),
    ...(query ? { QueryStringParameters: query } : {}),
    ...(parameters.PathParameterValues ? { PathParameterValues: parameters.PathParameterValues.map(resolveValue) } : {}),
  };
}

/** The `AWS::Pipes::Pipe` provider. */
export function createPipeProvider(services: PipeServices, pipes: Map<string, Pipe>): ResourceProvider {
  return {
    type: 'AWS::Pipes::Pipe',
    async create(resource: ResolvedResource, context: RuntimeContext): Promise<DeployedResource> {
      const name = resourceName(resource, 'Name', context.stackName, { maxLength: MAX_PIPE_NAME });
      const arn = `arn:aws:pipes:${context.region}:${context.accountId}:pipe/${name}`;
      const pipe = new Pipe(name, arn, resource, services, context);
      await pipe.start();
      pipes.set(name, pipe);
      context.onStop(() => pipe.stop());
      return { physicalId: name, attributes: { Arn: arn, CurrentState: 'RUNNING', CreationTime: new Date().toISOString() } };
    },
  };
}
