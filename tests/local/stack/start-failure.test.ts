/**
 * A start that fails part-way: the error names the resource and its cause, and the stop that
 * follows also stops what the other creations had started, so nothing polls a stopped engine.
 */
import { expect, it } from '@jest/globals';
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { LOOPBACK } from '../../../local/net.js';
import { startLocalStack } from '../../../local/runtime.js';

it('reports the API whose port is taken, and leaves nothing running that logs about stopped engines', async () => {
  // Prepare: the OrdersApi's port is taken
  const taken = createServer();
  taken.listen(0, LOOPBACK);
  await once(taken, 'listening');
  const { port } = taken.address() as AddressInfo;
  const logged: string[] = [];

  try {
    // Act
    const starting = startLocalStack({ inMemory: true, apiPort: port, awsPort: 0, stackName: 'wims-start-failure', log: (component, message) => void logged.push(`[${component}] ${message}`) });

    // Assess
    await expect(starting).rejects.toThrow(`OrdersApiStage (AWS::ApiGateway::Stage): listen EADDRINUSE: address already in use ${LOOPBACK}:${port}`);
    // Pollers poll at once: one started after the stop would have failed by now.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(logged.filter((line) => line.includes('ECONNREFUSED'))).toEqual([]);
  } finally {
    taken.close();
  }
}, 60_000);
