/** SNS targets: Publish. (a FIFO message without a deduplication id gets a content-based one). */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { contentDeduplicationId, stringAttributes } from './message.js';
import { oneByOne, type Sender } from './sender.js';
import { traceSpan } from '../../trace.js';

export function snsSender(sns: SNSClient): Sender {
  return oneByOne(async (topicArn, message, options) => {
    const fifo = topicArn.endsWith('.fifo');
    await traceSpan('sns', 'Publish', topicArn, message, sns.send(new PublishCommand({
      TopicArn: topicArn,
      Message: message,
      MessageAttributes: stringAttributes(options.messageAttributes),
      MessageGroupId: fifo ? options.messageGroupId : undefined,
      MessageDeduplicationId: fifo ? (options.deduplicationId ?? contentDeduplicationId(message)) : undefined,
    })));
  });
}
