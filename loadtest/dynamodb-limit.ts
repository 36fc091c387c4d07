/**
 * The physical limit of the local stack on this machine: how many orders a second DynamoDB Local
 * itself can serve, driven bare (no runtime, no Lambda, no HTTP hop but the SDK's) with the mix of
 * requests that one order made in the benchmark's run. Ten closed-loop clients each replay "one
 * order's worth" of requests (the mix's fractional counts drawn at random) against a fresh
 * in-memory DynamoDB Local, and the orders completed per second is the bound the stack's own
 * throughput is compared with.
 */
import { randomUUID } from 'node:crypto';
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import { startDynamoDbLocal } from '../local/services/dynamodb/engine.js';
import { localClientConfig } from '../local/net.js';
import { cpuSeconds } from './resources.js';

const CLIENTS = 10;
const WARM_UP_MS = 2000;
const MEASURE_MS = 8000;
const TABLE = 'limit';
/** About the size of an order item (its attributes and the idempotency records are a few hundred bytes). */
const PAYLOAD = 'x'.repeat(400);
const REGION = 'us-east-1';

/** What the bare loop measured. */
export interface DynamoDbLimit {
  /** Requests of each action one order made (the run's, without the benchmark's own reads). */
  mix: Record<string, number>;
  /** Actions of the mix the loop does not replay (control plane, at start-up). */
  not_replayed: string[];
  clients: number;
  orders_per_s: number;
  requests_per_s: number;
  /** DynamoDB Local's CPU per order's worth of requests, in the loop. */
  cpu_ms_per_order: number;
}

type Operation = (clientId: number) => Promise<unknown>;

/** Replays `mix` (requests per order by action) against a fresh DynamoDB Local; resolves with the bound. */
export async function measureDynamoDbLimit(mix: Record<string, number>): Promise<DynamoDbLimit> {
  const engine = await startDynamoDbLocal();
  const client = new DynamoDBClient(localClientConfig(engine.endpoint, REGION));
  const streams = new DynamoDBStreamsClient(localClientConfig(engine.endpoint, REGION));
  try {
    const { TableDescription } = await client.send(new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }));
    const streamArn = TableDescription!.LatestStreamArn!;
    const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    const shardId = StreamDescription?.Shards?.at(-1)?.ShardId;
    const shardIterator = async () =>
      (await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    const item = (pk: string, sk = 'order') => ({ pk: { S: pk }, sk: { S: sk }, payload: { S: PAYLOAD }, quantity: { N: '1000000000' } });
    // Each client works on its own keys, as orders do: no write contends with another client's.
    const seeded = async (clientId: number) => {
      await client.send(new PutItemCommand({ TableName: TABLE, Item: item(`client#${clientId}`) }));
      await client.send(new PutItemCommand({ TableName: TABLE, Item: item(`client#${clientId}`, 'stock') }));
    };
    await Promise.all(Array.from({ length: CLIENTS }, (_, clientId) => seeded(clientId)));
    let iterator: string | undefined;
    const operations: Record<string, Operation> = {
      PutItem: () => client.send(new PutItemCommand({ TableName: TABLE, Item: item(randomUUID()), ConditionExpression: 'attribute_not_exists(pk)' })),
      UpdateItem: (id) => client.send(new UpdateItemCommand({
        TableName: TABLE, Key: { pk: { S: `client#${id}` }, sk: { S: 'order' } },
        UpdateExpression: 'SET #status = :status ADD version :one', ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#status': 'status' }, ExpressionAttributeValues: { ':status': { S: 'RESERVED' }, ':one': { N: '1' } },
      })),
      GetItem: (id) => client.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: `client#${id}` }, sk: { S: 'order' } }, ConsistentRead: true })),
      Query: (id) => client.send(new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: `client#${id}` } } })),
      DeleteItem: () => client.send(new DeleteItemCommand({ TableName: TABLE, Key: { pk: { S: randomUUID() }, sk: { S: 'order' } } })),
      BatchWriteItem: () => client.send(new BatchWriteItemCommand({ RequestItems: { [TABLE]: [{ PutRequest: { Item: item(randomUUID()) } }] } })),
      // The reservation's shape: a conditional decrement and the order's update in one transaction.
      TransactWriteItems: (id) => client.send(new TransactWriteItemsCommand({
        TransactItems: [
          { Update: { TableName: TABLE, Key: { pk: { S: `client#${id}` }, sk: { S: 'stock' } }, UpdateExpression: 'SET quantity = quantity - :one', ConditionExpression: 'quantity >= :one', ExpressionAttributeValues: { ':one': { N: '1' } } } },
          { Update: { TableName: TABLE, Key: { pk: { S: `client#${id}` }, sk: { S: 'order' } }, UpdateExpression: 'SET #status = :status', ExpressionAttributeNames: { '#status': 'status' }, ExpressionAttributeValues: { ':status': { S: 'RESERVED' } } } },
        ],
      })),
      DescribeStream: () => streams.send(new DescribeStreamCommand({ StreamArn: streamArn })),
      GetShardIterator: shardIterator,
      GetRecords: async () => {
        iterator ??= await shardIterator();
        const { NextShardIterator } = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 100 }));
        iterator = NextShardIterator;
      },
    };
    const replayed = Object.entries(mix).filter(([action, count]) => operations[action] !== undefined && count > 0);
    const oneOrder = async (clientId: number): Promise<number> => {
      let requests = 0;
      for (const [action, count] of replayed) {
        const times = Math.floor(count) + (Math.random() < count % 1 ? 1 : 0);
        for (let time = 0; time < times; time++) await operations[action]!(clientId);
        requests += times;
      }
      return requests;
    };
    const run = async (ms: number) => {
      const until = Date.now() + ms;
      let orders = 0;
      let requests = 0;
      await Promise.all(Array.from({ length: CLIENTS }, async (_, clientId) => {
        while (Date.now() < until) {
          // Not `requests += await …`: that would read `requests` before the await and lose the other clients' counts.
          const made = await oneOrder(clientId);
          requests += made;
          orders++;
        }
      }));
      return { orders, requests };
    };
    await run(WARM_UP_MS);
    const cpuBefore = cpuSeconds(String(engine.pid));
    const started = Date.now();
    const { orders, requests } = await run(MEASURE_MS);
    const seconds = (Date.now() - started) / 1000;
    return {
      mix,
      not_replayed: Object.keys(mix).filter((action) => operations[action] === undefined),
      clients: CLIENTS,
      orders_per_s: Math.round((orders / seconds) * 10) / 10,
      requests_per_s: Math.round(requests / seconds),
      cpu_ms_per_order: Math.round(((cpuSeconds(String(engine.pid)) - cpuBefore) * 1000 * 100) / Math.max(1, orders)) / 100,
    };
  } finally {
    client.destroy();
    streams.destroy();
    await engine.stop();
  }
}
