/**
 * The lean figures' arithmetic (loadtest/lean.ts): how the measured CPU seconds of a run become
 * milliseconds per order by component, with the benchmark's own share kept out of the pipeline's.
 */
import { describe, expect, it } from '@jest/globals';
import { leanFigures, leanTargets, type LeanInputs } from '../../loadtest/lean.js';

function inputs(change: Partial<LeanInputs> = {}): LeanInputs {
  return {
    accepted: 1000,
    cpuSeconds: { main_thread_s: 20, other_threads_s: 15, dynamodb_local_s: 18, artillery_s: 4 },
    mainThreadShares: { apigateway: 0.5, 'plumbing: HTTP and sockets': 0.4, benchmark: 0.1 },
    lambdaCpuMs: { Enrichment: 6000, Provider: 4000 },
    serviceThreadCpuMs: { intake: 2000, other: 1000 },
    ownDynamoDbRequests: 500,
    limit: { mix: { PutItem: 3, GetRecords: 2 }, not_replayed: [], clients: 10, orders_per_s: 40, requests_per_s: 200, cpu_ms_per_order: 15 },
    stackOrdersPerSecond: 20,
    starts: {
      cold: { ready_ms: 6000, idle_rss_mb: 500, processes: { node: 400, java: 100 } },
      warm: { ready_ms: 2400, idle_rss_mb: 240, processes: { node: 140, java: 100 } },
    },
    peakRssMb: 700,
    ...change,
  };
}

describe('leanFigures', () => {
  it('splits the CPU per order by component and keeps the benchmark out of the pipeline', () => {
    // Act
    const { cpu_ms_per_order: cpu } = leanFigures(inputs());

    // Assess: 20 s of main thread over 1000 orders is 20 ms, of which 10 % was the benchmark's
    expect(cpu.main_thread).toEqual({ total: 18, by_owner: { apigateway: 10, 'plumbing: HTTP and sockets': 8 } });
    expect(cpu.benchmark.main_thread).toBe(2);
    expect(cpu.lambda).toEqual({ total: 10, by_function: { Enrichment: 6, Provider: 4 } });
    expect(cpu.service_threads).toEqual({ total: 3, by_thread: { intake: 2, other: 1 } });
    // The process's other threads less the sandboxes' and the service threads' own.
    expect(cpu.helper_threads).toBe(2);
    // 500 own reads at 15 ms per 5-request order: 3 ms per request, 1.5 s over 1000 orders.
    expect(cpu.benchmark.dynamodb_local_estimated).toBe(1.5);
    expect(cpu.dynamodb_local).toBe(16.5);
    expect(cpu.pipeline).toBe(18 + 10 + 3 + 2 + 16.5);
    expect(cpu.artillery).toBe(4);
  });

  it('puts the stack beside DynamoDB Local\'s bound as a ratio', () => {
    expect(leanFigures(inputs()).physical_limit).toMatchObject({ orders_per_s: 40, stack_orders_per_s: 20, stack_to_limit: 0.5 });
  });

  it('checks the targets against the warm start and the peak', () => {
    const checks = leanTargets(leanFigures(inputs()));
    expect(checks.map(({ name, met }) => [name, met])).toEqual([
      ['pipeline CPU per order', false],
      ['idle memory, all processes', true],
      ['peak memory', false],
      ['ready, warm', true],
      ['ready, cold', true],
    ]);
  });
});
