/**
 * The senders: every delivery of the local runtime (EventBridge rule targets, Pipes targets, SNS
 * subscriptions to functions, and the dead letters of all of them) goes through one registry,
 * keyed by the target ARN's service, with one sender per service in this folder. Failures come
 * out as {@link TargetError}s that say whether a retry may help; each caller keeps its own retry
 * policy and dead-letter queue.
 *
 * LIMITATIONS: only the services below (Kinesis, Firehose, ECS, Batch, SSM, Redshift, SageMaker,
 * AppSync, API Gateway and cross-account or cross-region buses are rejected); IAM roles are not
 * checked.
 */
import { TargetError, toTargetError } from './error.js';
import type { DeliverOptions, Sender, TargetSender } from './sender.js';

/** The kinds of target, by the ARN's service (EventBridge ARNs split into buses and API destinations). */
export type TargetKind = 'sqs' | 'sns' | 'lambda' | 'states' | 'logs' | 'event-bus' | 'api-destination';

const SERVICE_KINDS: Record<string, TargetKind> = { sqs: 'sqs', sns: 'sns', lambda: 'lambda', states: 'states', logs: 'logs' };

/** The kind of target an ARN names, or undefined for a service the local runtime cannot deliver to. */
export function targetKind(targetArn: string): TargetKind | undefined {
  const [, , service, , , ...resource] = targetArn.split(':');
  if (service !== 'events') return SERVICE_KINDS[service ?? ''];
  const path = resource.join(':');
  if (path.startsWith('event-bus/')) return 'event-bus';
  if (path.startsWith('api-destination/')) return 'api-destination';
  return undefined;
}

/** Routes each delivery to the sender of its target's kind; a kind without a sender fails with NO_RESOURCE. */
export class TargetSenders implements TargetSender {
  constructor(private readonly senders: Partial<Record<TargetKind, Sender>>) {}

  /** Delivers `input` to the target; throws a {@link TargetError} when it was not delivered. */
  deliver(targetArn: string, input: string, options: DeliverOptions = {}): Promise<void> {
    return this.deliverBatch(targetArn, [input], options);
  }

  /** Delivers `inputs` to the target, in order; throws a {@link TargetError} at the first that was not delivered. */
  async deliverBatch(targetArn: string, inputs: readonly string[], options: DeliverOptions = {}): Promise<void> {
    const kind = targetKind(targetArn);
    if (kind === undefined) {
      throw new TargetError(`Target ${targetArn}: this kind of target is not supported by the local runtime`, {
        code: 'INVALID_PARAMETER',
        retryable: false,
      });
    }
    const sender = this.senders[kind];
    if (sender === undefined) {
      throw new TargetError(`Target ${targetArn}: no local ${kind} service is running`, { code: 'NO_RESOURCE', retryable: false });
    }
    try {
      await sender(targetArn, inputs, options);
    } catch (error) {
      throw toTargetError(error, targetArn);
    }
  }
}
