/**
 * What API Gateway refuses in a REST API's mappings, the local API Gateway refuses too, with AWS's
 * words: an undeclared method response header or method request parameter fails the RestApi's
 * creation (AWS: "Errors found during import: … Invalid mapping expression parameter specified"),
 * and an integration response selecting an undeclared status answers 500 over real HTTP (AWS:
 * "Output mapping refers to an invalid method response").
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { createApiGatewayProviders } from '../../../local/services/apigateway/providers.js';
import { ApiGatewayThread } from '../../../local/services/apigateway/thread.js';
import { ServiceThread } from '../../../local/service-thread.js';
import { LogStore } from '../../../local/services/logs/store.js';
import type { ResourceProvider, RuntimeContext } from '../../../local/services/provider.js';
import type { Json } from '../../../local/template/parse.js';
import { testRuntimeContext } from '../../helpers/runtime-context.js';

const fixture = (name: string): Json => parse(readFileSync(fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url)), 'utf8')) as Json;

/** The operations of `undeclared-header.yaml` that the test declaring the header and the parameter completes. */
interface UndeclaredHeaderFixture {
  paths: {
    '/orders': { post: { responses: { '503': { headers?: Json } } } };
    '/relay': { get: { parameters?: Json } };
  };
}

let workDir: string;
let service: ApiGatewayThread;
let thread: ServiceThread;
let providers: Map<string, ResourceProvider>;
const runtimeLog: string[] = [];
const context: RuntimeContext = testRuntimeContext({ stackName: 'mapping-checks-test', logged: runtimeLog });

async function deploy(logicalId: string, body: Json): Promise<string> {
  const create = (type: string, id: string, properties: Record<string, Json>) =>
    providers.get(type)!.create({ logicalId: id, type, properties, metadata: {} }, context);
  const api = await create('AWS::ApiGateway::RestApi', logicalId, { Body: body });
  await create('AWS::ApiGateway::Stage', `${logicalId}Stage`, { RestApiId: api.physicalId, StageName: 'test' });
  return service.urls().find((url) => url.logicalId === logicalId)!.url;
}

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'apigateway-mapping-checks-'));
  thread = new ServiceThread((message) => {
    throw new Error(message);
  });
  service = new ApiGatewayThread({
    region: context.region,
    accountId: context.accountId,
    dynamodbEndpoint: 'http://127.0.0.1:9',
    // These APIs have mock and http integrations only.
    lambda: { invoke: () => Promise.reject(new Error('no Lambda integration in these fixtures')) },
    logs: new LogStore(join(workDir, 'logs')),
    portFor: () => 0,
    endpoints: {},
    thread,
  });
  providers = new Map(createApiGatewayProviders(service).map((provider): [string, ResourceProvider] => [provider.type, provider]));
});

afterAll(async () => {
  await service?.stop();
  await thread?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

describe('import refusals', () => {
  test('an undeclared method response header or method request parameter fails the RestApi with AWS import errors', async () => {
    // Prepare
    const body = fixture('undeclared-header.yaml');

    // Act
    const creation = deploy('RefusedApi', body);

    // Assess
    await expect(creation).rejects.toThrow(
      'RefusedApi (AWS::ApiGateway::RestApi) property Body: Errors found during import:\n' +
      "\tUnable to put integration response on 'POST' for resource at path '/orders': Invalid mapping expression specified: " +
      'Validation Result: warnings : [], errors : [Invalid mapping expression parameter specified: method.response.header.Retry-After]\n' +
      "\tUnable to put integration on 'GET' for resource at path '/relay': Invalid mapping expression specified: " +
      'Validation Result: warnings : [], errors : [Invalid mapping expression parameter specified: method.request.header.X-Client]',
    );
    expect(service.urls().some((url) => url.logicalId === 'RefusedApi')).toBe(false);
  });

  test('the same API with the header and the parameter declared is imported', async () => {
    // Prepare
    const body = fixture('undeclared-header.yaml');
    const { paths } = body as unknown as UndeclaredHeaderFixture;
    paths['/orders'].post.responses['503'].headers = { 'retry-after': { schema: { type: 'string' } } };
    paths['/relay'].get.parameters = [{ name: 'x-client', in: 'header', schema: { type: 'string' } }];

    // Act
    const url = await deploy('DeclaredApi', body);

    // Assess
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/test$/);
  });
});

describe('undeclared statuses at run time', () => {
  let stageUrl: string;

  beforeAll(async () => {
    stageUrl = await deploy('UndeclaredStatusApi', fixture('undeclared.yaml'));
  });

  test('an integration response selecting an undeclared status is 500 Internal server error, logged with AWS reason', async () => {
    // Act
    const response = await fetch(`${stageUrl}/mock/404`);

    // Assess
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ message: 'Internal server error' });
    expect(runtimeLog).toContainEqual(expect.stringMatching(
      /^apigateway: UndeclaredStatusApi: GET \/test\/mock\/404 \([0-9a-f-]{36}\): API_CONFIGURATION_ERROR: Execution failed due to configuration error: Output mapping refers to an invalid method response: 400$/,
    ));
  });

  test('a declared selection still answers', async () => {
    const response = await fetch(`${stageUrl}/mock/200`);

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
  });

  test.each([['declared', 409], ['undeclared', 422]])('a responseOverride.status to a %s status is answered as is, as on AWS', async (_case, status) => {
    const response = await fetch(`${stageUrl}/override/${status}`);

    expect(response.status).toBe(status);
    expect(await response.json()).toEqual({ overridden: status });
  });
});
