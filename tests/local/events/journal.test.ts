/**
 * The bus's delivery journal across a restart: a delivery the first service had not ended is
 * resumed by the next one on the same state folder, with the retry attempts it had already used
 * counted against MaximumRetryAttempts; one that ended is not delivered again.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EventBridgeService } from '../../../local/services/events/bus.js';
import { TargetError, type TargetSender } from '../../../local/services/targets.js';

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
  };
}

function service(stateDir: string, dispatcher: TargetSender, maximumRetryAttempts: number): EventBridgeService {
  const events = new EventBridgeService({ region, accountId, stateDir, dispatcher, retryBaseMs: 20, retryCapMs: 20 });
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
    const first = service(stateDir, recordingSender(true), 100);
    first.putEvents([{ Source: 'wims.test', DetailType: 'test', Detail: '{"n":1}' }]);
    await sleep(100);
    await first.stop();
    const sender = recordingSender(false);
    const second = service(stateDir, sender, 100);

    // Act
    const resumed = second.resumeDeliveries();
    await second.idle();
    const again = service(stateDir, recordingSender(false), 100);
    const resumedAgain = again.resumeDeliveries();
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
    const firstSender = recordingSender(true);
    const first = service(stateDir, firstSender, 2);
    first.putEvents([{ Source: 'wims.test', DetailType: 'test', Detail: '{}' }]);
    while (firstSender.calls.length < 2) await sleep(5);
    await first.stop();
    const sender = recordingSender(true);
    const second = service(stateDir, sender, 2);

    // Act
    second.resumeDeliveries();
    await second.idle();
    await second.stop();

    // Assess
    const targetCalls = firstSender.calls.length + sender.calls.filter((call) => call.arn === TARGET).length;
    expect(targetCalls).toBe(3);
    expect(sender.calls.filter((call) => call.arn === DEAD_LETTERS)).toHaveLength(1);
  });
});
