/**
 * The intake thread's fault path (local/service-thread.ts): when the thread ends under its
 * services, their calls fail with a clear error instead of hanging, and their stops still resolve.
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
