/**
 * The `wims` commands that AWS has an API for, built on that API through the running stack's AWS
 * endpoint, as a script against AWS would be: `invoke` is CloudFormation's DescribeStackResource
 * and Lambda's Invoke; `replay` is DescribeStackResource, DescribeArchive and StartReplay (then
 * DescribeReplay until it ends); `dlq redrive` is ListStackResources, SQS's GetQueueAttributes
 * (each queue's RedrivePolicy) and the moves of services/messaging/redrive.ts. The operator API
 * (admin.ts) keeps only what AWS has no API for.
 */
import { CloudFormationClient, DescribeStackResourceCommand, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { DescribeArchiveCommand, DescribeReplayCommand, EventBridgeClient, StartReplayCommand } from '@aws-sdk/client-eventbridge';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { localClientConfig, waitUntil } from './net.js';
import { moveMessages } from './services/messaging/redrive.js';

/** Where the running stack is (from its runtime.json). */
export interface RunningStack {
  endpoint: string;
  region: string;
  stackName: string;
}

/** Longest a replay is waited for: the archive's events are matched in one go, so this is generous. */
const REPLAY_TIMEOUT_MS = 120_000;

/** The physical id of a resource of the stack, refused unless it has the expected type. */
async function physicalIdOf(cloudformation: CloudFormationClient, stack: RunningStack, logicalId: string, type: string): Promise<string> {
  const request = new DescribeStackResourceCommand({ StackName: stack.stackName, LogicalResourceId: logicalId });
  const { StackResourceDetail: detail } = await cloudformation.send(request)
    .catch((error: Error) => {
      throw new Error(`${logicalId} is not a resource of this template (${error.message})`);
    });
  if (detail?.ResourceType !== type || detail.PhysicalResourceId === undefined) throw new Error(`${logicalId} is not a ${type} of this template`);
  return detail.PhysicalResourceId;
}

/** Invokes a function of the running stack by logical id; resolves to Lambda's answer (`ok`, then the payload or the error). */
export async function invokeFunction(stack: RunningStack, logicalId: string, event: unknown): Promise<{ ok: boolean } & Record<string, unknown>> {
  const config = localClientConfig(stack.endpoint, stack.region);
  const cloudformation = new CloudFormationClient(config);
  const lambda = new LambdaClient(config);
  try {
    const functionName = await physicalIdOf(cloudformation, stack, logicalId, 'AWS::Lambda::Function');
    const answer = await lambda.send(new InvokeCommand({ FunctionName: functionName, Payload: JSON.stringify(event) }));
    const payload: unknown = JSON.parse(Buffer.from(answer.Payload ?? new Uint8Array()).toString('utf8') || 'null');
    return answer.FunctionError === undefined ? { ok: true, payload } : { ok: false, ...(payload as Record<string, unknown>) };
  } finally {
    cloudformation.destroy();
    lambda.destroy();
  }
}

/** Replays an archive of the running stack (the one named, or its only one) to its bus; resolves to the replay's name once it completed. */
export async function replayArchive(stack: RunningStack, options: { archive?: string; from: Date; to: Date }): Promise<string> {
  const config = localClientConfig(stack.endpoint, stack.region);
  const cloudformation = new CloudFormationClient(config);
  const events = new EventBridgeClient(config);
  try {
    let logicalId = options.archive;
    if (logicalId === undefined) {
      const { StackResourceSummaries = [] } = await cloudformation.send(new ListStackResourcesCommand({ StackName: stack.stackName }));
      const archives = StackResourceSummaries.filter((summary) => summary.ResourceType === 'AWS::Events::Archive').map((summary) => summary.LogicalResourceId);
      if (archives.length !== 1) throw new Error(`name the archive to replay with --archive (one of: ${archives.join(', ') || 'none in this template'})`);
      logicalId = archives[0]!;
    }
    const archive = await events.send(new DescribeArchiveCommand({ ArchiveName: await physicalIdOf(cloudformation, stack, logicalId, 'AWS::Events::Archive') }));
    const replayName = `wims-${Date.now()}`;
    await events.send(new StartReplayCommand({
      ReplayName: replayName,
      EventSourceArn: archive.ArchiveArn,
      EventStartTime: options.from,
      EventEndTime: options.to,
      Destination: { Arn: archive.EventSourceArn },
    }));
    const ended = await waitUntil(async () => {
      const replay = await events.send(new DescribeReplayCommand({ ReplayName: replayName }));
      return (replay.State === 'COMPLETED' || replay.State === 'FAILED') && replay;
    }, { timeoutMs: REPLAY_TIMEOUT_MS, intervalMs: 100, description: `replay ${replayName} to end` });
    if (ended.State === 'FAILED') throw new Error(`replay ${replayName} failed: ${ended.StateReason ?? 'no reason given'}`);
    return replayName;
  } finally {
    cloudformation.destroy();
    events.destroy();
  }
}

/**
 * Moves a dead-letter queue's messages back to the one queue whose RedrivePolicy names it;
 * resolves to how many moved.
 */
export async function redriveDeadLetterQueue(stack: RunningStack, logicalId: string): Promise<number> {
  const config = localClientConfig(stack.endpoint, stack.region);
  const cloudformation = new CloudFormationClient(config);
  const sqs = new SQSClient(config);
  try {
    // A queue's physical id is its URL; the SDK sends to the endpoint whatever host the URL names.
    const deadLetterUrl = await physicalIdOf(cloudformation, stack, logicalId, 'AWS::SQS::Queue');
    const attribute = async (url: string, name: 'QueueArn' | 'RedrivePolicy'): Promise<string | undefined> =>
      (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: [name] }))).Attributes?.[name];
    const deadLetterArn = await attribute(deadLetterUrl, 'QueueArn');
    const { StackResourceSummaries = [] } = await cloudformation.send(new ListStackResourcesCommand({ StackName: stack.stackName }));
    const sources: string[] = [];
    for (const queue of StackResourceSummaries.filter((summary) => summary.ResourceType === 'AWS::SQS::Queue')) {
      const url = queue.PhysicalResourceId ?? '';
      const redrivePolicy = await attribute(url, 'RedrivePolicy');
      const target = redrivePolicy === undefined ? undefined : (JSON.parse(redrivePolicy) as { deadLetterTargetArn?: string }).deadLetterTargetArn;
      if (target === deadLetterArn) sources.push(url);
    }
    if (sources.length !== 1) throw new Error(`${logicalId} is the dead-letter queue of ${sources.length} queues; redrive needs exactly one`);
    return await moveMessages(sqs, deadLetterUrl, sources[0]!);
  } finally {
    cloudformation.destroy();
    sqs.destroy();
  }
}
