/**
 * A start that fails part-way: the error names the resource and its cause, and the stop that
 * follows also stops what the other creations had started, so nothing polls a stopped engine;
 * a template that fails to load stops DynamoDB Local, which started first.
 */
import { expect, it } from '@jest/globals';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
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

it('leaves no DynamoDB Local behind when the template fails to load (the JVM starts first)', async () => {
  // Prepare: the unit tests' shared DynamoDB Local may be this process's child too (Jest in band)
  const before = childJvms();

  // Act
  await expect(startLocalStack({ templatePath: 'no-such-template.yaml', inMemory: true, apiPort: 0, awsPort: 0 })).rejects.toThrow('no-such-template.yaml');

  // Assess: the JVM it had started is gone (that it is abandoned rather than awaited is the engine's test)
  expect(childJvms()).toEqual(before);
});

/** This process's DynamoDB Local children. */
function childJvms(): string[] {
  return readdirSync('/proc').filter((pid) => {
    if (!/^\d+$/.test(pid)) return false;
    try {
      const parent = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1];
      return Number(parent) === process.pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('DynamoDBLocal.jar');
    } catch {
      return false; // it ended while being read
    }
  });
}

