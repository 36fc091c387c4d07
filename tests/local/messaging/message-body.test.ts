import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CreateQueueCommand, ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { localClientConfig } from '../../../local/net.js';
import { startMessaging, type Messaging } from '../../../local/services/messaging/engine.js';

const REGION = 'eu-west-1';

/** Bodies SQS takes: SendMessage allows #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF. */
const ACCEPTED: Array<[string, string]> = [
  ['an emoji (U+1F600, beyond U+FFFF)', 'order for \u{1F600}'],
  ['the last code point, U+10FFFF', '\u{10FFFF}'],
  ['tab, line feed and carriage return', 'a\tb\nc\rd'],
  ['U+D7FF and U+E000 around the surrogates, U+FFFD', '\uD7FF\uE000\uFFFD'],
];

/** Bodies SQS refuses with InvalidMessageContents. */
const REFUSED: Array<[string, string]> = [
  ['U+0000', 'a\u0000b'],
  ['a lone high surrogate', 'a\uD83Db'],
  ['a lone low surrogate', 'a\uDE00b'],
  ['the noncharacter U+FFFE', 'a\uFFFEb'],
  ['the control character U+001F', 'a\u001Fb'],
];

describe('SQS message bodies: the characters SQS accepts', () => {
  let messaging: Messaging;
  let sqs: SQSClient;
  let queueUrl: string;

  beforeAll(async () => {
    messaging = await startMessaging({ region: REGION, accountId: '000000000000' });
    sqs = new SQSClient(localClientConfig(messaging.endpoint, REGION));
    ({ QueueUrl: queueUrl } = (await sqs.send(new CreateQueueCommand({ QueueName: 'bodies' }))) as { QueueUrl: string });
  });

  afterAll(async () => {
    sqs?.destroy();
    await messaging?.stop();
  });

  it.each(ACCEPTED)('SendMessage accepts %s and delivers it unchanged', async (_name, body) => {
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }));
    expect(Messages?.map((message) => message.Body)).toEqual([body]);
  });

  it.each(REFUSED)('SendMessage refuses %s with InvalidMessageContents', async (_name, body) => {
    await expect(sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }))).rejects.toMatchObject({ name: 'InvalidMessageContents' });
  });

  it('SendMessageBatch accepts an emoji entry and refuses a lone surrogate entry with InvalidMessageContents', async () => {
    const result = await sqs.send(new SendMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: [{ Id: 'emoji', MessageBody: '\u{1F4E6}' }, { Id: 'surrogate', MessageBody: '\uD83D' }],
    }));
    expect(result.Successful?.map((entry) => entry.Id)).toEqual(['emoji']);
    expect(result.Failed).toEqual([expect.objectContaining({ Id: 'surrogate', Code: 'InvalidMessageContents', SenderFault: true })]);
  });

  it('names errors as SQS does: a code SQS prefixes keeps AWS.SimpleQueueService. (NonExistentQueue is QueueDoesNotExist to the SDK)', async () => {
    const missing = queueUrl.replace(/bodies$/, 'missing');
    await expect(sqs.send(new SendMessageCommand({ QueueUrl: missing, MessageBody: 'x' }))).rejects.toMatchObject({ name: 'QueueDoesNotExist' });
  });
});
