/**
 * The bus's delivery journal across a restart: a delivery the first service had not ended is
 * resumed by the next one on the same state folder, with the retry attempts it had already used
 * counted against MaximumRetryAttempts; one that ended is not delivered again; events accepted
 * before the bus has its senders wait for them; a delivery to a target that left the template is
 * dropped.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitUntil } from '../../../local/net.js';
import { EventBridgeService } from '../../../local/services/events/bus.js';
import { TargetError } from '../../../local/services/targets/error.js';
import type { TargetSender } from '../../../local/services/targets/sender.js';

const region = 'us-east-1';
const accountId = '123456789012';
const TARGET = `arn:aws:lambda:${region}:${accountId}:function:orders`;
const DEAD_LETTERS = `arn:aws:sqs:${region}:${accountId}:dead-letters`;

/** A sender that records what it receives; the target fails with a retryable error while `failing` is set. */
function recordingSender(failing: boolean): TargetSender & { calls: Array<{ arn: string; input: string }> } {
  const calls: Array<{ arn: string; input: string }> = [];
  return {
    calls,
    async deliver(arn, input) {
      calls.push({ arn, input });
      if (failing && arn === TARGET) throw new TargetError('throttled', { code: 'THROTTLING', retryable: true });
    },
    async deliverBatch(arn, inputs) {
      for (const input of inputs) await this.deliver(arn, input);
    },
  };
}

/** A bus with one rule and target, created as the runtime does; deliveries start with `startDeliveries`. */
function service(stateDir: string | undefined, maximumRetryAttempts: number): EventBridgeService {
  const events = new EventBridgeService({ region, accountId, stateDir, retryBaseMs: 20, retryCapMs: 20 });
  events.putRule({ Name: 'orders', EventPattern: { source: ['wims.test'] } });
  events.putTargets({ Rule: 'orders', Targets: [{ Id: 'fn', Arn: TARGET, RetryPolicy: { MaximumRetryAttempts: maximumRetryAttempts }, DeadLetterConfig: { Arn: DEAD_LETTERS } }] });
  return events;
}

let stateDir: string;
afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

describe('the delivery journal', () => {
  it('resumes an unfinished delivery after a restart, and it reaches the target', async () => {
    // Prepare
    stateDir = mkdtempSync(join(tmpdir(), 'wims-journal-'));
    const first = service(stateDir, 100);
    const firstSender = recordingSender(true);
    first.startDeliveries(firstSender);
    first.putEvents([{ Source: 'wims.test', DetailType: 'test', Detail: '{"n":1}' }]);
    await waitUntil(() => firstSender.calls.length >= 1, { description: 'the first attempt' });
    await first.stop();
    const sender = recordingSender(false);
    const second = service(stateDir, 100);

    // Act
    const resumed = second.startDeliveries(sender);
    await second.idle();
    const again = service(stateDir, 100);
    const resumedAgain = again.startDeliveries(recordingSender(false));
    await second.stop();
    await again.stop();

    // Assess
    expect(resumed).toBe(1);
    expect(sender.calls).toHaveLength(1);
    expect(JSON.parse(sender.calls[0]!.input)).toMatchObject({ source: 'wims.test', detail: { n: 1 } });
    expect(resumedAgain).toBe(0);
  });

  it('counts the attempts made before the restart against MaximumRetryAttempts', async () => {
    // Prepare: 1 attempt and 2 retries allowed; the first run makes at least 2 of the 3 attempts.
    stateDir = mkdtempSync(join(tmpdir(), 'wims-journal-'));
    // The second attempt fails only once the first run is stopping, so that it cannot make the third.
    let failSecondAttempt = (): void => undefined;
    const secondAttemptFails = new Promise<void>((resolve) => { failSecondAttempt = resolve; });
    const firstCalls: string[] = [];
    const firstSender: TargetSender = {
      async deliver(_arn, input) {
        firstCalls.push(input);
        if (firstCalls.length === 2) await secondAttemptFails;
        throw new TargetError('throttled', { code: 'THROTTLING', retryable: true });
      },
      async deliverBatch(arn, inputs) {
        for (const input of inputs) await this.deliver(arn, input);
      },
    };
    const first = service(stateDir, 2);
    first.startDeliveries(firstSender);
    first.putEvents([{ Source: 'wims.test', DetailType: 'test', Detail: '{}' }]);
    await waitUntil(() => firstCalls.length === 2, { description: 'the second attempt' });
    const stopped = first.stop();
    failSecondAttempt();
    await stopped;
    const sender = recordingSender(true);
    const second = service(stateDir, 2);

    // Act
    second.startDeliveries(sender);
    await second.idle();
    await second.stop();

    // Assess
    const targetCalls = firstCalls.length + sender.calls.filter((call) => call.arn === TARGET).length;
    expect(targetCalls).toBe(3);
    expect(sender.calls.filter((call) => call.arn === DEAD_LETTERS)).toHaveLength(1);
  });

  it.each([['with a state folder', true], ['in memory', false]])('holds events accepted before the bus has its senders (%s)', async (_case, durable) => {
    // Prepare
    stateDir = mkdtempSync(join(tmpdir(), 'wims-journal-'));
    const events = service(durable ? stateDir : undefined, 100);
    events.putEvents([{ Source: 'wims.test', DetailType: 'test', Detail: '{"n":2}' }]);
    const sender = recordingSender(false);

    // Act
    const inherited = events.startDeliveries(sender);
    await events.idle();
    await events.stop();

    // Assess: delivered once, and not counted as left by a previous run.
    expect(inherited).toBe(0);
    expect(sender.calls.map((call) => JSON.parse(call.input).detail)).toEqual([{ n: 2 }]);
  });

  it('drops, and says so, a journaled delivery whose rule target the template no longer has', async () => {
    // Prepare: a delivery left by a run whose template had the rule's target.
    stateDir = mkdtempSync(join(tmpdir(), 'wims-journal-'));
    const first = service(stateDir, 100);
    first.putEvents([{ Source: 'wims.test', DetailType: 'test', Detail: '{}' }]);
    await first.stop();
    const lines: string[] = [];
    const second = new EventBridgeService({ region, accountId, stateDir, log: (_component, message) => lines.push(message) });
    second.putRule({ Name: 'orders', EventPattern: { source: ['wims.test'] } });
    const sender = recordingSender(false);

    // Act
    const inherited = second.startDeliveries(sender);
    await second.idle();
    await second.stop();
    const third = service(stateDir, 100);
    const inheritedByThird = third.startDeliveries(recordingSender(false));
    await third.stop();

    // Assess
    expect(inherited).toBe(1);
    expect(sender.calls).toEqual([]);
    expect(lines).toEqual([expect.stringContaining(`dropped a journaled delivery to arn:aws:events:${region}:${accountId}:rule/orders target fn`)]);
    expect(inheritedByThird).toBe(0);
  });
});
