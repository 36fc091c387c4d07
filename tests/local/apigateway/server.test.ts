/**
 * The local API Gateway end to end over real HTTP: a fixture OpenAPI body deployed through the
 * RestApi/Deployment/Stage providers, DynamoDB Local behind the `aws` integrations, Lambda proxy
 * functions in the LambdaRuntime, and a recording HTTP server behind an `http_proxy` route.
 */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { parse } from 'yaml';
import { localClientConfig } from '../../../local/net.js';
import type { ApiEndpointMap } from '../../../local/services/apigateway/endpoints.js';
import { createApiGatewayProviders } from '../../../local/services/apigateway/providers.js';
import { ApiGatewayThread } from '../../../local/services/apigateway/thread.js';
import { ServiceThread } from '../../../local/service-thread.js';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../../local/services/dynamodb/engine.js';
import { LambdaRuntime } from '../../../local/services/lambda/runtime.js';
import { LogStore } from '../../../local/services/logs/store.js';
import type { ResourceProvider, RuntimeContext } from '../../../local/services/provider.js';
import type { Json } from '../../../local/template/parse.js';
import { startRecordingServer, type RecordingServer } from '../../helpers/http.js';
import { testRuntimeContext } from '../../helpers/runtime-context.js';

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
const FIXTURE = fileURLToPath(new URL('./fixtures/api.yaml', import.meta.url));

const HANDLERS = `
export const echo = async (event) => event.queryStringParameters?.base64
  ? { statusCode: 200, isBase64Encoded: true, body: Buffer.from('raw bytes').toString('base64') }
  : {
      statusCode: 201,
      headers: { 'Content-Type': 'application/json', 'X-Echo': 'yes' },
      multiValueHeaders: { 'Set-Cookie': ['a=1', 'b=2'] },
      body: JSON.stringify(event),
    };
export const fail = async () => { throw new Error('boom'); };
export const malformed = async () => ({ message: 'not a proxy response' });
export const slow = async () => {
  await new Promise((resolve) => setTimeout(resolve, 1000));
  return { statusCode: 200, body: 'late' };
};
`;

/** Filled in by the service as its server listens, as in the runtime. */
const apiEndpoints: ApiEndpointMap = {};
let dynamodb: DynamoDbLocal;
let lambda: LambdaRuntime;
let service: ApiGatewayThread;
let thread: ServiceThread;
let backend: RecordingServer;
let workDir: string;
let apiId: string;
/** `http://127.0.0.1:<port>/test` */
let stageUrl: string;
/** `http://127.0.0.1:<port>` */
let rootUrl: string;
const runtimeLog: string[] = [];

// Lambda cold starts and DynamoDB Local on a shared two-core machine can be slow.
jest.setTimeout(30_000);

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'apigateway-test-'));
  [dynamodb, backend] = await Promise.all([startDynamoDbLocal({}), startRecordingServer()]);
  const client = new DynamoDBClient(localClientConfig(dynamodb.endpoint, REGION));
  await client.send(new CreateTableCommand({
    TableName: 'ApiFixtureTable',
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
  }));
  client.destroy();

  const logs = new LogStore(join(workDir, 'logs'));
  lambda = new LambdaRuntime(logs, apiEndpoints);
  const bundlePath = join(workDir, 'handlers.mjs');
  writeFileSync(bundlePath, HANDLERS);
  for (const exportName of ['echo', 'fail', 'malformed', 'slow']) {
    const name = `fixture-${exportName}`;
    lambda.register({
      name,
      arn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`,
      bundlePath,
      exportName,
      environment: {},
      timeoutSeconds: 5,
      memoryMb: 128,
    });
  }

  thread = new ServiceThread((message) => {
    throw new Error(message);
  });
  service = new ApiGatewayThread({
    region: REGION,
    accountId: ACCOUNT,
    dynamodbEndpoint: dynamodb.endpoint,
    lambda,
    logs,
    portFor: () => 0,
    endpoints: apiEndpoints,
    thread,
  });
  const body = parse(readFileSync(FIXTURE, 'utf8').replaceAll('__HTTP_BACKEND__', backend.url)) as Json;
  const providers = new Map(createApiGatewayProviders(service).map((provider): [string, ResourceProvider] => [provider.type, provider]));
  const context: RuntimeContext = testRuntimeContext({ region: REGION, accountId: ACCOUNT, stackName: 'apigateway-test', logged: runtimeLog });
  const create = (type: string, logicalId: string, properties: Record<string, Json>) =>
    providers.get(type)!.create({ logicalId, type, properties, metadata: {} }, context);

  const api = await create('AWS::ApiGateway::RestApi', 'FixtureApi', { Body: body, EndpointConfiguration: { Types: ['REGIONAL'] } });
  apiId = api.physicalId;
  const deployment = await create('AWS::ApiGateway::Deployment', 'FixtureApiDeployment', { RestApiId: apiId });
  await create('AWS::ApiGateway::Stage', 'FixtureApiStage', {
    RestApiId: apiId,
    DeploymentId: deployment.physicalId,
    StageName: 'test',
    TracingEnabled: true,
    Variables: { color: 'blue' },
    MethodSettings: [
      { ResourcePath: '/*', HttpMethod: '*', ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 2000 },
      // A token every 100 s: the third request in a row is throttled however slow the machine.
      { ResourcePath: '/~1limited', HttpMethod: 'GET', ThrottlingRateLimit: 0.01, ThrottlingBurstLimit: 2 },
    ],
  });
  const [url] = service.urls();
  stageUrl = url!.url;
  rootUrl = stageUrl.replace(/\/test$/, '');
}, 90_000);

afterAll(async () => {
  await service?.stop();
  await thread?.stop();
  await lambda?.stop();
  await backend?.close();
  await dynamodb?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

/** A JSON answer, whose fields the tests read (undefined at run time when the answer is not JSON). */
type ResponseJson = Record<string, unknown>;

async function call(
  path: string,
  init: RequestInit & { json?: unknown } = {},
): Promise<{ status: number; headers: Headers; text: string; json: ResponseJson }> {
  const { json, ...rest } = init;
  const response = await fetch(`${stageUrl}${path}`, {
    ...rest,
    ...(json !== undefined && { body: JSON.stringify(json), headers: { 'Content-Type': 'application/json', ...rest.headers } }),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, text, json: parsed as ResponseJson };
}

describe('deployment', () => {
  test('the RestApi gets a stable 10-character id and the stage a loopback URL', () => {
    // Prepare / Act: done in beforeAll. Assess:
    expect(apiId).toMatch(/^[a-z0-9]{10}$/);
    expect(apiEndpoints).toEqual({ [apiId]: rootUrl });
    expect(rootUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(service.urls()).toEqual([{ logicalId: 'FixtureApi', apiId, stage: 'test', url: `${rootUrl}/test` }]);
    expect(runtimeLog).toContain('not emulated: FixtureApi: EndpointConfiguration');
  });
});

describe('routing', () => {
  test('path parameters and $context reach the templates, with or without the stage prefix', async () => {
    const withStage = await call('/mock/200');
    const withoutStage = await fetch(`${rootUrl}/mock/200`);

    expect(withStage.status).toBe(200);
    expect(withStage.headers.get('x-stage')).toBe('test');
    expect(withStage.headers.get('content-type')).toBe('application/json');
    expect(withStage.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(withStage.json).toEqual({
      stage: 'test',
      resourcePath: '/mock/{code}',
      path: '/test/mock/200',
      apiId,
      requestTime: expect.stringMatching(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/),
      sourceIp: '127.0.0.1',
    });
    expect(withoutStage.status).toBe(200);
    expect(await withoutStage.json()).toMatchObject({ stage: 'test', path: '/test/mock/200' });
  });

  test('the integration response is selected by status pattern, default last', async () => {
    const teapot = await call('/mock/418');

    expect(teapot.status).toBe(418);
    expect(teapot.json).toEqual({ teapot: true });
  });

  test.each([
    ['an unknown path', '/nowhere', 'GET'],
    ['a method the resource lacks', '/items', 'DELETE'],
  ])('%s is 403 Missing Authentication Token, as on AWS', async (_case, path, method) => {
    const response = await call(path, { method });

    expect(response.status).toBe(403);
    expect(response.json).toEqual({ message: 'Missing Authentication Token' });
  });
});

describe('request validation', () => {
  test('a body that breaks the model is the BAD_REQUEST_BODY gateway response of the API', async () => {
    const response = await call('/items', { method: 'POST', json: { group: 'g', id: 'Not Valid', extra: 1 } });

    expect(response.status).toBe(400);
    expect(response.headers.get('x-error-type')).toBe('validation');
    expect(response.json).toMatchObject({ message: 'Invalid request body', type: 'BAD_REQUEST_BODY' });
    expect(response.json.details).toContain('name');
    expect(response.json.details).toContain('/id');
  });

  test('a body that is not JSON is invalid too', async () => {
    const response = await call('/items', { method: 'POST', body: '{not json', headers: { 'Content-Type': 'application/json' } });

    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ message: 'Invalid request body' });
  });

  test('missing required parameters are listed in the BAD_REQUEST_PARAMETERS response', async () => {
    const response = await call('/search');

    expect(response.status).toBe(400);
    expect(response.json).toEqual({ message: 'Missing required request parameters: [q, X-Client]', error: 'BadRequestParameters', stage: 'test' });
  });

  test('a request with its parameters passes', async () => {
    const response = await call('/search?q=macguffin', { headers: { 'X-Client': 'web' } });

    expect(response.status).toBe(200);
    expect(response.json).toEqual({ q: 'macguffin', client: 'web' });
  });

  test('passthroughBehavior never rejects a content type without a template (415, AWS default body)', async () => {
    const response = await call('/items', { method: 'POST', body: 'group=g', headers: { 'Content-Type': 'text/plain' } });

    expect(response.status).toBe(415);
    expect(response.json).toEqual({ message: 'Unsupported Media Type' });
  });
});

describe('aws integration with DynamoDB', () => {
  test('PutItem success maps to the 2xx response with $context.requestId', async () => {
    const response = await call('/items', { method: 'POST', json: { group: 'g1', id: 'item-1', name: "O'Brien" } });

    expect(response.status).toBe(201);
    expect(response.json).toEqual({ created: true, requestId: response.headers.get('x-amzn-requestid') });
  });

  test('ConditionalCheckFailed selects the 4xx template, whose responseOverride makes it 409', async () => {
    const item = { group: 'g1', id: 'item-2', name: 'second' };
    await call('/items', { method: 'POST', json: item });

    const duplicate = await call('/items', { method: 'POST', json: item });

    expect(duplicate.status).toBe(409);
    expect(duplicate.headers.get('x-conflict')).toBe('item');
    expect(duplicate.json).toEqual({ message: 'The item exists already', error: 'Duplicate' });
  });

  test('Query renders the items, and an empty result is still valid JSON', async () => {
    const found = await call('/items/g1');
    const empty = await call('/items/nothing-here');

    expect(found.status).toBe(200);
    expect(found.json.items).toEqual(expect.arrayContaining([{ name: "O'Brien" }, { name: 'second' }]));
    expect(empty.status).toBe(200);
    expect(empty.json).toEqual({ group: 'nothing-here', items: [] });
  });

  test('an aws integration with another service is a 500 that names it', async () => {
    const response = await call('/queue', { method: 'POST', json: {} });

    expect(response.status).toBe(500);
    expect(response.json.error).toBe('ServerError');
    expect(response.json.message).toContain('sqs');
  });
});

describe('aws_proxy integration with Lambda', () => {
  test('the function gets the REST proxy event and its answer is the response', async () => {
    const response = await call('/echo/a/b?x=1&x=2', { method: 'PUT', body: 'hello', headers: { 'X-Client': 'web' } });

    expect(response.status).toBe(201);
    expect(response.headers.get('x-echo')).toBe('yes');
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    const event = response.json as unknown as APIGatewayProxyEvent;
    expect(event).toMatchObject({
      resource: '/echo/{proxy+}',
      path: '/echo/a/b',
      httpMethod: 'PUT',
      pathParameters: { proxy: 'a/b' },
      queryStringParameters: { x: '2' },
      multiValueQueryStringParameters: { x: ['1', '2'] },
      stageVariables: { color: 'blue' },
      body: 'hello',
      isBase64Encoded: false,
      requestContext: {
        accountId: ACCOUNT,
        apiId,
        resourcePath: '/echo/{proxy+}',
        httpMethod: 'PUT',
        stage: 'test',
        path: '/test/echo/a/b',
        protocol: 'HTTP/1.1',
        identity: { sourceIp: '127.0.0.1' },
      },
    });
    expect(event.headers['X-Client']).toBe('web');
    expect(event.multiValueHeaders['X-Client']).toEqual(['web']);
    expect(event.requestContext.requestId).toBe(response.headers.get('x-amzn-requestid'));
    expect(typeof event.requestContext.requestTimeEpoch).toBe('number');
  });

  test('a base64-encoded answer is decoded', async () => {
    const response = await call('/echo/bytes?base64=1');

    expect(response.status).toBe(200);
    expect(response.text).toBe('raw bytes');
  });

  test.each([
    ['throws', '/fail', 'POST'],
    ['answers off the proxy shape', '/malformed', 'GET'],
  ])('a function that %s is a 502 through DEFAULT_5XX', async (_case, path, method) => {
    const response = await call(path, { method });

    expect(response.status).toBe(502);
    expect(response.json).toEqual({ message: 'Internal server error', error: 'ServerError' });
  });

  test('an integration slower than timeoutInMillis is a 504', async () => {
    const response = await call('/slow');

    expect(response.status).toBe(504);
    expect(response.json).toEqual({ message: 'Endpoint request timed out', error: 'ServerError' });
  });
});

describe('http integrations', () => {
  test('http: the request template shapes the call and the response template the answer', async () => {
    const response = await call('/relay', { method: 'POST', json: { n: 1 } });

    expect(response.status).toBe(200);
    expect(response.headers.get('x-backend-type')).toBe('application/json');
    expect(response.json).toEqual({ relayed: true, backend: {} });
    const received = backend.requests.at(-1)!;
    expect(received).toMatchObject({ method: 'PUT', url: '/relay?source=apigateway' });
    expect(JSON.parse(received.body)).toEqual({ wrapped: { n: 1 } });
  });

  test('http_proxy: the request is forwarded with the mapped path and header, and the answer returned', async () => {
    const response = await call('/backend/things?a=1', { headers: { 'X-Client': 'web' } });

    expect(response.status).toBe(200);
    expect(response.json).toEqual({});
    const received = backend.requests.at(-1)!;
    expect(received.url).toBe('/things?a=1');
    expect(received.headers['x-stage']).toBe('test');
    expect(received.headers['x-client']).toBe('web');
  });
});

describe('throttling and bookkeeping', () => {
  test('requests beyond the method burst get 429 THROTTLED before the integration runs', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await call('/limited')).status);
    const throttled = await call('/limited');

    expect(statuses).toEqual([200, 200, 429]);
    expect(throttled.status).toBe(429);
    expect(throttled.json).toEqual({ message: 'Too Many Requests' });
  });

  test('counters and access log lines record every request', () => {
    const [stats] = service.stats();
    const lines = readFileSync(join(workDir, 'logs', 'API-Gateway-Access-Logs', apiId, 'test.log'), 'utf8').trim().split('\n');
    const entries = lines.map((line) => JSON.parse(line) as { status: number; resourcePath: string; errorResponseType?: string });

    expect(stats).toMatchObject({ logicalId: 'FixtureApi', apiId, requests: lines.length });
    expect(stats!.status429).toBe(2);
    expect(stats!.status4xx).toBeGreaterThanOrEqual(stats!.status429);
    expect(stats!.status2xx).toBeGreaterThan(0);
    expect(stats!.status5xx).toBeGreaterThan(0);
    expect(entries.at(-1)).toMatchObject({ status: 429, resourcePath: '/limited', errorResponseType: 'THROTTLED' });
  });
});
