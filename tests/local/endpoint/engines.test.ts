/**
 * The AWS endpoint forwards DynamoDB, DynamoDB Streams, SQS (JSON protocol) and SNS (query
 * protocol) to their engines: real SDK v3 clients, pointed at the endpoint alone, reach the
 * template's table, stream, queues and topics.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DynamoDBClient, GetItemCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, ListStreamsCommand } from '@aws-sdk/client-dynamodb-streams';
import { GetQueueAttributesCommand, ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { ListTopicsCommand, SNSClient } from '@aws-sdk/client-sns';
import { localClientConfig } from '../../../local/net.js';
import { startTestStack, type TestStack } from '../../helpers/stack.js';

let stack: TestStack;
let config: ReturnType<typeof localClientConfig>;

beforeAll(async () => {
  stack = await startTestStack({ stackName: 'wims-endpoint-engines' });
  config = localClientConfig(stack.stack.endpoints.aws, 'us-east-1');
}, 120_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

describe('the AWS endpoint, for the engines that speak AWS themselves', () => {
  it('serves DynamoDB: ListTables and GetItem reach the template table', async () => {
    // Prepare
    const dynamodb = new DynamoDBClient(config);

    // Act
    const { TableNames = [] } = await dynamodb.send(new ListTablesCommand({}));
    const { Item } = await dynamodb.send(new GetItemCommand({
      TableName: stack.table,
      Key: { pk: { S: 'INVENTORY#MACGUFFIN' }, sk: { S: 'MODEL#LX' } },
    }));
    dynamodb.destroy();

    // Assess
    expect(TableNames).toContain(stack.table);
    expect(Item?.quantity?.N).toBe('1000000');
  });

  it('serves DynamoDB Streams: ListStreams and DescribeStream find the table stream', async () => {
    // Prepare
    const streams = new DynamoDBStreamsClient(config);

    // Act
    const { Streams = [] } = await streams.send(new ListStreamsCommand({ TableName: stack.table }));
    const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: Streams[0]?.StreamArn }));
    streams.destroy();

    // Assess
    expect(Streams).toHaveLength(1);
    expect(StreamDescription?.StreamViewType).toBe('NEW_AND_OLD_IMAGES');
  });

  it('serves SQS in its JSON protocol: ListQueues and GetQueueAttributes', async () => {
    // Prepare
    const sqs = new SQSClient(config);

    // Act
    const { QueueUrls = [] } = await sqs.send(new ListQueuesCommand({}));
    const payments = QueueUrls.find((url) => url.endsWith('-PaymentsQueue'));
    const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: payments, AttributeNames: ['VisibilityTimeout'] }));
    sqs.destroy();

    // Assess
    expect(payments).toBeDefined();
    expect(Attributes.VisibilityTimeout).toBe('300');
  });

  it('serves SNS in its query protocol: ListTopics', async () => {
    // Prepare
    const sns = new SNSClient(config);

    // Act
    const { Topics = [] } = await sns.send(new ListTopicsCommand({}));
    sns.destroy();

    // Assess
    expect(Topics.map((topic) => topic.TopicArn)).toEqual(expect.arrayContaining([expect.stringMatching(/LowStockTopic/)]));
  });
});
