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
 * A dead letter that cannot be sent is sent again (with backoff) until it goes or the pipe stops:
 * the records of the batch already delivered are not delivered again. Stopped before it went, the
 * batch is not checkpointed, and the whole batch is read again after the restart (at least once).
 *
 * INPUT TEMPLATES (EnrichmentParameters/TargetParameters.InputTemplate), after "Amazon EventBridge
 * Pipes input transformation" (eb-pipes-input-transformation): placeholders are `<$.path>` (dot
 * notation, `[n]`, `[*]` and `.*` wildcards, whose value is the array of what they match) and the
 * reserved `<aws.pipes.pipe-arn>`, `pipe-name`, `source-arn`, `enrichment-arn`, `target-arn`,
 * `event.ingestion-time` (ISO 8601, when the template is rendered), `event` (the event as the
 * transformer receives it: an SQS record keeps its body as the string SQS gave) and `event.json`
 * (the same with an SQS body that is JSON decoded; no value when it is not JSON). Each value is
 * inserted as that page documents: "EventBridge Pipes automatically adds quotes to string variable
 * values" outside a JSON string and adds none around objects and arrays, so an unquoted string
 * placeholder gives a JSON string (its worked example: `"instance" : <$.detail.instance-id>` gives
 * `"instance" : "i-0123456789"`) and a quoted one its escaped characters; an object or array inside
 * a JSON string loses its internal quotes; a template that is one placeholder whose value is an
 * object or array gives that text without its quotes, as a JSON string (the page's `<$.body>`
 * example, `{"key": "value"}` becomes `"{key: value}"`). NOT LocalStack: its PipeInputTransformer
 * inserts a string unquoted (`str(value)`). A path the event lacks inserts nothing ("that variable
 * isn't created and won't appear in the output"; LocalStack too inserts ""), and a JSON template
 * left invalid by it fails the batch here rather than deliver text the target cannot parse. Paths
 * and dynamic HTTP parameters (`$.body.key`) see an SQS body that is JSON decoded ("Implicit body
 * data parsing"), as the filters do; what is delivered without a template keeps the body as text.
 *
 * LIMITATIONS: sources other than DynamoDB streams and SQS (Kinesis, MQ, MSK, Kafka) are rejected;
 * only Lambda enrichments; ParallelizationFactor is 1 (records of one stream are handled in
 * order); DesiredState STOPPED is honoured by not starting (CurrentState STOPPED); StopPipe and
 * StartPipe (pipes/api.ts) take effect before they answer, and a stream source started again
 * resumes from its checkpoint, which only a state folder keeps (in memory it starts at its
 * StartingPosition again, so records written while it was stopped are skipped); LogConfiguration
 * is ignored (see the runtime's own log); the dead-letter message for a stream batch carries the
 * batch's sequence numbers (as on AWS), not the records; a template placeholder that is neither a
 * path nor a reserved variable fails the batch; an event bus target without Source/DetailType gets
 * `Pipe <name>` and `Event from aws:dynamodb` / `Event from aws:sqs`, as pipes deliver them (no AWS
 * page states these defaults).
 */
import type { Json } from '../../template/parse.js';
import { traceHop, traceSpan } from '../../trace.js';
import { compilePattern } from '../events/pattern.js';
import { shapeTargetInput, valueAtJsonPath } from '../events/input.js';
import type { HttpParameters } from '../events/api-destinations.js';
import type { LambdaInvoker } from '../lambda/runtime.js';
import { resourceName } from '../cfn-properties.js';
import type { DeployedResource, ResolvedResource, ResourceProvider, RuntimeContext } from '../provider.js';
import { SqsPoller } from '../sources/sqs-poller.js';
import { StreamPoller, toLambdaRecord, type StreamRecord } from '../sources/stream-poller.js';
import type { TableWrites } from '../dynamodb/metering-proxy.js';
import { targetKind } from '../targets/registry.js';
import type { TargetSender } from '../targets/sender.js';

/** What a pipe needs from the rest of the runtime. */
export interface PipeServices {
  dynamodbEndpoint: string;
  /** Wakes a stream source when its table is written (without it, sources poll every 50 ms). */
  tableWrites?: TableWrites;
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
export interface PipeProperties {
  RoleArn?: Json;
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
  private stopping = false;
  /** RUNNING or STOPPED: the template's DesiredState, then what StartPipe and StopPipe asked for. */
  desiredState: 'RUNNING' | 'STOPPED';
  /** When the pipe was created, and its desired state last changed. */
  readonly createdAt = new Date();
  lastModifiedAt = this.createdAt;

  constructor(
    readonly name: string,
    readonly arn: string,
    resource: ResolvedResource,
    private readonly services: PipeServices,
    private readonly context: RuntimeContext,
  ) {
    this.properties = resource.properties as PipeProperties;
    this.desiredState = this.properties.DesiredState === 'STOPPED' ? 'STOPPED' : 'RUNNING';
    const filters: Array<{ Pattern: string }> = this.properties.SourceParameters?.FilterCriteria?.Filters ?? [];
    this.filters = filters.map((filter) => compilePattern(JSON.parse(filter.Pattern) as object));
    const target = String(this.properties.Target);
    const batchSize = this.batchSize();
    const limit = TARGET_BATCH_LIMIT[targetKind(target) ?? ''] ?? Infinity;
    if (batchSize > limit) {
      throw new PipeError(`${resource.logicalId}: BatchSize ${batchSize} is more than the target accepts (${limit}); Pipes refuses this pipe too`);
    }
  }

  /** Whether the pipe reads its source now. */
  get currentState(): 'RUNNING' | 'STOPPED' {
    return this.stopSource === undefined ? 'STOPPED' : 'RUNNING';
  }

  /** The properties DescribePipe returns. */
  get definition(): Readonly<PipeProperties> {
    return this.properties;
  }

  /** Starts reading the source (unless the pipe's DesiredState is STOPPED). */
  async start(): Promise<void> {
    if (this.desiredState === 'STOPPED' || this.stopSource !== undefined) return;
    this.stopping = false;
    const source = String(this.properties.Source);
    if (source.startsWith('arn:aws:dynamodb:') && source.includes('/stream/')) await this.startStream(source);
    else if (source.startsWith('arn:aws:sqs:')) await this.startQueue(source);
    else throw new PipeError(`${this.name}: source ${source} is not supported locally (DynamoDB streams and SQS are)`);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.stopSource?.();
    this.stopSource = undefined;
  }

  /** StartPipe and StopPipe: records the desired state and reaches it before resolving. */
  async changeDesiredState(state: 'RUNNING' | 'STOPPED'): Promise<void> {
    this.desiredState = state;
    this.lastModifiedAt = new Date();
    if (state === 'RUNNING') await this.start();
    else await this.stop();
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
      // arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>
      changes: this.services.tableWrites && ((wake) => this.services.tableWrites!.subscribe(streamArn.split('/')[1] ?? '', wake)),
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
        try {
          await this.process(records as unknown as PipeRecord[]);
        } catch (error) {
          this.stats.failures++; // the poller leaves the batch on the queue
          throw error;
        }
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
        if (this.stopping) throw new PipeError(`${this.name} stopped while retrying a batch of ${records.length}`);
        await backoff(attempt);
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
    // Throwing would make the poller retry the whole original batch, delivering again the
    // records bisect already delivered: the dead letter alone is retried, until the pipe stops.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.services.senders.deliver(deadLetterArn, JSON.stringify(body));
        return;
      } catch (error) {
        this.context.log(`pipe ${this.name}`, `dead letter of ${records.length} records to ${deadLetterArn} failed (attempt ${attempt + 1}), retrying it: ${(error as Error).message}`);
        if (this.stopping) throw new PipeError(`${this.name} stopped before its dead letter to ${deadLetterArn} went`, { cause: error });
        await backoff(attempt);
      }
    }
  }

  /** One batch through filter → enrichment → target; throws if any step fails. */
  private async process(records: PipeRecord[]): Promise<void> {
    this.stats.batches++;
    const kept = records.filter((record) => this.passesFilters(record));
    this.stats.filteredOut += records.length - kept.length;
    this.stats.records += kept.length;
    if (kept.length === 0) return;
    traceHop('pipes', 'Source', this.name, kept);
    const events = await traceSpan('pipes', 'Enrichment', this.name, kept, this.enrich(kept));
    if (events.length > 0) await traceSpan('pipes', 'Target', this.name, events, this.sendToTarget(events));
  }

  private passesFilters(record: PipeRecord): boolean {
    if (this.filters.length === 0) return true;
    // Pipes matches an SQS body that is JSON as an object, so patterns can reach into it.
    const subject = decodeSqsBody(record) ?? record;
    return this.filters.some((matches) => matches(subject));
  }

  private async enrich(records: PipeRecord[]): Promise<unknown[]> {
    const enrichment: string | undefined = this.properties.Enrichment;
    if (enrichment === undefined) return records;
    const template: string | undefined = this.properties.EnrichmentParameters?.InputTemplate;
    const input = template === undefined ? records : records.map((record) => JSON.parse(this.renderTemplate(template, record)) as unknown);
    const result = await this.services.lambda.invoke(enrichment, input);
    if (!result.ok) throw new PipeError(`enrichment ${enrichment} failed: ${result.errorType}: ${result.errorMessage}`);
    if (result.payload === null || result.payload === undefined) return [];
    return Array.isArray(result.payload) ? result.payload : [result.payload];
  }

  private async sendToTarget(events: unknown[]): Promise<void> {
    const target = String(this.properties.Target);
    const parameters: PipeTargetParameters = this.properties.TargetParameters ?? {};
    const template: string | undefined = parameters.InputTemplate;
    const render = (event: unknown): string => (template === undefined ? JSON.stringify(event) : this.renderTemplate(template, event));
    const kind = targetKind(target);
    if (kind === 'event-bus') {
      const bus = parameters.EventBridgeEventBusParameters ?? {};
      await this.services.senders.deliverBatch(target, events.map(render), {
        eventBus: {
          Source: String(bus.Source ?? 'Pipe ' + this.name),
          DetailType: String(bus.DetailType ?? `Event from ${this.sourceService()}`),
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
      const httpParameters = resolveHttpParameters(parameters.HttpParameters, decodeSqsBody(event) ?? event);
      await this.services.senders.deliver(target, render(event), httpParameters ? { httpParameters } : undefined);
    }
  }

  /** `aws:dynamodb` or `aws:sqs`, as the records' eventSource and Pipes' default DetailType name it. */
  private sourceService(): string {
    return String(this.properties.Source).startsWith('arn:aws:sqs:') ? 'aws:sqs' : 'aws:dynamodb';
  }

  private renderTemplate(template: string, event: unknown): string {
    return renderInputTemplate(template, event, {
      'aws.pipes.pipe-arn': this.arn,
      'aws.pipes.pipe-name': this.name,
      'aws.pipes.source-arn': String(this.properties.Source),
      'aws.pipes.enrichment-arn': this.properties.Enrichment,
      'aws.pipes.target-arn': String(this.properties.Target),
    });
  }
}

function backoff(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** attempt)));
}

function parseJsonOr(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** An SQS record with its body decoded when the body is JSON (Pipes' implicit body parsing); undefined for any other event. */
function decodeSqsBody(event: unknown): PipeRecord | undefined {
  if (typeof event !== 'object' || event === null) return undefined;
  const record = event as PipeRecord;
  if (record.eventSource !== 'aws:sqs' || typeof record.body !== 'string') return undefined;
  return { ...record, body: parseJsonOr(record.body) };
}

/** `<$.path>`: dot notation, `[n]`, and the `[*]` / `.*` wildcards (the Pipes JSON path syntax). */
const PATH_PLACEHOLDER = /<(\$(?:\.[\w/-]+|\.\*|\[(?:\d+|\*)\])*)>/g;
const RESERVED_PLACEHOLDER = /<(aws\.pipes\.[a-z.-]+)>/g;
/** What the rule transformer would take for a placeholder, left after the Pipes ones are rewritten. */
const OTHER_PLACEHOLDER = /<([A-Za-z0-9_.-]+)>/g;
/** Names the rewritten placeholders; no InputTemplate of this application uses it. */
const VARIABLE_PREFIX = '__pipes_';
const PATH_SEGMENT = /\.([\w/-]+)|\.(\*)|\[(\d+)\]|\[(\*)\]/y;

/** The reserved variables that name the pipe's resources. */
type PipeResourceVariables = Record<'aws.pipes.pipe-arn' | 'aws.pipes.pipe-name' | 'aws.pipes.source-arn' | 'aws.pipes.target-arn', string>
  & { 'aws.pipes.enrichment-arn': string | undefined };

/**
 * The value at a Pipes JSON path; with a wildcard, the array of every value it matches. Throws
 * for what is not a Pipes path.
 */
function pipePathValue(root: unknown, path: string): unknown {
  if (!path.includes('*')) return valueAtJsonPath(root, path); // the rules' JSONPath subset, which holds these
  let nodes: unknown[] = [root];
  let wildcard = false;
  for (let index = 1; index < path.length;) {
    PATH_SEGMENT.lastIndex = index;
    const match = PATH_SEGMENT.exec(path);
    if (match === null) throw new PipeError(`${JSON.stringify(path)} is not a JSON path Pipes accepts`);
    index = PATH_SEGMENT.lastIndex;
    const [, key, dotStar, position, bracketStar] = match;
    if (dotStar !== undefined || bracketStar !== undefined) {
      wildcard = true;
      nodes = nodes.flatMap((node) => (Array.isArray(node) ? node : typeof node === 'object' && node !== null ? Object.values(node) : []));
    } else if (position !== undefined) {
      nodes = nodes.flatMap((node) => (Array.isArray(node) && Number(position) < node.length ? [node[Number(position)]] : []));
    } else {
      nodes = nodes.flatMap((node) => (typeof node === 'object' && node !== null && !Array.isArray(node) && Object.hasOwn(node, key!)
        ? [(node as Record<string, unknown>)[key!]] : []));
    }
  }
  return wildcard ? nodes : nodes[0];
}

/**
 * Renders a Pipes input template for one event (see the header for how each value is inserted).
 * The values are resolved here; the quoting, escaping and JSON check are the rule transformer's,
 * which the Pipes page describes in the same terms for strings, objects and arrays.
 */
function renderInputTemplate(template: string, event: unknown, resources: PipeResourceVariables): string {
  const decoded = decodeSqsBody(event);
  const subject = decoded ?? event;
  const rawBody = decoded === undefined ? undefined : String((event as PipeRecord).body);
  const reserved: Record<string, unknown> = {
    ...resources,
    'aws.pipes.event.ingestion-time': new Date().toISOString(),
    'aws.pipes.event': event,
    'aws.pipes.event.json': rawBody === undefined || isJson(rawBody) ? subject : undefined,
  };
  const values: Record<string, unknown> = {};
  const paths: Record<string, string> = {};
  const bind = (value: unknown): string => {
    const name = `${VARIABLE_PREFIX}${Object.keys(paths).length}`;
    paths[name] = `$.${name}`;
    if (value !== undefined) values[name] = value;
    return `<${name}>`;
  };
  let rewritten = template
    .replace(PATH_PLACEHOLDER, (_whole, path: string) => bind(pipePathValue(subject, path)))
    .replace(RESERVED_PLACEHOLDER, (whole, variable: string) => (Object.hasOwn(reserved, variable) ? bind(reserved[variable]) : whole));
  for (const [, name] of rewritten.matchAll(OTHER_PLACEHOLDER)) {
    if (!Object.hasOwn(paths, name!)) throw new PipeError(`InputTemplate placeholder <${name}> is neither a JSON path nor a Pipes reserved variable`);
  }
  const only = `${VARIABLE_PREFIX}0`;
  if (rewritten.trim() === `<${only}>` && typeof values[only] === 'object' && values[only] !== null) rewritten = `"<${only}>"`;
  return shapeTargetInput({ InputTransformer: { InputPathsMap: paths, InputTemplate: rewritten } }, values);
}

/** Header, query and path values that are JSON paths (`$.idempotencyKey`, `$.body.key`) take the event's value. */
function resolveHttpParameters(parameters: HttpParameters | undefined, event: unknown): HttpParameters | undefined {
  if (parameters === undefined) return undefined;
  const resolveValue = (value: string): string => {
    if (!value.startsWith('$')) return value;
    const resolved = pipePathValue(event, value);
    return resolved === undefined ? '' : typeof resolved === 'string' ? resolved : JSON.stringify(resolved);
  };
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
      const created = new Date().toISOString();
      // Fn::GetAtt attributes as CloudFormation documents them, once the pipe reached its DesiredState
      // (StateReason, absent for a pipe in the state it was asked for, is not modelled).
      const currentState = resource.properties.DesiredState === 'STOPPED' ? 'STOPPED' : 'RUNNING';
      return { physicalId: name, attributes: { Arn: arn, CurrentState: currentState, CreationTime: created, LastModifiedTime: created } };
    },
  };
}
