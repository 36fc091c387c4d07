/**
 * Proof that the runtime derives everything from the template: a template with its own table,
 * pipe, bus and a rule with a new pattern and an SQS target runs with no code change.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startLocalStack, type LocalStack } from '../../../local/runtime.js';
import { localClientConfig, waitUntil } from '../../../local/net.js';

let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({
    templatePath: fileURLToPath(new URL('../fixtures/extra-rule.yaml', import.meta.url)),
    inMemory: true,
    apiPort: 0,
    stackName: 'wims-fixture',
  });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

it('routes only the events its own pattern matches to its own queue', async () => {
  // Prepare
  const dynamodb = new DynamoDBClient(localClientConfig(stack.endpoints.dynamodb, 'us-east-1'));
  const sqs = new SQSClient(localClientConfig(stack.endpoints.sqs, 'us-east-1'));
  const put = (id: string, name: string, tier: string) => dynamodb.send(new PutItemCommand({
    TableName: stack.outputs.TableName,
    Item: { id: { S: id }, name: { S: name }, tier: { S: tier } },
  }));

  // Act: only g2 is both a gadget-* and gold.
  await put('g1', 'gadget-plain', 'silver');
  await put('g2', 'gadget-gold', 'Gold');
  await put('g3', 'widget-gold', 'gold');

  // Assess
  const received: string[] = [];
  await waitUntil(async () => {
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.outputs.QueueUrl, WaitTimeSeconds: 1, MaxNumberOfMessages: 10 }));
    received.push(...Messages.map((message) => message.Body!));
    return [...stack.pipes.values()][0]!.stats.records >= 3 && received.length >= 1;
  }, { timeoutMs: 15_000, description: 'the gold gadget in the queue' });
  expect(received.map((body) => JSON.parse(body))).toEqual([{ gadget: 'g2', tier: 'Gold' }]);
  dynamodb.destroy();
  sqs.destroy();
}, 60_000);
