import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { handler, seedInventory, type SeedInventoryDeps } from '../../functions/seed-inventory/handler.js';
import { CloudFormationResponseError } from '../../functions/shared/errors.js';
import { createTableLike, localDynamoDb } from '../helpers/dynamodb.js';
import { loadEvent } from '../helpers/events.js';
import { startRecordingServer, type RecordingServer } from '../helpers/http.js';
import { lambdaContext } from '../helpers/lambda.js';

const KEY = { pk: 'INVENTORY#MACGUFFIN', sk: 'MODEL#LX' };
const { client, documentClient } = localDynamoDb();
const deps: SeedInventoryDeps = { documentClient };
let tableName: string;
let cloudFormation: RecordingServer;

/** A sample request aimed at this test's table, answering to the local "pre-signed URL". */
function request<T extends CloudFormationCustomResourceEvent>(name: 'create' | 'update' | 'delete'): T {
  const event = loadEvent<T>(`seed-inventory/${name}.json`);
  event.ResourceProperties.TableName = tableName;
  event.ResponseURL = `${cloudFormation.url}${new URL(event.ResponseURL).pathname.slice(1)}?X-Amz-Signature=local`;
  return event;
}

async function inventory(): Promise<Record<string, unknown> | undefined> {
  return (await documentClient.send(new GetCommand({ TableName: tableName, Key: KEY }))).Item;
}

function sentResponse(): Record<string, unknown> {
  expect(cloudFormation.requests).toHaveLength(1);
  const [put] = cloudFormation.requests;
  expect(put?.method).toBe('PUT');
  expect(put?.headers['content-type']).toBe('');
  return JSON.parse(put!.body);
}

describe('seed-inventory', () => {
  beforeAll(async () => {
    cloudFormation = await startRecordingServer();
  });

  afterAll(() => cloudFormation.close());

  beforeEach(async () => {
    tableName = await createTableLike(client, 'WimsTable');
    cloudFormation.respondWith(200);
    cloudFormation.requests.length = 0;
  });

  it('creates the inventory item and reports SUCCESS to CloudFormation', async () => {
    // Prepare
    const event = request('create');

    // Act
    const response = await seedInventory(event, deps);

    // Assess
    expect(await inventory()).toEqual({
      ...KEY,
      entityType: 'INVENTORY',
      sku: 'MACGUFFIN-LX',
      productName: 'MacGuffin LX',
      quantity: 1000000,
      priceCents: 2500,
      lowStockThreshold: 100,
    });
    expect(sentResponse()).toEqual({
      Status: 'SUCCESS',
      PhysicalResourceId: `SeedInventory-${event.RequestId}`,
      StackId: event.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: 'SeedInventory',
      Data: { Skus: 'MACGUFFIN-LX' },
    });
    expect(response.Status).toBe('SUCCESS');
  });

  it('updates the catalogue on Update but never resets live stock', async () => {
    // Prepare: seeded, then orders took stock.
    await seedInventory(request('create'), deps);
    await documentClient.send(new UpdateCommand({ TableName: tableName, Key: KEY, UpdateExpression: 'SET quantity = :q', ExpressionAttributeValues: { ':q': 42 } }));
    cloudFormation.requests.length = 0;
    const event = request<Extract<CloudFormationCustomResourceEvent, { RequestType: 'Update' }>>('update');
    event.ResourceProperties.Items[0].PriceCents = '2600';

    // Act
    await seedInventory(event, deps);

    // Assess
    expect(await inventory()).toMatchObject({ quantity: 42, priceCents: 2600 });
    expect(sentResponse()).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: event.PhysicalResourceId });
  });

  it('keeps the stock on Delete', async () => {
    // Prepare
    await seedInventory(request('create'), deps);
    cloudFormation.requests.length = 0;
    const event = request<Extract<CloudFormationCustomResourceEvent, { RequestType: 'Delete' }>>('delete');

    // Act
    await seedInventory(event, deps);

    // Assess
    expect(await inventory()).toMatchObject({ quantity: 1000000 });
    expect(sentResponse()).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: event.PhysicalResourceId });
  });

  it.each([
    ['a negative Quantity', { Quantity: '-5' }, 'Items[0].Quantity must be a whole number of at least 0'],
    ['a price of 0', { PriceCents: '0' }, 'Items[0].PriceCents must be a whole number of at least 1'],
    ['a SKU without a model', { Sku: 'MACGUFFIN' }, 'Items[0].Sku must look like <PRODUCT>-<MODEL>'],
  ])('reports FAILED with the reason for an item with %s, writing nothing', async (_case, changes, reason) => {
    // Prepare
    const event = request('create');
    Object.assign(event.ResourceProperties.Items[0], changes);

    // Act
    const response = await seedInventory(event, deps);

    // Assess
    expect(response).toMatchObject({ Status: 'FAILED', Reason: reason });
    expect(sentResponse()).toMatchObject({ Status: 'FAILED', Reason: reason, PhysicalResourceId: `SeedInventory-${event.RequestId}` });
    expect(await inventory()).toBeUndefined();
  });

  it('reports FAILED when the table cannot be written', async () => {
    // Prepare
    const event = request('create');
    event.ResourceProperties.TableName = 'no-such-table';

    // Act
    await seedInventory(event, deps);

    // Assess
    expect(sentResponse()).toMatchObject({ Status: 'FAILED', Reason: expect.stringMatching(/resource not found|non-existent table/i) });
  });

  it('reports FAILED before the function would time out', async () => {
    // Prepare: less time left than the margin kept for the response.
    const event = request('create');

    // Act
    await seedInventory(event, deps, lambdaContext('SeedInventoryFunction', 1000));

    // Assess
    expect(sentResponse()).toMatchObject({ Status: 'FAILED', Reason: expect.stringMatching(/did not finish within 0 ms \(log stream .+\)$/) });
  });

  it('fails the invocation when CloudFormation does not take the response, so Lambda retries it', async () => {
    // Prepare
    cloudFormation.respondWith(403);

    // Act
    const result = seedInventory(request('create'), deps);

    // Assess
    await expect(result).rejects.toThrow(CloudFormationResponseError);
  });

  it('runs as a Lambda handler', async () => {
    // Prepare: the module's own client reaches DynamoDB Local through AWS_ENDPOINT_URL_DYNAMODB.
    const event = request('create');

    // Act
    await handler(event, lambdaContext('SeedInventoryFunction'));

    // Assess
    expect(sentResponse()).toMatchObject({ Status: 'SUCCESS' });
    expect(await inventory()).toMatchObject({ quantity: 1000000 });
  });
});
