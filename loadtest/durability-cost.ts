/**
 * `npm run bench:durability`: what durability costs. In one run, alternating, it boots the stack
 * in memory and with a state folder (SQS/SNS persisted, the bus's delivery journal, checkpoints),
 * sends the same orders at a steady rate and waits until every one is READY_FOR_FULFILLMENT.
 * Printed per mode: CPU per order (this process's threads and DynamoDB Local's JVM, from /proc,
 * between the first order and the last settling), intake latency p50/p99 (POST /orders as the
 * client sees it), and the durable-to-in-memory ratios. The payments pipe and the stand-in
 * provider run at 50/s and 100/s so that the payment rate limit does not set the pace.
 *
 *   npm run bench:durability                       2 rounds of 200 orders at 20/s
 *   npm run bench:durability -- --rounds 3 --orders 300 --rate 25
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { startLocalStack } from '../local/runtime.js';
import { waitUntil } from '../local/net.js';
import { StackResources } from './resources.js';
import { percentile } from './stats.js';

type Mode = 'in memory' | 'durable';

interface Round { mode: Mode; cpuMsPerOrder: number; intakeP50: number; intakeP99: number; settleSeconds: number }

async function round(mode: Mode, orders: number, rate: number): Promise<Round> {
  const stateDir = mode === 'durable' ? mkdtempSync(join(tmpdir(), 'wims-durability-')) : undefined;
  const stack = await startLocalStack({
    inMemory: stateDir === undefined,
    stateDir,
    apiPort: 0,
    parameterOverrides: { PaymentsRateLimitPerSecond: '50', ProviderRateLimitPerSecond: '100' },
  });
  try {
    const api = stack.endpoints.apis.find((entry) => entry.logicalId === 'OrdersApi')!.url;
    const ready = new Set<string>();
    const unsubscribe = stack.events.onEvent(({ event }) => {
      const image = (event.detail as { data?: { NewImage?: { orderId?: string; status?: string } } }).data?.NewImage;
      if (image?.status === 'READY_FOR_FULFILLMENT' && image.orderId) ready.add(image.orderId);
    });
    const resources = new StackResources(stack);
    const before = resources.cpu();
    const started = performance.now();
    const latencies: number[] = [];
    const sent: Array<Promise<void>> = [];
    for (let index = 0; index < orders; index++) {
      const due = started + (index * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      sent.push((async () => {
        const at = performance.now();
        const response = await fetch(`${api}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ customerId: `durability-${index}`, quantity: 1 }) });
        await response.arrayBuffer();
        latencies.push(performance.now() - at);
        if (response.status !== 202) throw new Error(`POST /orders answered ${response.status}`);
      })());
    }
    await Promise.all(sent);
    await waitUntil(() => ready.size >= orders, { intervalMs: 200, timeoutMs: 180_000, description: `${orders} orders READY_FOR_FULFILLMENT` });
    const after = resources.cpu();
    resources.stop();
    unsubscribe();
    const cpuSeconds = (times: typeof before): number => times.main_thread_s + times.other_threads_s + times.dynamodb_local_s;
    return {
      mode,
      cpuMsPerOrder: ((cpuSeconds(after) - cpuSeconds(before)) * 1000) / orders,
      intakeP50: percentile(latencies, 50)!,
      intakeP99: percentile(latencies, 99)!,
      settleSeconds: (performance.now() - started) / 1000,
    };
  } finally {
    await stack.stop();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '2' }, orders: { type: 'string', default: '200' }, rate: { type: 'string', default: '20' } } });
  const [rounds, orders, rate] = [Number(values.rounds), Number(values.orders), Number(values.rate)];
  const results: Round[] = [];
  console.log(`${rounds} rounds per mode of ${orders} orders at ${rate}/s, alternating\n`);
  console.log('mode      | CPU ms/order | intake p50 ms | intake p99 ms | settled in');
  for (let index = 0; index < rounds * 2; index++) {
    // In ABBA order, so that drift on a shared machine falls on both modes alike.
    const mode: Mode = (index % 2 === 0) === (Math.floor(index / 2) % 2 === 0) ? 'in memory' : 'durable';
    const result = await round(mode, orders, rate);
    results.push(result);
    console.log(`${mode.padEnd(9)} | ${result.cpuMsPerOrder.toFixed(1).padStart(12)} | ${result.intakeP50.toFixed(1).padStart(13)} | ${result.intakeP99.toFixed(1).padStart(13)} | ${result.settleSeconds.toFixed(1)} s`);
  }
  const mean = (mode: Mode, field: 'cpuMsPerOrder' | 'intakeP50' | 'intakeP99'): number => {
    const values = results.filter((result) => result.mode === mode).map((result) => result[field]);
    return values.reduce((sum, value) => sum + value, 0) / values.length;
  };
  const ratio = (field: 'cpuMsPerOrder' | 'intakeP50' | 'intakeP99'): string => `${(mean('durable', field) / mean('in memory', field)).toFixed(2)}x`;
  console.log(`\ndurable / in memory, means of the rounds: CPU per order ${ratio('cpuMsPerOrder')}, intake p50 ${ratio('intakeP50')}, intake p99 ${ratio('intakeP99')}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
