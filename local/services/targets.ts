/**
 * Delivers one body to one target ARN, the way EventBridge rules and Pipes call their targets:
 * SQS SendMessage, SNS Publish, a Step Functions execution, a Lambda invocation, a CloudWatch Logs
 * line, PutEvents on a local bus, or an HTTP call through an API destination. Failures are thrown
 * as {@link TargetError}s that say whether a retry may help, so each caller applies its own retry
 * policy and dead-letter queue.
 *
 * LIMITATIONS: only the target services above (Kinesis, Firehose, ECS, Batch, SSM, Redshift,
 * SageMaker, AppSync, API Gateway and cross-account or cross-region buses are rejected); IAM roles
 * are not checked; a Lambda target is invoked through the `invokeLambda` callback with asynchronous
 * (Event) semantics, so an error thrown by the function counts as delivered, as for an EventBridge
 * rule on AWS (Lambda, not the caller, owns the function's own retries); a FIFO SQS target without
 * a deduplication id gets the SHA-256 of the body as one; a log group ARN ending in `:*` fails
 * every delivery (NO_RESOURCE, not retried), since on AWS such a target never receives anything.
 */
import { createHash } from 'node:crypto';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { localClientConfig } from '../net.js';
import type { ApiEndpointMap } from './apigateway/endpoints.js';
import type { HttpParameters } from './events/api-destinations.js';
import type { EventBridgeService, PutEventsEntry } from './events/bus.js';
import type { LogStore } from './logs/store.js';

/**
 * A failed delivery. `code` is the `ERROR_CODE` EventBridge writes on dead-lettered events
 * (`THROTTLING`, `CONNECTION_FAILURE`, `TIMEOUT`, `NO_RESOURCE`, `SDK_CLIENT_ERROR`,
 * `INVALID_PARAMETER`, `INVALID_JSON`, `INTERNAL_ERROR`); `retryable` is true for throttling, 5xx,
 * timeouts and network failures, where another attempt may succeed.
 */
export class TargetError extends Error {
  override name = 'TargetError';
  readonly code: string;
  readonly retryable: boolean;
  /** The wait the target asked for (an HTTP `Retry-After`), if any. */
  readonly retryAfterMs: number | undefined;

  constructor(
    message: string,
    details: { code: string; retryable: boolean; retryAfterMs?: number; cause?: unknown },
  ) {
    super(message, { cause: details.cause });
    this.code = details.code;
    this.retryable = details.retryable;
    this.retryAfterMs = details.retryAfterMs;
  }
}

/**
 * A log group ARN as `GetAtt LogGroup.Arn` gives it, ending in `:*`; group 1 is the ARN without it.
 * As a rule target it deploys on AWS but never delivers.
 */
export const WILDCARD_LOG_GROUP_ARN = /^(arn:[^:]+:logs:[^:]*:[^:]*:log-group:[^:]+):\*$/;

/** Per-call settings of {@link TargetDispatcher.deliver}. */
export interface DeliverOptions {
  /** For API destinations: the target's HttpParameters (header/query values, `*` path values). */
  httpParameters?: HttpParameters;
  /** For FIFO SQS queues and SNS topics. */
  messageGroupId?: string;
  /** For FIFO SQS queues and SNS topics; defaults to the SHA-256 of the body. */
  deduplicationId?: string;
  /** For SQS and SNS: string message attributes (e.g. a dead-letter queue's ERROR_CODE). */
  messageAttributes?: Record<string, string>;
  /**
   * For event buses (Pipes' EventBridgeEventBusParameters): the body becomes the event's detail.
   * Without it, the body must be an event (rule → bus) whose source, detail-type, detail and
   * resources are put on the bus.
   */
  eventBus?: { Source: string; DetailType: string; Resources?: string[]; Time?: string };
}

/** What a delivering component needs: Pipes and EventBridge rules depend on this, not on the class. */
export interface TargetSender {
  deliver(targetArn: string, input: string, options?: DeliverOptions): Promise<void>;
}

/** Dependencies of {@link TargetDispatcher}; a target whose dependency is absent fails with NO_RESOURCE. */
export interface TargetDispatcherOptions {
  region: string;
  /** The SQS engine's endpoint (fauxqs). */
  sqsEndpoint?: string;
  /** The SNS engine's endpoint (fauxqs). */
  snsEndpoint?: string;
  /**
   * Invokes a function asynchronously with the JSON text `payload`: resolves once the function
   * ran, even if it failed (its result is ignored); rejects only when it could not be invoked
   * (unknown function, throttled).
   */
  invokeLambda?: (functionArn: string, payload: string) => Promise<unknown>;
  /** Starts a state machine execution with `input`; rejects when it cannot start. */
  startExecution?: (stateMachineArn: string, input: string) => Promise<unknown>;
  /** The API servers, read at each API destination call so that URLs reach the local servers. */
  apiEndpoints?: () => ApiEndpointMap;
  logs?: LogStore;
  /** The local EventBridge (buses and API destinations); a getter, as it is built after the dispatcher. */
  events?: () => Pick<EventBridgeService, 'putEvents' | 'apiDestinations'>;
}

/** Routes deliveries on the target ARN's service; one instance serves every rule and pipe. */
export class TargetDispatcher implements TargetSender {
  private readonly sqs: SQSClient | undefined;
  private readonly sns: SNSClient | undefined;
  /** Queue URLs by ARN; a failed lookup is forgotten so that a later call retries it. */
  private readonly queueUrls = new Map<string, Promise<string>>();

  constructor(private readonly options: TargetDispatcherOptions) {
    const { sqsEndpoint, snsEndpoint, region } = options;
    this.sqs = sqsEndpoint === undefined ? undefined : new SQSClient(localClientConfig(sqsEndpoint, region));
    this.sns = snsEndpoint === undefined ? undefined : new SNSClient(localClientConfig(snsEndpoint, region));
  }

  /** Delivers `input` to the target; throws a {@link TargetError} when it was not delivered. */
  async deliver(targetArn: string, input: string, options: DeliverOptions = {}): Promise<void> {
    const service = targetArn.split(':')[2];
    try {
      switch (service) {
        case 'sqs':
          return await this.sendToQueue(targetArn, input, options);
        case 'sns':
          return await this.publish(targetArn, input, options);
        case 'states':
          await this.required(this.options.startExecution, 'Step Functions', targetArn)(targetArn, input);
          return;
        case 'lambda':
          await this.required(this.options.invokeLambda, 'Lambda', targetArn)(targetArn, input);
          return;
        case 'logs':
          return this.appendLog(targetArn, input);
        case 'events':
          return await this.toEventBridge(targetArn, input, options);
        default:
          throw new TargetError(`Target ${targetArn}: service "${service ?? ''}" is not supported by the local runtime`, {
            code: 'INVALID_PARAMETER',
            retryable: false,
          });
      }
    } catch (error) {
      throw toTargetError(error, targetArn);
    }
  }

  /** Closes the SDK clients. */
  stop(): void {
    this.sqs?.destroy();
    this.sns?.destroy();
  }

  private required<T>(dependency: T | undefined, what: string, targetArn: string): T {
    if (dependency !== undefined) return dependency;
    throw new TargetError(`Target ${targetArn}: no local ${what} service is running`, { code: 'NO_RESOURCE', retryable: false });
  }

  private async sendToQueue(queueArn: string, body: string, options: DeliverOptions): Promise<void> {
    const sqs = this.required(this.sqs, 'SQS', queueArn);
    const queueUrl = await this.queueUrl(sqs, queueArn);
    const fifo = queueArn.endsWith('.fifo');
    await sqs.send(new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: body,
      MessageAttributes: stringAttributes(options.messageAttributes),
      MessageGroupId: fifo ? options.messageGroupId : undefined,
      MessageDeduplicationId: fifo ? (options.deduplicationId ?? sha256(body)) : undefined,
    }));
  }

  private queueUrl(sqs: SQSClient, queueArn: string): Promise<string> {
    let url = this.queueUrls.get(queueArn);
    if (url === undefined) {
      // Only the name: fauxqs keeps every queue under its own account, whatever the ARN says.
      const queueName = queueArn.slice(queueArn.lastIndexOf(':') + 1);
      url = sqs.send(new GetQueueUrlCommand({ QueueName: queueName })).then(({ QueueUrl }) => {
        if (QueueUrl === undefined) throw new Error(`GetQueueUrl returned no URL for ${queueName}`);
        return QueueUrl;
      });
      url.catch(() => this.queueUrls.delete(queueArn));
      this.queueUrls.set(queueArn, url);
    }
    return url;
  }

  private async publish(topicArn: string, message: string, options: DeliverOptions): Promise<void> {
    const sns = this.required(this.sns, 'SNS', topicArn);
    const fifo = topicArn.endsWith('.fifo');
    await sns.send(new PublishCommand({
      TopicArn: topicArn,
      Message: message,
      MessageAttributes: stringAttributes(options.messageAttributes),
      MessageGroupId: fifo ? options.messageGroupId : undefined,
      MessageDeduplicationId: fifo ? (options.deduplicationId ?? sha256(message)) : undefined,
    }));
  }

  /** `arn:aws:logs:region:account:log-group:NAME`. */
  private appendLog(logGroupArn: string, line: string): void {
    const logs = this.required(this.options.logs, 'CloudWatch Logs', logGroupArn);
    const wildcard = WILDCARD_LOG_GROUP_ARN.exec(logGroupArn);
    if (wildcard) {
      // On AWS such a rule target deploys, then never delivers anything.
      throw new TargetError(`Target ${logGroupArn}: a log group ARN ending in ":*" receives nothing; use ${wildcard[1]}`, { code: 'NO_RESOURCE', retryable: false });
    }
    const match = /:log-group:([^:]+)$/.exec(logGroupArn);
    if (match?.[1] === undefined) {
      throw new TargetError(`Target ${logGroupArn} is not a log group ARN`, { code: 'INVALID_PARAMETER', retryable: false });
    }
    logs.append(match[1], line);
  }

  private async toEventBridge(targetArn: string, input: string, options: DeliverOptions): Promise<void> {
    const resource = targetArn.split(':').slice(5).join(':');
    if (resource.startsWith('api-destination/')) {
      const { apiDestinations } = this.required(this.options.events, 'EventBridge', targetArn)();
      return apiDestinations.invoke(targetArn, input, {
        httpParameters: options.httpParameters,
        endpoints: this.options.apiEndpoints?.() ?? {},
      });
    }
    if (resource.startsWith('event-bus/')) return this.putOnBus(targetArn, input, options);
    throw new TargetError(`Target ${targetArn}: only event buses and API destinations can be EventBridge targets`, {
      code: 'INVALID_PARAMETER',
      retryable: false,
    });
  }

  private putOnBus(busArn: string, input: string, options: DeliverOptions): void {
    const buses = this.required(this.options.events, 'EventBridge', busArn)();
    const entry: PutEventsEntry = options.eventBus
      ? { ...options.eventBus, Detail: input, EventBusName: busArn }
      : { ...entryOf(input, busArn), EventBusName: busArn };
    const result = buses.putEvents([entry]).Entries[0];
    if (result !== undefined && 'ErrorCode' in result) {
      throw new TargetError(`PutEvents on ${busArn} failed: ${result.ErrorCode}: ${result.ErrorMessage}`, {
        code: result.ErrorCode === 'InternalFailure' ? 'INTERNAL_ERROR' : 'INVALID_PARAMETER',
        retryable: result.ErrorCode === 'InternalFailure',
      });
    }
  }
}

/** An event forwarded from a rule to another bus keeps its source, detail-type, detail and resources. */
function entryOf(input: string, busArn: string): Omit<PutEventsEntry, 'EventBusName'> {
  let event: unknown;
  try {
    event = JSON.parse(input);
  } catch {
    event = undefined;
  }
  const { source, 'detail-type': detailType, detail, resources } = (event ?? {}) as Record<string, unknown>;
  if (typeof source !== 'string' || typeof detailType !== 'string' || detail === undefined) {
    throw new TargetError(`Target ${busArn}: the input is not an event (source, detail-type, detail)`, {
      code: 'INVALID_JSON',
      retryable: false,
    });
  }
  return {
    Source: source,
    DetailType: detailType,
    Detail: JSON.stringify(detail),
    Resources: Array.isArray(resources) ? resources.map(String) : [],
  };
}

function stringAttributes(attributes: Record<string, string> | undefined) {
  if (attributes === undefined) return undefined;
  return Object.fromEntries(
    Object.entries(attributes).map(([name, value]) => [name, { DataType: 'String', StringValue: value }]),
  );
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Classifies any failure like EventBridge does: throttling, 5xx, timeouts and network errors are
 * retried; a missing resource or a rejected request is not.
 */
export function toTargetError(error: unknown, targetArn: string): TargetError {
  if (error instanceof TargetError) return error;
  const failure = error as { name?: string; message?: string; code?: string; $fault?: string; $metadata?: { httpStatusCode?: number } };
  const name = failure.name ?? 'Error';
  const message = `Target ${targetArn}: ${name}: ${failure.message ?? String(error)}`;
  const status = failure.$metadata?.httpStatusCode;
  if (/Throttl|TooManyRequests|RequestLimitExceeded/i.test(name) || status === 429) {
    return new TargetError(message, { code: 'THROTTLING', retryable: true, cause: error });
  }
  if (/NotFound|NonExistent|DoesNotExist/i.test(name)) {
    return new TargetError(message, { code: 'NO_RESOURCE', retryable: false, cause: error });
  }
  if (/TimeoutError|AbortError/.test(name)) {
    return new TargetError(message, { code: 'TIMEOUT', retryable: true, cause: error });
  }
  const networkCode = failure.code ?? (failure as { cause?: { code?: string } }).cause?.code;
  if (networkCode !== undefined && /^(ECONN|EPIPE|ENOTFOUND|EAI_AGAIN|UND_ERR)/.test(networkCode)) {
    return new TargetError(message, { code: 'CONNECTION_FAILURE', retryable: true, cause: error });
  }
  if (failure.$fault === 'client') {
    return new TargetError(message, { code: 'SDK_CLIENT_ERROR', retryable: false, cause: error });
  }
  return new TargetError(message, { code: 'INTERNAL_ERROR', retryable: true, cause: error });
}
