/**
 * Moves a dead-letter queue's messages back to their source queue, as the SQS console's "start DLQ
 * redrive" does: each message's body and attributes are sent to the source, then deleted from
 * the dead-letter queue, ten at a time, until a receive finds none. Used by `wims dlq redrive`
 * (through the AWS endpoint) and by the dashboard (in process); both pass an SQS client.
 *
 * LIMITATIONS: not SQS's StartMessageMoveTask (no task to list or cancel, no velocity setting);
 * messages in flight in the dead-letter queue when it runs stay there.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** SQS hands out and takes at most 10 messages per call. */
const MAX_BATCH = 10;

/** Moves every visible message of `deadLetterUrl` to `sourceUrl`; resolves to how many moved. */
export async function moveMessages(sqs: SQSClient, deadLetterUrl: string, sourceUrl: string): Promise<number> {
  let moved = 0;
  for (;;) {
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({
      QueueUrl: deadLetterUrl, MaxNumberOfMessages: MAX_BATCH, WaitTimeSeconds: 0, MessageAttributeNames: ['All'],
    }));
    if (Messages.length === 0) return moved;
    await sqs.send(new SendMessageBatchCommand({
      QueueUrl: sourceUrl,
      Entries: Messages.map((message, index) => ({ Id: String(index), MessageBody: message.Body ?? '', MessageAttributes: message.MessageAttributes })),
    }));
    // Deleted only once sent: a crash in between redelivers a message rather than losing it.
    await sqs.send(new DeleteMessageBatchCommand({
      QueueUrl: deadLetterUrl,
      Entries: Messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle ?? '' })),
    }));
    moved += Messages.length;
  }
}
