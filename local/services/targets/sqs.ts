/** SQS targets: SendMessage (a FIFO message without a deduplication id gets a content-based one). */
import { GetQueueUrlCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { contentDeduplicationId, stringAttributes } from './message.js';
import { oneByOne, type Sender } from './sender.js';
import { traceSpan } from '../../trace.js';

export function sqsSender(sqs: SQSClient): Sender {
  /** Queue URLs by ARN; a failed lookup is forgotten so that a later call retries it. */
  const queueUrls = new Map<string, Promise<string>>();
  const queueUrl = (queueArn: string): Promise<string> => {
    let url = queueUrls.get(queueArn);
    if (url === undefined) {
      // Only the name: fauxqs keeps every queue under its own account, whatever the ARN says.
      const queueName = queueArn.slice(queueArn.lastIndexOf(':') + 1);
      url = sqs.send(new GetQueueUrlCommand({ QueueName: queueName })).then(({ QueueUrl }) => {
        if (QueueUrl === undefined) throw new Error(`GetQueueUrl returned no URL for ${queueName}`);
        return QueueUrl;
      });
      url.catch(() => queueUrls.delete(queueArn));
      queueUrls.set(queueArn, url);
    }
    return url;
  };
  return oneByOne(async (queueArn, body, options) => {
    const fifo = queueArn.endsWith('.fifo');
    await traceSpan('sqs', 'SendMessage', queueArn, body, sqs.send(new SendMessageCommand({
      QueueUrl: await queueUrl(queueArn),
      MessageBody: body,
      MessageAttributes: stringAttributes(options.messageAttributes),
      MessageGroupId: fifo ? options.messageGroupId : undefined,
      MessageDeduplicationId: fifo ? (options.deduplicationId ?? contentDeduplicationId(body)) : undefined,
    })));
  });
}

