/**
 * The contract between what delivers (EventBridge rules, Pipes, SNS subscriptions, dead-letter
 * queues) and the senders, one per target service. A sender resolves once the target accepted
 * the input and throws a {@link TargetError} otherwise.
 */
import type { HttpParameters } from '../events/api-destinations.js';
import { TargetError } from './error.js';

/** Per-call settings of a delivery. */
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

/** Delivers inputs to a target ARN: what every delivering component depends on. */
export interface TargetSender {
  deliver(targetArn: string, input: string, options?: DeliverOptions): Promise<void>;
  /** Several inputs to one target, in as few calls as the target takes (PutEvents: 10 entries); throws if any failed. */
  deliverBatch(targetArn: string, inputs: readonly string[], options?: DeliverOptions): Promise<void>;
}

/** One target service's sender: delivers a batch of inputs, in order. */
export type Sender = (targetArn: string, inputs: readonly string[], options: DeliverOptions) => Promise<void>;

/** A sender for a target that takes one input per call. */
export function oneByOne(send: (targetArn: string, input: string, options: DeliverOptions) => Promise<void>): Sender {
  return async (targetArn, inputs, options) => {
    for (const input of inputs) await send(targetArn, input, options);
  };
}

/** The JSON input of a target that takes JSON (Lambda, Step Functions); invalid JSON is never retried. */
export function parseJsonInput(targetArn: string, input: string): unknown {
  try {
    return JSON.parse(input);
  } catch (error) {
    throw new TargetError(`Target ${targetArn}: the input is not JSON`, { code: 'INVALID_JSON', retryable: false, cause: error });
  }
}
