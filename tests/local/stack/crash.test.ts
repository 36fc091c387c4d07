/**
 * A crash loses nothing: `wims up` runs as a child process group, takes orders from concurrent
 * clients, is SIGKILLed whole at a random moment and started again on the same state folder
 * after 11 s down (loadtest/crash.ts, DEFAULT_DOWNTIME_MS; `npm run crash -- --runs 20` repeats
 * it). The stack gets up to 420 s to settle: PaymentsQueue's 300 s visibility timeout, should a
 * retry still find a payment in progress.
 */
import { describe, expect, it } from '@jest/globals';
import { crashRun } from '../../../loadtest/crash.js';

const SETTLE_MS = 420_000;

describe('a SIGKILL of the whole runtime, then a restart', () => {
  it('strands no order, decrements stock once per reservation and charges no order twice', async () => {
    // Act
    const result = await crashRun({ orders: 60, clients: 6, settleTimeoutMs: SETTLE_MS });

    // Assess
    console.log(`crash after ${result.killedAfter} accepted orders: ${JSON.stringify(result)}`);
    expect(result.accepted).toBeGreaterThanOrEqual(result.killedAfter);
    expect(result.stranded).toBe(0);
    expect(result.stockDecrement).toBe(result.reservedQuantity);
    expect(result.doubleCharges).toBe(0);
    expect(result.duplicateFulfillmentMessages).toBe(0);
  }, SETTLE_MS + 120_000);
});
