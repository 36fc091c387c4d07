/**
 * With a state folder, SQS survives a SIGKILL as AWS promises: a message fauxqs accepted is still
 * there after the process that held it is killed, and one that was received but not deleted
 * is visible again at once, its 60 s visibility timeout cut short (the consumer that held it was
 * the killed runtime) and its receive count kept. The killed process is a real child.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetQueueUrlCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { localClientConfig } from '../../../local/net.js';
import { startMessaging, type Messaging } from '../../../local/services/messaging/engine.js';

const REGION = 'us-east-1';
const ENGINE = fileURLToPath(new URL('../../../local/services/messaging/engine.ts', import.meta.url));

/** In the child: a persistent fauxqs, a queue, two messages of which one is received (in flight); then it waits to be killed. */
const CHILD = `
import { CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
const { startMessaging } = await import(${JSON.stringify(ENGINE)});
const messaging = await startMessaging({ region: '${REGION}', accountId: '000000000000', stateDir: process.env.STATE_DIR });
const sqs = new SQSClient({ endpoint: messaging.endpoint, region: '${REGION}', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'orders', Attributes: { VisibilityTimeout: '60' } }));
await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'in flight' }));
await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 1 }));
await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'waiting' }));
console.log('accepted');
setInterval(() => undefined, 60_000);
`;

let stateDir: string;
let messaging: Messaging | undefined;

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'wims-durable-sqs-'));
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '--no-warnings', '-e', CHILD], {
    env: { ...process.env, STATE_DIR: stateDir, NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => { if (chunk.toString().includes('accepted')) resolve(); });
    child.once('exit', (code) => reject(new Error(`the child exited with ${code} before its messages were accepted`)));
  });
  child.kill('SIGKILL');
  await exited;
}, 60_000);

afterAll(async () => {
  await messaging?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

describe('SQS with a state folder, after a SIGKILL', () => {
  it('still holds every accepted message; the in-flight one is visible again at once, its receive count kept', async () => {
    // Act
    messaging = await startMessaging({ region: REGION, accountId: '000000000000', stateDir });
    const sqs = new SQSClient(localClientConfig(messaging.endpoint, REGION));
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: 'orders' }));
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }));
    sqs.destroy();

    // Assess
    const received = Object.fromEntries(Messages.map((message) => [message.Body, message.Attributes?.ApproximateReceiveCount]));
    expect(received).toEqual({ 'in flight': '2', waiting: '1' });
  }, 30_000);
});
