import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteItemCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { freePort, localClientConfig, waitUntil } from '../../../local/net.js';
import type { Json } from '../../../local/template/parse.js';
import type { ResolvedResource, RuntimeContext } from '../../../local/services/provider.js';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../../local/services/dynamodb/engine.js';
import { createTableProvider } from '../../../local/services/dynamodb/table-provider.js';
import { startMeteringProxy } from '../../../local/services/dynamodb/metering-proxy.js';
import { ServiceThread } from '../../../local/service-thread.js';
import { StreamPoller, toLambdaRecord, type StreamRecord } from '../../../local/services/sources/stream-poller.js';
import { testRuntimeContext } from '../../helpers/runtime-context.js';

const REGION = 'eu-west-1';

function context(stateDir: string | undefined, logs: string[] = []): RuntimeContext {
  return testRuntimeContext({ region: REGION, stackName: 'wims-test', stateDir, logged: logs });
}

function table(logicalId: string, properties: ResolvedResource['properties']): ResolvedResource {
  return { logicalId, type: 'AWS::DynamoDB::Table', properties, metadata: {} };
}

const ORDERS = table('Orders', {
  KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
  AttributeDefinitions: [
    { AttributeName: 'pk', AttributeType: 'S' },
    { AttributeName: 'sk', AttributeType: 'S' },
    { AttributeName: 'status', AttributeType: 'S' },
  ],
  BillingMode: 'PAY_PER_REQUEST',
  GlobalSecondaryIndexes: [{
    IndexName: 'byStatus',
    KeySchema: [{ AttributeName: 'status', KeyType: 'HASH' }],
    Projection: { ProjectionType: 'ALL' },
  }],
  StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
  TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
  PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
  Tags: [{ Key: 'app', Value: 'wims' }],
});

const key = (pk: string) => ({ pk: { S: pk }, sk: { S: 'order' } });

describe('DynamoDB Local (in memory)', () => {
  let engine: DynamoDbLocal;
  let client: DynamoDBClient;
  let stateDir: string;
  let streamArn: string;
  const pollers: StreamPoller[] = [];

  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'wims-ddb-'));
    engine = await startDynamoDbLocal();
    console.log(`DynamoDB Local (in memory) answered after ${engine.startupMs} ms`);
    client = new DynamoDBClient(localClientConfig(engine.endpoint, REGION));
  }, 120_000);

  afterAll(async () => {
    for (const poller of pollers) await poller.stop();
    client?.destroy();
    await engine?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }, 30_000);

  /** A poller on the Orders stream that collects what it is handed. */
  function poller(options: { handler?: (records: StreamRecord[]) => Promise<void>; received?: StreamRecord[] } = {}) {
    const received = options.received ?? [];
    const started = new StreamPoller({
      endpoint: engine.endpoint, streamArn, name: 'orders-consumer', stateDir, startingPosition: 'LATEST', batchSize: 10,
      handler: options.handler ?? (async (records) => { received.push(...records); }),
    });
    pollers.push(started);
    return { poller: started, received };
  }

  it('creates a table with a GSI, a stream and TTL from CloudFormation properties', async () => {
    const logs: string[] = [];
    const deployed = await createTableProvider(engine).create(ORDERS, context(undefined, logs));
    expect(deployed.physicalId).toBe('wims-test-Orders');
    expect(deployed.attributes.Arn).toBe('arn:aws:dynamodb:ddblocal:000000000000:table/wims-test-Orders');
    expect(deployed.attributes.StreamArn).toMatch(/^arn:aws:dynamodb:ddblocal:000000000000:table\/wims-test-Orders\/stream\//);
    streamArn = deployed.attributes.StreamArn ?? '';

    const described = (await client.send(new DescribeTableCommand({ TableName: 'wims-test-Orders' }))).Table;
    expect(described?.GlobalSecondaryIndexes?.map((index) => index.IndexName)).toEqual(['byStatus']);
    expect(described?.StreamSpecification?.StreamViewType).toBe('NEW_AND_OLD_IMAGES');
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: 'wims-test-Orders' }));
    expect(ttl.TimeToLiveDescription).toMatchObject({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expiresAt' });
    // Tags change nothing a running table does: accepted, never reported.
    expect(logs).toContain('not emulated: Orders: PointInTimeRecoverySpecification');
  });

  it('rejects a property that would change behaviour, naming resource and property', async () => {
    const kinesis = table('Audit', { ...ORDERS.properties, KinesisStreamSpecification: { StreamArn: 'arn:aws:kinesis:x' } });
    await expect(createTableProvider(engine).create(kinesis, context(undefined))).rejects.toThrow(
      'Audit (AWS::DynamoDB::Table) property KinesisStreamSpecification is not supported by the local runtime',
    );
    const badKey = table('Bad', { ...ORDERS.properties, KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH', Extra: 1 }] });
    await expect(createTableProvider(engine).create(badKey, context(undefined))).rejects.toThrow(
      'Bad (AWS::DynamoDB::Table) property KeySchema[0].Extra is not supported',
    );
  });

  it('delivers INSERT, MODIFY and REMOVE in order with both images, quickly', async () => {
    // Written before the poller starts at LATEST: must not be delivered.
    await client.send(new PutItemCommand({ TableName: 'wims-test-Orders', Item: { ...key('before'), status: { S: 'OLD' } } }));
    const latencies: number[] = [];
    let writtenAt = 0;
    const { poller: started, received } = poller({
      handler: async (records) => {
        latencies.push(Date.now() - writtenAt);
        received.push(...records);
      },
    });
    await started.start();

    writtenAt = Date.now();
    await client.send(new PutItemCommand({
      TableName: 'wims-test-Orders', Item: { ...key('o-1'), status: { S: 'NEW' }, blob: { B: new Uint8Array([1, 2, 3]) } },
    }));
    await waitUntil(() => received.length >= 1, { description: 'the INSERT record' });
    writtenAt = Date.now();
    await client.send(new UpdateItemCommand({
      TableName: 'wims-test-Orders', Key: key('o-1'),
      UpdateExpression: 'SET #s = :s', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':s': { S: 'PAID' } },
    }));
    await waitUntil(() => received.length >= 2, { description: 'the MODIFY record' });
    writtenAt = Date.now();
    await client.send(new DeleteItemCommand({ TableName: 'wims-test-Orders', Key: key('o-1') }));
    await waitUntil(() => received.length >= 3, { description: 'the REMOVE record' });
    console.log(`stream write -> handler latencies (ms): ${latencies.join(', ')}`);

    expect(received.map((record) => record.eventName)).toEqual(['INSERT', 'MODIFY', 'REMOVE']);
    const [insert, modify, remove] = received;
    expect(insert?.dynamodb?.NewImage?.status).toEqual({ S: 'NEW' });
    expect(modify?.dynamodb?.OldImage?.status).toEqual({ S: 'NEW' });
    expect(modify?.dynamodb?.NewImage?.status).toEqual({ S: 'PAID' });
    expect(remove?.dynamodb?.OldImage?.status).toEqual({ S: 'PAID' });
    expect(remove?.dynamodb?.NewImage).toBeUndefined();
    // Typically 10–60 ms; the bound only catches a poller that stalls (the machine may be busy).
    for (const latency of latencies) expect(latency).toBeLessThan(3000);

    const lambda = toLambdaRecord(insert as StreamRecord, { awsRegion: REGION, eventSourceArn: streamArn });
    expect(lambda).toEqual({
      eventID: insert?.eventID,
      eventName: 'INSERT',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: REGION,
      dynamodb: {
        ApproximateCreationDateTime: expect.any(Number),
        Keys: { pk: { S: 'o-1' }, sk: { S: 'order' } },
        NewImage: { pk: { S: 'o-1' }, sk: { S: 'order' }, status: { S: 'NEW' }, blob: { B: 'AQID' } },
        OldImage: undefined,
        SequenceNumber: insert?.dynamodb?.SequenceNumber,
        SizeBytes: expect.any(Number),
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
      eventSourceARN: streamArn,
    });
    expect(Number.isInteger(lambda.dynamodb?.ApproximateCreationDateTime)).toBe(true);

    await started.stop();
    const checkpoint = JSON.parse(readFileSync(join(stateDir, 'streams', 'orders-consumer.json'), 'utf8'));
    expect(Object.values(checkpoint.shards)).toContainEqual({ sequenceNumber: remove?.dynamodb?.SequenceNumber });
  });

  it('resumes from its checkpoint after a restart: no loss, no redelivery', async () => {
    // Written while no poller runs.
    await client.send(new PutItemCommand({ TableName: 'wims-test-Orders', Item: { ...key('o-2'), status: { S: 'NEW' } } }));
    await client.send(new PutItemCommand({ TableName: 'wims-test-Orders', Item: { ...key('o-3'), status: { S: 'NEW' } } }));
    const { poller: restarted, received } = poller();
    await restarted.start();
    await client.send(new PutItemCommand({ TableName: 'wims-test-Orders', Item: { ...key('sentinel'), status: { S: 'NEW' } } }));
    // Records arrive in order, so once the sentinel is in, anything redelivered would be too.
    await waitUntil(() => received.some((record) => record.dynamodb?.Keys?.pk?.S === 'sentinel'), { description: 'the sentinel' });
    expect(received.map((record) => `${record.eventName} ${record.dynamodb?.Keys?.pk?.S}`)).toEqual([
      'INSERT o-2', 'INSERT o-3', 'INSERT sentinel',
    ]);
    await restarted.stop();
  });

  it('hands the same batch again while the handler throws', async () => {
    const calls: string[][] = [];
    const { poller: failing } = poller({
      handler: async (records) => {
        calls.push(records.map((record) => record.eventID ?? ''));
        if (calls.length < 3) throw new Error('downstream unavailable');
      },
    });
    await failing.start();
    await client.send(new PutItemCommand({ TableName: 'wims-test-Orders', Item: { ...key('o-4'), status: { S: 'NEW' } } }));
    await waitUntil(() => calls.length >= 3, { description: 'two retries' });
    expect(calls[1]).toEqual(calls[0]);
    expect(calls[2]).toEqual(calls[0]);
    await failing.stop();
  });

  it('reads a write at once when the metering proxy tells it the table was written', async () => {
    const thread = new ServiceThread((message) => {
      throw new Error(message);
    });
    const proxy = await startMeteringProxy(engine.endpoint, thread);
    const proxied = new DynamoDBClient(localClientConfig(proxy.endpoint, REGION));
    const received: StreamRecord[] = [];
    const notified = new StreamPoller({
      endpoint: proxy.endpoint, streamArn, name: 'notified-consumer', startingPosition: 'LATEST', batchSize: 10,
      changes: (wake) => proxy.subscribe('wims-test-Orders', wake),
      maxIdleDelayMs: 600_000,
      handler: async (records) => { received.push(...records); },
    });
    pollers.push(notified);
    try {
      await notified.start();
      const streams = new DynamoDBStreamsClient(localClientConfig(engine.endpoint, REGION));
      const { Shards = [] } = (await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }))).StreamDescription ?? {};
      streams.destroy();
      expect(Shards.filter((shard) => shard.SequenceNumberRange?.EndingSequenceNumber === undefined)).toHaveLength(1);
      // Idle polls back off from 5 ms, doubling: after 12 empty reads of the one open shard the next poll is 10 s away.
      await waitUntil(() => proxy.usage().streamsEmptyReadRequests >= 12, { timeoutMs: 30_000, description: '12 empty reads' });
      await proxied.send(new PutItemCommand({ TableName: 'wims-test-Orders', Item: { ...key('notified'), status: { S: 'NEW' } } }));
      await waitUntil(() => received.length > 0, { timeoutMs: 5_000, description: 'the notified write\'s record before the next poll' });
      expect(received.map((record) => record.dynamodb?.Keys?.pk?.S)).toEqual(['notified']);
    } finally {
      await notified.stop();
      proxied.destroy();
      await proxy.stop();
      await thread.stop();
    }
  }, 60_000);

  it('stops a start abandoned before DynamoDB Local answers (a template error does not wait for the JVM)', async () => {
    // Prepare
    const port = await freePort();
    const abandon = new AbortController();

    // Act
    const starting = startDynamoDbLocal({ port, signal: abandon.signal });
    abandon.abort();

    // Assess
    await expect(starting).rejects.toThrow('DynamoDB Local\'s start was abandoned');
    const jvms = readdirSync('/proc').filter((pid) => /^\d+$/.test(pid) && commandLine(pid).includes(`-port\0${port}\0`));
    expect(jvms).toEqual([]);
  });

  it('reports a missing Java in one clear line', async () => {
    await expect(startDynamoDbLocal({ java: '/nonexistent/java' })).rejects.toThrow(
      'Java 17+ is needed for DynamoDB Local: apt-get install openjdk-17-jre-headless',
    );
  });
});

describe('DynamoDB Local (persistent)', () => {
  let stateDir: string;
  let engine: DynamoDbLocal | undefined;

  beforeAll(() => {
    stateDir = mkdtempSync(join(tmpdir(), 'wims-ddb-state-'));
  });

  afterAll(async () => {
    await engine?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }, 30_000);

  it('keeps tables and items across a stop and start with the same state folder', async () => {
    engine = await startDynamoDbLocal({ stateDir });
    console.log(`DynamoDB Local (persistent, empty) answered after ${engine.startupMs} ms`);
    const first = await createTableProvider(engine).create(ORDERS, context(stateDir));
    let client = new DynamoDBClient(localClientConfig(engine.endpoint, REGION));
    await client.send(new PutItemCommand({ TableName: first.physicalId, Item: { ...key('kept'), status: { S: 'NEW' } } }));
    client.destroy();
    await engine.stop();

    engine = await startDynamoDbLocal({ stateDir });
    console.log(`DynamoDB Local (persistent, restart) answered after ${engine.startupMs} ms`);
    const logs: string[] = [];
    const second = await createTableProvider(engine).create(ORDERS, context(stateDir, logs));
    expect(second).toEqual(first);
    expect(logs.join('\n')).toContain('kept existing table wims-test-Orders');
    client = new DynamoDBClient(localClientConfig(engine.endpoint, REGION));
    const item = await client.send(new GetItemCommand({ TableName: second.physicalId, Key: key('kept') }));
    client.destroy();
    expect(item.Item?.status).toEqual({ S: 'NEW' });
  }, 240_000);

  it('adds an index the template gained to the kept table, backfilled with its items', async () => {
    // Prepare: the table of the test above, kept in the state folder; the template now has a second index.
    const withIndex = table('Orders', {
      ...ORDERS.properties,
      AttributeDefinitions: [...(ORDERS.properties.AttributeDefinitions as Json[]), { AttributeName: 'createdAt', AttributeType: 'N' }],
      GlobalSecondaryIndexes: [
        ...(ORDERS.properties.GlobalSecondaryIndexes as Json[]),
        { IndexName: 'byCreatedAt', KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'createdAt', KeyType: 'RANGE' }], Projection: { ProjectionType: 'KEYS_ONLY' } },
      ],
    });
    const client = new DynamoDBClient(localClientConfig(engine!.endpoint, REGION));
    await client.send(new PutItemCommand({ TableName: 'wims-test-Orders', Item: { ...key('dated'), createdAt: { N: '1' } } }));

    // Act
    const logs: string[] = [];
    await createTableProvider(engine!).create(withIndex, context(stateDir, logs));

    // Assess
    const { Items = [] } = await client.send(new QueryCommand({ TableName: 'wims-test-Orders', IndexName: 'byCreatedAt', KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: 'dated' } } }));
    client.destroy();
    expect(Items).toHaveLength(1);
    expect(logs.join('\n')).toContain('added index byCreatedAt to the existing table wims-test-Orders');
    expect(logs.join('\n')).not.toContain('differs from the template');
  }, 60_000);
});

describe('toLambdaRecord', () => {
  it('reports DynamoDB Local\'s TTL deletions as REMOVE by the TTL service, as AWS does', () => {
    const ttlDeletion: StreamRecord = {
      eventID: 'e-1', eventName: 'UNKNOWN_TO_SDK_VERSION' as StreamRecord['eventName'], eventVersion: '1.1',
      eventSource: 'aws:dynamodb', awsRegion: 'ddblocal',
      dynamodb: {
        ApproximateCreationDateTime: new Date('2026-01-02T03:04:00Z'), Keys: key('gone'),
        OldImage: { ...key('gone'), tags: { L: [{ BS: [new Uint8Array([255])] }, { M: { n: { N: '1' } } }] } },
        SequenceNumber: '7', SizeBytes: 20, StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    };
    expect(toLambdaRecord(ttlDeletion, { awsRegion: REGION, eventSourceArn: 'arn:stream' })).toMatchObject({
      eventName: 'REMOVE',
      userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' },
      dynamodb: {
        ApproximateCreationDateTime: Date.parse('2026-01-02T03:04:00Z') / 1000,
        OldImage: { pk: { S: 'gone' }, sk: { S: 'order' }, tags: { L: [{ BS: ['/w=='] }, { M: { n: { N: '1' } } }] } },
      },
    });
  });
});

describe('DynamoDB Local process lifetime', () => {
  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  it('dies with a parent that gets SIGTERM, and the parent still exits on the signal', async () => {
    const engineUrl = new URL('../../../local/services/dynamodb/engine.ts', import.meta.url).href;
    const parent = spawn(process.execPath, [
      '--import', 'tsx', '--input-type=module', '-e',
      `const { startDynamoDbLocal } = await import(${JSON.stringify(engineUrl)});
       const engine = await startDynamoDbLocal();
       console.log(engine.pid);
       setInterval(() => undefined, 60_000);`,
    ], { stdio: ['ignore', 'pipe', 'inherit'] });
    let javaPid = 0;
    try {
      let output = '';
      parent.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
      javaPid = await waitUntil(() => Number.parseInt(output, 10) || undefined, {
        timeoutMs: 120_000, description: 'the DynamoDB Local pid from the parent',
      });
      expect(alive(javaPid)).toBe(true);
      const exited = new Promise<NodeJS.Signals | null>((resolve) => parent.once('exit', (_code, signal) => resolve(signal)));
      parent.kill('SIGTERM');
      expect(await exited).toBe('SIGTERM');
      await waitUntil(() => !alive(javaPid), { description: `DynamoDB Local (pid ${javaPid}) to end` });
    } finally {
      // Never leave a server behind, even when an expectation failed.
      if (parent.exitCode === null && parent.signalCode === null) parent.kill('SIGKILL');
      if (javaPid > 0 && alive(javaPid)) process.kill(javaPid, 'SIGKILL');
    }
  }, 150_000);
});

/** A process's command line, NUL-separated ('' once it has gone). */
function commandLine(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}
