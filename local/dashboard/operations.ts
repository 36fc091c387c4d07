/**
 * What the dashboard's operations views read: queue peeks, executions, metric samples and alarm
 * states. Queue depths, redrive, replay and the outbox reuse the operator API's and the
 * services' own functions.
 *
 * LIMITATIONS: alarms are evaluated here, on demand, over one Period from the runtime's own
 * counters (queue depths, finished executions, matched events); a metric the runtime does not
 * keep leaves its alarm in INSUFFICIENT_DATA. No alarm action runs.
 */
import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { LocalStack } from '../runtime.js';
import type { ExecutionRecord } from '../services/stepfunctions/registry.js';

/** Messages of a queue, read without consuming them (each read adds one to a message's ApproximateReceiveCount). */
export async function peekQueue(
  stack: LocalStack,
  sqs: SQSClient,
  logicalId: string,
): Promise<Array<{ messageId: string; body: string; receiveCount: number }>> {
  const queue = stack.resources.get(logicalId);
  if (queue === undefined || stack.template.typeOf(logicalId) !== 'AWS::SQS::Queue') throw new Error(`${logicalId} is not a queue of this template`);
  const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({
    QueueUrl: queue.physicalId,
    MaxNumberOfMessages: 10, // SQS's most per ReceiveMessage
    VisibilityTimeout: 0, // visible again at once: a peek leaves the message where it was
    WaitTimeSeconds: 0,
    MessageSystemAttributeNames: ['ApproximateReceiveCount'],
  }));
  return Messages.map((message) => ({
    messageId: message.MessageId ?? '',
    body: message.Body ?? '',
    receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 0),
  }));
}

/** An execution without its history, for the list. */
export type ExecutionSummary = Omit<ExecutionRecord, 'events' | 'input' | 'output'> & { stateMachine: string };

export function executionSummaries(stack: LocalStack, limit = 200): ExecutionSummary[] {
  return stack.stepFunctions.registry.executions().slice(-limit).reverse()
    .map(({ events: _events, input: _input, output: _output, ...record }) => ({ ...record, stateMachine: record.stateMachineArn.slice(record.stateMachineArn.lastIndexOf(':') + 1) }));
}

export function executionRecord(stack: LocalStack, executionArn: string): ExecutionRecord | undefined {
  return stack.stepFunctions.registry.executions().find((record) => record.executionArn === executionArn);
}

/** Sums of the EMF metrics over time: one sample per interval, the oldest dropped past `keep`. */
export class MetricSampler {
  private readonly samples: Array<{ time: number; values: Record<string, number> }> = [];
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly read: () => Record<string, number>, intervalMs = 5000, private readonly keep = 180) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs).unref();
  }

  /** The samples, oldest first, and the current sums as the last one. */
  series(): Array<{ time: number; values: Record<string, number> }> {
    return [...this.samples, { time: Date.now(), values: this.read() }];
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private sample(): void {
    this.samples.push({ time: Date.now(), values: this.read() });
    if (this.samples.length > this.keep) this.samples.shift();
  }
}

export type AlarmStateValue = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

export interface AlarmState {
  alarm: string;
  description: string;
  metric: string;
  state: AlarmStateValue;
  value?: number;
  threshold: number;
  reason: string;
}

interface AlarmProperties {
  AlarmDescription?: string;
  Namespace?: string;
  MetricName?: string;
  Dimensions?: Array<{ Name: string; Value: string }>;
  Threshold?: number;
  ComparisonOperator?: string;
  Period?: number;
}

const COMPARISONS: Readonly<Record<string, (value: number, threshold: number) => boolean>> = {
  GreaterThanOrEqualToThreshold: (value, threshold) => value >= threshold,
  GreaterThanThreshold: (value, threshold) => value > threshold,
  LessThanThreshold: (value, threshold) => value < threshold,
  LessThanOrEqualToThreshold: (value, threshold) => value <= threshold,
};

/** Every CloudWatch alarm of the template with the state its metric gives now. */
export function alarmStates(stack: LocalStack, depths: Record<string, { visible: number; inFlight: number }>): AlarmState[] {
  return stack.template.resourcesOfType('AWS::CloudWatch::Alarm').map((logicalId): AlarmState => {
    const properties = stack.template.resolveResource(logicalId, stack.resources).properties as AlarmProperties;
    const threshold = Number(properties.Threshold ?? 0);
    const metric = `${properties.Namespace ?? ''}/${properties.MetricName ?? ''}`;
    const value = metricValue(stack, properties, depths);
    const compare = COMPARISONS[properties.ComparisonOperator ?? ''];
    const base = { alarm: logicalId, description: properties.AlarmDescription ?? '', metric, threshold };
    if (value === undefined || compare === undefined) return { ...base, state: 'INSUFFICIENT_DATA', reason: 'this metric is not kept by the local runtime' };
    const breaching = compare(value, threshold);
    return { ...base, value, state: breaching ? 'ALARM' : 'OK', reason: `${metric} = ${value} (threshold ${properties.ComparisonOperator} ${threshold})` };
  });
}

function metricValue(stack: LocalStack, properties: AlarmProperties, depths: Record<string, { visible: number; inFlight: number }>): number | undefined {
  const dimension = (name: string): string | undefined => properties.Dimensions?.find((entry) => entry.Name === name)?.Value;
  const since = Date.now() - Number(properties.Period ?? 60) * 1000;
  switch (properties.Namespace) {
    case 'AWS/SQS': {
      const queueName = dimension('QueueName');
      const logicalId = stack.template.resourcesOfType('AWS::SQS::Queue').find((id) => stack.resources.get(id)?.attributes.QueueName === queueName);
      const depth = logicalId === undefined ? undefined : depths[logicalId];
      if (depth === undefined) return undefined;
      // Messages received in a period: what is in the queue stands for it (a DLQ's messages are each received once, when they land).
      return properties.MetricName === 'ApproximateNumberOfMessagesVisible' ? depth.visible : depth.visible + depth.inFlight;
    }
    case 'AWS/States': {
      if (properties.MetricName !== 'ExecutionsFailed') return undefined;
      const arn = dimension('StateMachineArn');
      return stack.stepFunctions.registry.executions(arn).filter((record) => record.status === 'FAILED' && Date.parse(record.stopDate) >= since).length;
    }
    case 'AWS/Events': {
      const rule = dimension('RuleName');
      if (properties.MetricName !== 'MatchedEvents' || rule === undefined) return undefined;
      return stack.events.events().filter((record) => Date.parse(record.event.time) >= since - 1000 && record.matchedRules.some((arn) => arn.endsWith(`/${rule}`))).length;
    }
    default:
      return undefined;
  }
}
