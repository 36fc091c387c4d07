/**
 * What the dashboard's operations views read: queue peeks, executions and metric samples. Queue
 * depths, redrive, replay and the outbox reuse the operator API's and the services' own
 * functions; alarms are the AWS endpoint's CloudWatch DescribeAlarms (services/cloudwatch/api.ts).
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

