/**
 * Counts the SQS and SNS requests AWS would bill, as the embedded fauxqs answers them: every SQS
 * API call (one per 64 KB chunk of the larger of request and answer), with the receives that
 * returned nothing counted apart (a poller's idle polling, whose rate depends on its long-poll
 * wait), SNS publishes (per 64 KB chunk) and the e-mails the SNS e-mail sink delivers.
 *
 * LIMITATIONS: the chunk size is taken on the whole HTTP body (JSON or query-string overhead
 * included), not on the message payload alone; the internal queues that serve SNS e-mail and
 * Lambda subscriptions locally (named {@link SNS_DELIVERY_QUEUE_PREFIX}…) are not counted, since
 * AWS delivers those without SQS; runtime lookups such as an EventBridge target's GetQueueUrl
 * (once per queue) are counted although AWS addresses queues by ARN internally.
 */

/** Name prefix of the internal queues behind SNS e-mail and Lambda subscriptions. */
export const SNS_DELIVERY_QUEUE_PREFIX = 'wims-sns-';

/** Billable SQS and SNS units since the engine started. */
export interface MessagingUsage {
  sqs: {
    /** API requests, per 64 KB chunk; receives that returned nothing excluded. */
    requests: number;
    /** ReceiveMessage calls that returned no message. */
    emptyReceives: number;
  };
  sns: {
    /** Publish and PublishBatch requests, per 64 KB chunk. */
    publishes: number;
    /** Notifications delivered to e-mail (and e-mail-json) subscriptions. */
    emailDeliveries: number;
  };
}

/** SQS and SNS bill each 64 KB chunk of a request's payload as one request. */
const CHUNK_BYTES = 64 * 1024;
const SQS_TARGET_PREFIX = 'AmazonSQS.';

/** What the counting hook reads of one answered request. */
export interface AnsweredRequest {
  headers: Record<string, string | string[] | undefined>;
  /** The parsed body: SQS JSON, or SNS query parameters. */
  body: unknown;
}

/** The counters of one messaging engine. */
export class MessagingMeter {
  private readonly counts: MessagingUsage = { sqs: { requests: 0, emptyReceives: 0 }, sns: { publishes: 0, emailDeliveries: 0 } };

  /** Counts one answered request; `payload` is the answer's body. */
  record(request: AnsweredRequest, payload: unknown): void {
    const target = request.headers['x-amz-target'];
    const body = (request.body ?? {}) as Record<string, unknown>;
    if (typeof target === 'string' && target.startsWith(SQS_TARGET_PREFIX)) {
      const queue = String(body.QueueUrl ?? body.QueueName ?? '');
      if (queue.includes(`/${SNS_DELIVERY_QUEUE_PREFIX}`) || queue.startsWith(SNS_DELIVERY_QUEUE_PREFIX)) return;
      const answer = typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : '';
      // Every received message carries a MessageId.
      if (target === `${SQS_TARGET_PREFIX}ReceiveMessage` && !answer.includes('"MessageId"')) this.counts.sqs.emptyReceives++;
      else this.counts.sqs.requests += chunks(Math.max(contentLength(request), answer.length));
    } else if (body.Action === 'Publish' || body.Action === 'PublishBatch') {
      this.counts.sns.publishes += chunks(contentLength(request));
    }
  }

  /** Counts one e-mail handed to the outbox. */
  emailDelivered(): void {
    this.counts.sns.emailDeliveries++;
  }

  usage(): MessagingUsage {
    return structuredClone(this.counts);
  }
}

function contentLength(request: AnsweredRequest): number {
  return Number(request.headers['content-length'] ?? 0);
}

function chunks(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / CHUNK_BYTES));
}
