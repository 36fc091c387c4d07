/**
 * No order left behind, end to end through the local runtime: a failure after the reservation
 * (the payments queue is gone, so SendMessage fails) gives the stock back and fails the order in
 * one transaction, tells the customer, and a redelivered order event releases nothing twice.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import type { LocalStack } from '../../../local/runtime.js';
import { startTestStack, type TestStack } from '../../helpers/stack.js';
import { localClientConfig, waitUntil } from '../../../local/net.js';

let running: TestStack;
let stack: LocalStack;
let api: string;
let documents: DynamoDBDocumentClient;
let sqs: SQSClient;
let table: string;

const STOCK_KEY = { pk: 'INVENTORY#MACGUFFIN', sk: 'MODEL#LX' };

async function stock(): Promise<number> {
  const { Item } = await documents.send(new GetCommand({ TableName: table, Key: STOCK_KEY, ConsistentRead: true }));
  return Item!.quantity as number;
}

async function orderOf(customerId: string): Promise<Record<string, unknown> | undefined> {
  const { Items = [] } = await documents.send(new QueryCommand({
    TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `CUSTOMER#${customerId}` }, ConsistentRead: true,
  }));
  return Items[0];
}

beforeAll(async () => {
  running = await startTestStack({ stackName: 'wims-compensation' });
  ({ stack, api, table, documents, sqs } = running);
}, 120_000);

afterAll(() => running?.stop(), 60_000);

describe('a failure after the reservation', () => {
  it('releases the stock once, fails the order with its reason, tells the customer, and a redelivery releases nothing', async () => {
    // Prepare: a queue listening to customer notifications, and no payments queue.
    const { QueueUrl: notifications } = await sqs.send(new CreateQueueCommand({ QueueName: 'compensation-customer-notifications' }));
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: notifications, AttributeNames: ['QueueArn'] }));
    const sns = new SNSClient(localClientConfig(stack.endpoints.sqs, 'us-east-1'));
    await sns.send(new SubscribeCommand({ TopicArn: stack.outputs.CustomerNotificationsTopicArn, Protocol: 'sqs', Endpoint: Attributes!.QueueArn, Attributes: { RawMessageDelivery: 'true' } }));
    sns.destroy();
    await sqs.send(new DeleteQueueCommand({ QueueUrl: stack.outputs.PaymentsQueueUrl }));
    const before = await stock();
    const orders = stack.outputs.OrdersStateMachineArn!;
    const finishedRuns = () => stack.stepFunctions.registry.executions(orders).length;

    // Act
    const response = await fetch(`${api}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ customerId: 'comp-1', quantity: 3 }) });
    expect(response.status).toBe(202);
    const { orderId } = (await response.json()) as { orderId: string };

    // Assess: FAILED with the SendMessage error as its reason, the stock as it was.
    const failed = await waitUntil(async () => {
      const order = await orderOf('comp-1');
      return order?.status === 'FAILED' && order;
    }, { timeoutMs: 30_000, description: 'the order FAILED' });
    expect(failed).toMatchObject({ orderId, paymentStatus: 'QUEUED', failureReason: 'SQS.QueueDoesNotExistException' });
    expect(await stock()).toBe(before);
    const [run] = await waitUntil(() => finishedRuns() >= 1 && stack.stepFunctions.registry.executions(orders), { description: 'the workflow finished' });
    expect(run).toMatchObject({ status: 'FAILED', error: 'OrderFailed' });

    const notice = await waitUntil(async () => {
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: notifications, WaitTimeSeconds: 1 }));
      return Messages[0];
    }, { timeoutMs: 15_000, description: 'the customer notification' });
    expect(JSON.parse(notice.Body!)).toEqual({ customerId: 'comp-1', orderId, status: 'FAILED', failureReason: 'SQS.QueueDoesNotExistException' });

    // Act: the archive replayed twice (the order's INSERT event among them).
    const archiveName = stack.resources.get('WimsEventArchive')!.physicalId;
    for (let replay = 0; replay < 2; replay++) {
      await stack.events.replay({ archiveName, startTime: new Date(0), endTime: new Date(Date.now() + 60_000) });
    }
    await waitUntil(() => finishedRuns() >= 3, { timeoutMs: 30_000, description: 'the redelivered executions finished' });
    await stack.events.idle();

    // Assess: the redeliveries found the order FAILED and left the stock alone.
    expect(stack.stepFunctions.registry.executions(orders).slice(1).map((record) => record.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(await stock()).toBe(before);
    expect(await orderOf('comp-1')).toMatchObject({ status: 'FAILED', failureReason: 'SQS.QueueDoesNotExistException' });
  }, 90_000);
});
