/**
 * The running stack's operator API, on 127.0.0.1 only, for what AWS has no API for: `wims status`
 * and `schedule fire` talk to it (`invoke`, `replay` and `dlq redrive` use the AWS endpoint's
 * CloudFormation, Lambda, EventBridge and SQS APIs: aws-commands.ts); its address is written to
 * `<stateDir>/runtime.json`. The dashboard calls its functions in process.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBClient, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { LOOPBACK, localClientConfig } from './net.js';
import type { LocalStack } from './runtime.js';
import { moveMessages } from './services/messaging/redrive.js';

/** What `wims status` shows. */
export interface StackStatus {
  queues: Record<string, { visible: number; inFlight: number }>;
  inventory: Record<string, number>;
  ordersByStatus: Record<string, number>;
  paymentsByStatus: Record<string, number>;
  outbox: number;
  executions: Record<string, { started: number; succeeded: number; failed: number }>;
  metrics: Record<string, number>;
}

/** Reads the state a user asks about, straight from the engines and the runtime's counters. */
export async function stackStatus(stack: LocalStack): Promise<StackStatus> {
  const sqs = new SQSClient(localClientConfig(stack.endpoints.sqs, stack.template.region));
  const dynamodb = new DynamoDBClient(localClientConfig(stack.endpoints.dynamodb, stack.template.region));
  try {
    const queues = await queueDepths(stack, sqs);
    const inventory: Record<string, number> = {};
    const ordersByStatus: Record<string, number> = {};
    const paymentsByStatus: Record<string, number> = {};
    for (const logicalId of stack.template.resourcesOfType('AWS::DynamoDB::Table')) {
      for await (const item of scan(dynamodb, stack.resources.get(logicalId)!.physicalId)) {
        if (typeof item.pk !== 'string') continue;
        if (item.pk.startsWith('INVENTORY#')) inventory[String(item.sku ?? item.pk)] = Number(item.quantity);
        if (item.pk.startsWith('CUSTOMER#')) {
          const status = String(item.status);
          ordersByStatus[status] = (ordersByStatus[status] ?? 0) + 1;
          if (item.paymentStatus) paymentsByStatus[String(item.paymentStatus)] = (paymentsByStatus[String(item.paymentStatus)] ?? 0) + 1;
        }
      }
    }
    const outbox = existsSync(stack.outboxDir)
      ? readdirSync(stack.outboxDir).reduce((count, file) => count + readFileSync(join(stack.outboxDir, file), 'utf8').split('\n').filter(Boolean).length, 0)
      : 0;
    return { queues, inventory, ordersByStatus, paymentsByStatus, outbox, executions: stack.stepFunctions.registry.counters(), metrics: stack.logs.metrics() };
  } finally {
    sqs.destroy();
    dynamodb.destroy();
  }
}

/** Visible and in-flight messages of every queue of the template, by logical id. */
export async function queueDepths(stack: LocalStack, sqs: SQSClient): Promise<StackStatus['queues']> {
  const queues: StackStatus['queues'] = {};
  for (const logicalId of stack.template.resourcesOfType('AWS::SQS::Queue')) {
    const url = stack.resources.get(logicalId)!.physicalId;
    const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }));
    queues[logicalId] = {
      visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    };
  }
  return queues;
}

async function* scan(client: DynamoDBClient, tableName: string): AsyncGenerator<Record<string, unknown>> {
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start }));
    for (const item of page.Items ?? []) yield unmarshall(item);
    start = page.LastEvaluatedKey;
  } while (start);
}

/** The queues whose redrive policy names `deadLetterLogicalId` as their dead-letter queue. */
export function deadLetterSources(stack: LocalStack, deadLetterLogicalId: string): string[] {
  const arn = stack.resources.get(deadLetterLogicalId)?.attributes.Arn;
  return stack.template.resourcesOfType('AWS::SQS::Queue').filter((logicalId) => {
    const redrive = stack.template.resolveResource(logicalId, stack.resources).properties.RedrivePolicy as { deadLetterTargetArn?: string } | undefined;
    return arn !== undefined && redrive?.deadLetterTargetArn === arn;
  });
}

/**
 * Moves every message of a dead-letter queue back to the queue(s) whose redrive policy names it
 * (as SQS's "start DLQ redrive" does); returns how many moved.
 */
export async function redriveDeadLetters(stack: LocalStack, deadLetterLogicalId: string): Promise<number> {
  const deadLetter = stack.resources.get(deadLetterLogicalId);
  if (!deadLetter || stack.template.typeOf(deadLetterLogicalId) !== 'AWS::SQS::Queue') {
    throw new Error(`${deadLetterLogicalId} is not a queue of this template`);
  }
  const sources = deadLetterSources(stack, deadLetterLogicalId);
  if (sources.length !== 1) {
    throw new Error(`${deadLetterLogicalId} is the dead-letter queue of ${sources.length} queues; redrive needs exactly one`);
  }
  const sqs = new SQSClient(localClientConfig(stack.endpoints.sqs, stack.template.region));
  try {
    return await moveMessages(sqs, deadLetter.physicalId, stack.resources.get(sources[0]!)!.physicalId);
  } finally {
    sqs.destroy();
  }
}

/**
 * Fires a scheduled rule (`AWS::Events::Rule` with a ScheduleExpression) or an
 * `AWS::Scheduler::Schedule` of the template at once; a schedule's invocation is awaited.
 */
async function fireSchedule(stack: LocalStack, logicalId: string): Promise<{ fired: string; ok: boolean; error?: string }> {
  const resource = stack.resources.get(logicalId);
  if (resource !== undefined) {
    const arn = resource.attributes.Arn ?? resource.physicalId;
    switch (stack.template.typeOf(logicalId)) {
      case 'AWS::Scheduler::Schedule': {
        const invocation = await stack.scheduler.fire(arn);
        return { fired: logicalId, ok: invocation.ok, ...(invocation.error === undefined ? {} : { error: invocation.error }) };
      }
      case 'AWS::Events::Rule':
        stack.events.fireScheduledRule(arn);
        return { fired: logicalId, ok: true };
    }
  }
  const schedules = [...stack.template.resourcesOfType('AWS::Scheduler::Schedule'), ...stack.template.resourcesOfType('AWS::Events::Rule')
    .filter((id) => stack.template.template.Resources[id]?.Properties?.ScheduleExpression !== undefined)];
  throw new Error(`${logicalId} is not a schedule of this template (schedules: ${schedules.join(', ') || 'none'})`);
}

/** The archive a replay reads: the one named, or the template's only archive. */
export function archiveName(stack: LocalStack, logicalId: string | undefined): string {
  const archives = stack.template.resourcesOfType('AWS::Events::Archive');
  const chosen = logicalId ?? (archives.length === 1 ? archives[0] : undefined);
  if (chosen === undefined || !archives.includes(chosen)) {
    throw new Error(`name the archive to replay with --archive (one of: ${archives.join(', ') || 'none in this template'})`);
  }
  return stack.resources.get(chosen)!.physicalId;
}

/** The JSON body of an operator request: each operation reads the fields it needs. */
interface AdminRequest {
  queue?: unknown;
  schedule?: unknown;
}

async function readJson(request: IncomingMessage): Promise<AdminRequest> {
  let body = '';
  for await (const chunk of request) body += String(chunk);
  return body ? (JSON.parse(body) as AdminRequest) : {};
}

/** Starts the operator API; resolves to its base URL. */
export async function startAdminServer(stack: LocalStack): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    const reply = (status: number, body: unknown): void => {
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    void (async () => {
      const body = request.method === 'POST' ? await readJson(request) : {};
      switch (`${request.method} ${request.url}`) {
        case 'GET /status':
          return reply(200, await stackStatus(stack));
        case 'POST /schedules/fire':
          return reply(200, await fireSchedule(stack, String(body.schedule)));
        default:
          return reply(404, { message: `No such operation: ${request.method} ${request.url}` });
      }
    })().catch((error: Error) => reply(400, { message: error.message }));
  });
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://${LOOPBACK}:${port}`, server };
}
