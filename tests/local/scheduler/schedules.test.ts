/**
 * Schedules from a template: a scheduled rule and an EventBridge Scheduler schedule deliver to
 * their SQS target when fired (as `wims schedule fire` does), in the shapes AWS sends; templates
 * AWS would refuse are refused.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { localClientConfig, waitUntil } from '../../../local/net.js';
import { startLocalStack, type LocalStack } from '../../../local/runtime.js';
import { EventBridgeService } from '../../../local/services/events/bus.js';
import { SchedulerService, schedulerProviders } from '../../../local/services/scheduler/provider.js';
import { TargetSenders } from '../../../local/services/targets/registry.js';
import type { Json } from '../../../local/template/parse.js';
import { testRuntimeContext } from '../../helpers/runtime-context.js';

let stack: LocalStack;
let sqs: SQSClient;

beforeAll(async () => {
  stack = await startLocalStack({
    templatePath: fileURLToPath(new URL('../fixtures/schedules.yaml', import.meta.url)),
    inMemory: true,
    apiPort: 0,
    stackName: 'wims-schedules',
  });
  sqs = new SQSClient(localClientConfig(stack.endpoints.sqs, 'us-east-1'));
}, 120_000);

afterAll(async () => {
  sqs?.destroy();
  await stack?.stop();
}, 60_000);

/** The next message on the fixture's queue, deleted. */
async function nextTick(): Promise<unknown> {
  const body = await waitUntil(async () => {
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.outputs.QueueUrl, WaitTimeSeconds: 1 }));
    const [message] = Messages;
    if (message === undefined) return undefined;
    await sqs.send(new DeleteMessageCommand({ QueueUrl: stack.outputs.QueueUrl, ReceiptHandle: message.ReceiptHandle }));
    return message.Body;
  }, { timeoutMs: 15_000, description: 'a message on the Ticks queue' });
  return JSON.parse(body);
}

describe('a scheduled rule', () => {
  it('sends its targets a Scheduled Event from aws.events naming the rule', async () => {
    // Act
    const { eventId } = stack.events.fireScheduledRule(stack.outputs.RuleArn!, new Date('2026-12-04T05:00:00Z'));

    // Assess
    expect(await nextTick()).toEqual({
      version: '0',
      id: eventId,
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '000000000000',
      time: '2026-12-04T05:00:00Z',
      region: 'us-east-1',
      resources: [stack.outputs.RuleArn],
      detail: {},
    });
  }, 30_000);

  it.each([
    ['no pattern and no schedule', { Name: 'empty' }, 'Parameter(s) EventPattern or ScheduleExpression must be specified.'],
    ['a schedule on a custom bus', { Name: 'custom', EventBusName: 'orders', ScheduleExpression: 'rate(5 minutes)' }, 'ScheduleExpression is supported only on the default event bus.'],
    ['a plural unit for 1', { Name: 'plural', ScheduleExpression: 'rate(1 minutes)' }, 'a singular unit for 1'],
    ['five cron fields', { Name: 'five', ScheduleExpression: 'cron(0 12 * * ?)' }, 'cron() takes six fields'],
  ])('is refused with %s, as PutRule refuses it', (_case, input, message) => {
    // Prepare
    const events = new EventBridgeService({ region: 'us-east-1', accountId: '000000000000', stateDir: undefined });
    events.createEventBus('orders');

    // Act / Assess
    expect(() => events.putRule(input)).toThrow(expect.objectContaining({ name: 'ValidationException', message: expect.stringContaining(message) }));
    void events.stop();
  });
});

describe('an EventBridge Scheduler schedule', () => {
  it('invokes its target with Target.Input, its context attributes filled in', async () => {
    // Act
    const invocation = await stack.scheduler.fire(stack.outputs.ScheduleArn!, new Date('2026-12-05T03:00:00Z'));

    // Assess
    expect(invocation).toMatchObject({ ok: true, attempts: 1 });
    expect(await nextTick()).toEqual({ schedule: stack.outputs.ScheduleArn, at: '2026-12-05T03:00:00Z', attempt: 1 });
  }, 30_000);

  const resource = (target: Record<string, Json>, extra: Record<string, Json> = {}) => ({
    logicalId: 'Nightly',
    type: 'AWS::Scheduler::Schedule',
    properties: { ScheduleExpression: 'rate(1 day)', FlexibleTimeWindow: { Mode: 'OFF' }, Target: target, ...extra },
    metadata: {},
  });
  const queueArn = 'arn:aws:sqs:us-east-1:000000000000:ticks';

  it.each([
    ['a dead-letter queue', resource({ Arn: queueArn, DeadLetterConfig: { Arn: queueArn } }), 'Target.DeadLetterConfig is not supported locally'],
    ['a universal target', resource({ Arn: 'arn:aws:scheduler:::aws-sdk:sqs:sendMessage' }), 'only Lambda, Step Functions, SQS, SNS and event bus targets'],
    ['another time zone', resource({ Arn: queueArn }, { ScheduleExpressionTimezone: 'Europe/Paris' }), 'only UTC is supported locally'],
    ['an invalid expression', resource({ Arn: queueArn }, { ScheduleExpression: 'rate(0 days)' }), 'rate(value unit) takes a positive whole value'],
    ['no FlexibleTimeWindow', { ...resource({ Arn: queueArn }), properties: { ScheduleExpression: 'rate(1 day)', Target: { Arn: queueArn } } }, 'FlexibleTimeWindow must be an object'],
  ])('refuses a schedule with %s', async (_case, schedule, message) => {
    // Prepare
    const scheduler = new SchedulerService({ senders: new TargetSenders({}), log: () => undefined });
    const provider = schedulerProviders(scheduler).find((candidate) => candidate.type === 'AWS::Scheduler::Schedule')!;

    // Act / Assess
    await expect(provider.create(schedule, testRuntimeContext())).rejects.toThrow(message);
    await scheduler.stop();
  });
});
