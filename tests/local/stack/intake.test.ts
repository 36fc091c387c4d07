/**
 * Intake isolated from the pipeline: API Gateway and the metering proxy its DynamoDB writes pass
 * run on the intake thread (local/service-thread.ts), so an order is accepted while the runtime's
 * main thread (Pipes, EventBridge, Step Functions, the queues) is busy; and that thread yields the
 * CPU to intake (local/priority.ts). On AWS, API Gateway never waits for the rest of the stack either.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import { getPriority } from 'node:os';
import { Worker } from 'node:worker_threads';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { startTestStack, type TestStack } from '../../helpers/stack.js';

/** A client on a thread of its own, so that the busy main thread does not hold it up either. */
const CLIENT = `
const { parentPort, workerData } = require('node:worker_threads');
parentPort.once('message', async () => {
  const response = await fetch(workerData.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'Idempotency-Key': 'busy-main-1' },
    body: JSON.stringify({ customerId: 'busy-main', quantity: 1 }),
  });
  parentPort.postMessage({ status: response.status, body: await response.json(), answeredAt: Date.now() });
});`;

const BUSY_MS = 3000;

let running: TestStack;

beforeAll(async () => {
  running = await startTestStack({ stackName: 'wims-intake' });
}, 120_000);

afterAll(() => running?.stop(), 60_000);

describe('intake', () => {
  it('accepts and writes an order while the main thread is busy', async () => {
    // Prepare
    const client = new Worker(CLIENT, { eval: true, workerData: { url: `${running.api}/orders` } });
    await once(client, 'online');
    const answered = once(client, 'message');

    // Act: the main thread is held right after the request leaves
    client.postMessage('go');
    const busyUntil = Date.now() + BUSY_MS;
    while (Date.now() < busyUntil) {
      // nothing on this thread runs: no timer, no promise job, no socket
    }
    const [answer] = (await answered) as [{ status: number; answeredAt: number }];
    await client.terminate();

    // Assess
    expect(answer.status).toBe(202);
    expect(answer.answeredAt).toBeLessThan(busyUntil);
    const { Item } = await running.documents.send(new GetCommand({ TableName: running.table, Key: { pk: 'CUSTOMER#busy-main', sk: 'ORDER#busy-main-1' } }));
    expect(Item).toMatchObject({ customerId: 'busy-main', quantity: 1 });
    expect(running.stack.apiGateway.stats().find((api) => api.logicalId === 'OrdersApi')?.status2xx).toBeGreaterThanOrEqual(1);
  }, 30_000);

  (process.platform === 'linux' ? it : it.skip)('runs the pipeline\'s thread at a lower CPU priority than intake\'s', () => {
    // The runtime lowered this thread's priority once the intake thread existed.
    expect(getPriority(0)).toBeGreaterThanOrEqual(10);
  });
});
