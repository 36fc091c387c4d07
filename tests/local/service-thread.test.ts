/**
 * The intake thread's fault paths (local/service-thread.ts): a Lambda proxy call the main thread
 * cannot make answers API Gateway's 500 and logs why; when the thread ends under its services,
 * their calls fail with a clear error instead of hanging, and their stops still resolve.
 */
import { expect, it } from '@jest/globals';
import { ApiGatewayThread } from '../../local/services/apigateway/thread.js';
import { startMeteringProxy } from '../../local/services/dynamodb/metering-proxy.js';
import { ServiceThread } from '../../local/service-thread.js';

it('fails the services\' calls and still lets them stop once the thread has ended', async () => {
  // Prepare
  const logged: string[] = [];
  const thread = new ServiceThread((message) => void logged.push(message));
  const proxy = await startMeteringProxy('http://127.0.0.1:9', thread);
  const apiGateway = new ApiGatewayThread({
    thread,
    region: 'us-east-1',
    accountId: '000000000000',
    dynamodbEndpoint: proxy.endpoint,
    lambda: { invoke: () => Promise.reject(new Error('no function here')) },
    logs: { append: () => undefined },
    portFor: () => 0,
    endpoints: {},
  });
  const body = { openapi: '3.0.1', info: { title: 'empty', version: '1' }, paths: {} };
  await apiGateway.defineApi({ logicalId: 'EmptyApi', apiId: 'empty00001', body, log: () => undefined });

  // Act: the thread ends while a call is on its way
  const pending = expect(apiGateway.addStage('empty00001', { name: 'dev', variables: {}, throttle: [], primary: true })).rejects.toThrow(
    'the intake thread ended: the APIs no longer answer',
  );
  await thread.stop();

  // Assess
  await pending;
  await expect(apiGateway.defineApi({ logicalId: 'LateApi', apiId: 'late000001', body, log: () => undefined })).rejects.toThrow(
    'the intake thread ended: the APIs no longer answer',
  );
  await expect(apiGateway.stop()).resolves.toBeUndefined();
  await expect(proxy.stop()).resolves.toBeUndefined();
  // Ended by its own stop: nothing to report.
  expect(logged).toEqual([]);
});

it('answers a Lambda proxy call the main thread cannot make with API Gateway\'s 500, and logs why', async () => {
  // Prepare
  const thread = new ServiceThread((message) => {
    throw new Error(message);
  });
  const proxy = await startMeteringProxy('http://127.0.0.1:9', thread);
  const apiGateway = new ApiGatewayThread({
    thread,
    region: 'us-east-1',
    accountId: '000000000000',
    dynamodbEndpoint: proxy.endpoint,
    lambda: { invoke: (functionArn) => Promise.reject(new Error(`Function not found: ${functionArn}`)) },
    logs: { append: () => undefined },
    portFor: () => 0,
    endpoints: {},
  });
  const apiLog: string[] = [];
  const functionArn = 'arn:aws:lambda:us-east-1:000000000000:function:Missing';
  const body = {
    openapi: '3.0.1',
    info: { title: 'hook', version: '1' },
    paths: {
      '/hook': {
        post: {
          'x-amazon-apigateway-integration': {
            type: 'aws_proxy',
            httpMethod: 'POST',
            uri: `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${functionArn}/invocations`,
          },
        },
      },
    },
  };
  try {
    await apiGateway.defineApi({ logicalId: 'HookApi', apiId: 'hook000001', body, log: (message) => void apiLog.push(message) });
    const url = await apiGateway.addStage('hook000001', { name: 'dev', variables: {}, throttle: [], primary: true });

    // Act
    const response = await fetch(`${url}/hook`, { method: 'POST', body: '{}' });

    // Assess
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ message: 'Internal server error' });
    expect(apiLog.some((line) => line.includes(`Function not found: ${functionArn}`))).toBe(true);
    expect(apiGateway.stats()).toEqual([expect.objectContaining({ logicalId: 'HookApi', requests: 1, status5xx: 1 })]);
  } finally {
    await apiGateway.stop();
    await proxy.stop();
    await thread.stop();
  }
});

