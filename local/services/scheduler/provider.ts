/**
 * EventBridge Scheduler, locally: `AWS::Scheduler::Schedule` (rate, cron and one-time `at`
 * expressions, UTC) and `AWS::Scheduler::ScheduleGroup`. At each time its expression gives, an
 * ENABLED schedule invokes its templated target through the runtime's senders: Lambda
 * (asynchronously), Step Functions StartExecution, SQS SendMessage, SNS Publish or EventBridge
 * PutEvents (EventBridgeParameters give the event's source and detail-type), with Target.Input as
 * the payload (`{}` when absent) after its context attributes are filled in
 * (`<aws.scheduler.schedule-arn>`, `<aws.scheduler.scheduled-time>`,
 * `<aws.scheduler.execution-id>`, `<aws.scheduler.attempt-number>`). A failure is retried under
 * Target.RetryPolicy (targets/retry.ts). {@link SchedulerService.fire} invokes a schedule at once
 * (`wims schedule fire`). `Ref` is the schedule's name; `Fn::GetAtt` gives Arn.
 *
 * LIMITATIONS: Target.DeadLetterConfig, universal targets (`arn:aws:scheduler:::aws-sdk:…`) and
 * the ECS, Kinesis and SageMaker parameters are refused; a time zone other than UTC is refused;
 * FlexibleTimeWindow FLEXIBLE fires at the start of the window; StartDate and EndDate bound the
 * invocations; RoleArn, KmsKeyArn and Description are accepted and not emulated.
 *
 * DURABILITY: schedules are the template's. An invocation running or waiting to retry when the
 * runtime stops is not resumed, and times missed while it was down are not made up (AWS does not
 * make them up either): a target that must not miss work should find it itself, as the
 * reconciler does.
 */
import { randomUUID } from 'node:crypto';
import type { Json } from '../../template/parse.js';
import { checkProperties, expectNumber, expectObject, expectString, ResourcePropertyError, resourceName, where } from '../cfn-properties.js';
import type { DeployedResource, ResolvedResource, ResourceProvider, RuntimeContext } from '../provider.js';
import { targetKind } from '../targets/registry.js';
import { deliverWithRetries, type RetryPolicy } from '../targets/retry.js';
import type { DeliverOptions, TargetSender } from '../targets/sender.js';
import { parseScheduleExpression, ScheduleExpressionError, startTimer, type ScheduleExpression } from './expression.js';

/** Scheduler's limit on schedule names. */
const MAX_NAME = 64;
const DEFAULT_GROUP = 'default';
const SUPPORTED = [
  'Name', 'GroupName', 'ScheduleExpression', 'ScheduleExpressionTimezone', 'FlexibleTimeWindow', 'State', 'StartDate', 'EndDate', 'Target',
];
const IGNORED = ['KmsKeyArn'];
const TARGET_SUPPORTED = ['Arn', 'RoleArn', 'Input', 'RetryPolicy', 'EventBridgeParameters', 'SqsParameters'];
/** Templated targets the local runtime invokes. */
const TARGET_KINDS = ['lambda', 'states', 'sqs', 'sns', 'event-bus'];

/** One schedule. */
interface Schedule {
  name: string;
  arn: string;
  expression: ScheduleExpression;
  enabled: boolean;
  startDate: Date | undefined;
  endDate: Date | undefined;
  targetArn: string;
  input: string;
  retryPolicy: RetryPolicy | undefined;
  deliverOptions: DeliverOptions;
  /** Stops the schedule's timer. */
  stop: () => void;
}

/** The outcome of one invocation. */
export interface ScheduleInvocation {
  schedule: string;
  executionId: string;
  scheduledTime: string;
  ok: boolean;
  attempts: number;
  error?: string;
}

/** Thrown by {@link SchedulerService.fire} for a schedule that does not exist. */
class ScheduleNotFoundError extends Error {
  override name = 'ResourceNotFoundException';
}

/** The schedules of one runtime, with their timers. */
export class SchedulerService {
  private readonly schedules = new Map<string, Schedule>();
  private readonly running = new Set<Promise<ScheduleInvocation | undefined>>();
  private readonly stopping = new AbortController();

  constructor(private readonly options: { senders: TargetSender; log: (component: string, message: string) => void }) {}

  add(schedule: Omit<Schedule, 'stop'>): void {
    if (this.stopping.signal.aborted) return;
    const entry: Schedule = { ...schedule, stop: () => undefined };
    entry.stop = startTimer(schedule.expression, new Date(), (time) => {
      if (entry.enabled) void this.fire(entry.arn, time);
    }, { startDate: schedule.startDate, endDate: schedule.endDate });
    this.schedules.set(entry.arn, entry);
  }

  /**
   * Invokes a schedule now (by name or ARN), as its expression would; resolves when the
   * invocation has ended, after any retries.
   */
  async fire(nameOrArn: string, scheduledTime = new Date()): Promise<ScheduleInvocation> {
    const schedule = this.schedules.get(nameOrArn) ?? [...this.schedules.values()].find((candidate) => candidate.name === nameOrArn);
    if (schedule === undefined) throw new ScheduleNotFoundError(`Schedule ${nameOrArn} does not exist.`);
    const invocation = this.invoke(schedule, scheduledTime);
    this.running.add(invocation);
    try {
      const outcome = await invocation;
      return outcome ?? { schedule: schedule.name, executionId: '', scheduledTime: scheduledTime.toISOString(), ok: false, attempts: 0, error: 'the runtime stopped' };
    } finally {
      this.running.delete(invocation);
    }
  }

  /** Stops the timers and waits for running invocations (a retry still waiting is dropped). */
  async stop(): Promise<void> {
    for (const schedule of this.schedules.values()) schedule.stop();
    this.stopping.abort();
    await Promise.allSettled([...this.running]);
  }

  private async invoke(schedule: Schedule, scheduledTime: Date): Promise<ScheduleInvocation | undefined> {
    const executionId = randomUUID();
    let attempt = 0;
    const outcome = await deliverWithRetries(
      () => {
        attempt++;
        const input = fillContextAttributes(schedule.input, {
          'schedule-arn': schedule.arn,
          'scheduled-time': scheduledTime.toISOString().replace(/\.\d{3}Z$/, 'Z'),
          'execution-id': executionId,
          'attempt-number': String(attempt),
        });
        return this.options.senders.deliver(schedule.targetArn, input, schedule.deliverOptions);
      },
      schedule.targetArn,
      { policy: schedule.retryPolicy, receivedAt: scheduledTime, signal: this.stopping.signal },
    );
    if ('stopped' in outcome) return undefined;
    const result: ScheduleInvocation = {
      schedule: schedule.name, executionId, scheduledTime: scheduledTime.toISOString(), ok: outcome.delivered, attempts: outcome.attempts,
    };
    if (!outcome.delivered) {
      result.error = `${outcome.error.code}: ${outcome.error.message}`;
      this.options.log('scheduler', `schedule ${schedule.name}: invocation ${executionId} failed after ${outcome.attempts} attempt(s): ${result.error}`);
    }
    return result;
  }
}

/** Replaces `<aws.scheduler.NAME>` with its value. */
function fillContextAttributes(input: string, values: Record<string, string>): string {
  return input.replace(/<aws\.scheduler\.([a-z-]+)>/g, (whole, name: string) => values[name] ?? whole);
}

/** The `AWS::Scheduler::Schedule` and `AWS::Scheduler::ScheduleGroup` providers. */
export function schedulerProviders(scheduler: SchedulerService): ResourceProvider[] {
  return [
    {
      type: 'AWS::Scheduler::ScheduleGroup',
      async create(resource: ResolvedResource, context: RuntimeContext): Promise<DeployedResource> {
        checkProperties(resource, ['Name'], [], context);
        const name = resourceName(resource, 'Name', context.stackName, { maxLength: MAX_NAME, uniqueId: true });
        const arn = `arn:aws:scheduler:${context.region}:${context.accountId}:schedule-group/${name}`;
        return { physicalId: name, attributes: { Arn: arn, State: 'ACTIVE', CreationDate: new Date().toISOString() } };
      },
    },
    {
      type: 'AWS::Scheduler::Schedule',
      async create(resource: ResolvedResource, context: RuntimeContext): Promise<DeployedResource> {
        checkProperties(resource, SUPPORTED, IGNORED, context);
        const p = resource.properties;
        const name = resourceName(resource, 'Name', context.stackName, { maxLength: MAX_NAME, uniqueId: true });
        const group = p.GroupName === undefined ? DEFAULT_GROUP : expectString(p.GroupName, where(resource, 'GroupName'));
        const arn = `arn:aws:scheduler:${context.region}:${context.accountId}:schedule/${group}/${name}`;
        const timezone = p.ScheduleExpressionTimezone === undefined ? 'UTC' : expectString(p.ScheduleExpressionTimezone, where(resource, 'ScheduleExpressionTimezone'));
        if (!['UTC', 'Etc/UTC'].includes(timezone)) {
          throw new ResourcePropertyError(`${where(resource, 'ScheduleExpressionTimezone')} ${timezone}: only UTC is supported locally`);
        }
        const window = expectObject(p.FlexibleTimeWindow, where(resource, 'FlexibleTimeWindow'));
        if (!['OFF', 'FLEXIBLE'].includes(String(window.Mode))) {
          throw new ResourcePropertyError(`${where(resource, 'FlexibleTimeWindow.Mode')} must be OFF or FLEXIBLE, got ${JSON.stringify(window.Mode)}`);
        }
        let expression: ScheduleExpression;
        try {
          expression = parseScheduleExpression(expectString(p.ScheduleExpression, where(resource, 'ScheduleExpression')), { allowAt: true });
        } catch (error) {
          if (error instanceof ScheduleExpressionError) throw new ResourcePropertyError(`${where(resource, 'ScheduleExpression')}: ${error.message}`);
          throw error;
        }
        const state = p.State === undefined ? 'ENABLED' : expectString(p.State, where(resource, 'State'));
        if (!['ENABLED', 'DISABLED'].includes(state)) throw new ResourcePropertyError(`${where(resource, 'State')} must be ENABLED or DISABLED, got ${state}`);
        scheduler.add({
          name,
          arn,
          expression,
          enabled: state === 'ENABLED',
          startDate: optionalDate(resource, 'StartDate'),
          endDate: optionalDate(resource, 'EndDate'),
          ...scheduleTarget(resource, context),
        });
        context.progress('scheduler', `created schedule ${name} (${String(p.ScheduleExpression)})`);
        return { physicalId: name, attributes: { Arn: arn } };
      },
    },
  ];
}

function optionalDate(resource: ResolvedResource, property: string): Date | undefined {
  const value = resource.properties[property];
  if (value === undefined) return undefined;
  const date = new Date(expectString(value, where(resource, property)));
  if (Number.isNaN(date.getTime())) throw new ResourcePropertyError(`${where(resource, property)} must be an ISO 8601 time, got ${JSON.stringify(value)}`);
  return date;
}

/** Target: what is invoked, with what payload, retried how. */
function scheduleTarget(resource: ResolvedResource, context: RuntimeContext): Pick<Schedule, 'targetArn' | 'input' | 'retryPolicy' | 'deliverOptions'> {
  const target = expectObject(resource.properties.Target, where(resource, 'Target'));
  for (const key of Object.keys(target)) {
    if (key === 'DeadLetterConfig') throw new ResourcePropertyError(`${where(resource, 'Target.DeadLetterConfig')} is not supported locally`);
    if (!TARGET_SUPPORTED.includes(key)) throw new ResourcePropertyError(`${where(resource, `Target.${key}`)} is not supported by the local runtime`);
  }
  if (target.RoleArn !== undefined) context.notEmulated(resource.logicalId, ['Target.RoleArn']);
  const targetArn = expectString(target.Arn, where(resource, 'Target.Arn'));
  const kind = targetKind(targetArn);
  if (kind === undefined || !TARGET_KINDS.includes(kind)) {
    throw new ResourcePropertyError(`${where(resource, 'Target.Arn')} ${targetArn}: only Lambda, Step Functions, SQS, SNS and event bus targets are supported locally`);
  }
  const retry = target.RetryPolicy === undefined ? undefined : expectObject(target.RetryPolicy, where(resource, 'Target.RetryPolicy'));
  const number = (value: Json | undefined, path: string): number | undefined => (value === undefined ? undefined : expectNumber(value, where(resource, path)));
  const bus = target.EventBridgeParameters === undefined ? undefined : expectObject(target.EventBridgeParameters, where(resource, 'Target.EventBridgeParameters'));
  const sqs = target.SqsParameters === undefined ? undefined : expectObject(target.SqsParameters, where(resource, 'Target.SqsParameters'));
  return {
    targetArn,
    input: target.Input === undefined ? '{}' : expectString(target.Input, where(resource, 'Target.Input')),
    retryPolicy: retry && {
      MaximumRetryAttempts: number(retry.MaximumRetryAttempts, 'Target.RetryPolicy.MaximumRetryAttempts'),
      MaximumEventAgeInSeconds: number(retry.MaximumEventAgeInSeconds, 'Target.RetryPolicy.MaximumEventAgeInSeconds'),
    },
    deliverOptions: {
      ...(bus && {
        eventBus: {
          Source: expectString(bus.Source, where(resource, 'Target.EventBridgeParameters.Source')),
          DetailType: expectString(bus.DetailType, where(resource, 'Target.EventBridgeParameters.DetailType')),
        },
      }),
      ...(sqs?.MessageGroupId !== undefined && { messageGroupId: expectString(sqs.MessageGroupId, where(resource, 'Target.SqsParameters.MessageGroupId')) }),
    },
  };
}
