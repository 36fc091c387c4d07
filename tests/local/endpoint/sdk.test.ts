/**
 * Every operation the AWS endpoint answers itself, through the AWS SDK v3 clients a team's own
 * test harness would use, pointed at the endpoint alone: EventBridge, Step Functions, Lambda,
 * CloudWatch Logs, Pipes, CloudFormation, API Gateway and CloudWatch.
 * Each operation is checked for what it returns and for one AWS error code where AWS has one.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  DeleteRuleCommand, DescribeArchiveCommand, DescribeReplayCommand, DescribeRuleCommand, EventBridgeClient, ListApiDestinationsCommand, ListArchivesCommand,
  ListConnectionsCommand, ListEventBusesCommand, ListReplaysCommand, ListRulesCommand, ListTargetsByRuleCommand, PutEventsCommand,
  StartReplayCommand, TestEventPatternCommand,
} from '@aws-sdk/client-eventbridge';
import {
  DescribeExecutionCommand, DescribeStateMachineCommand, GetExecutionHistoryCommand, ListExecutionsCommand, ListStateMachinesCommand, SFNClient,
  StartExecutionCommand, StartSyncExecutionCommand,
} from '@aws-sdk/client-sfn';
import { GetFunctionCommand, InvokeCommand, LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import {
  CloudWatchLogsClient, DescribeLogGroupsCommand, DescribeLogStreamsCommand, FilterLogEventsCommand, GetLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { DescribePipeCommand, ListPipesCommand, PipesClient, StartPipeCommand, StopPipeCommand } from '@aws-sdk/client-pipes';
import {
  CloudFormationClient, DescribeStackResourceCommand, DescribeStacksCommand, ListStackResourcesCommand,
} from '@aws-sdk/client-cloudformation';
import { APIGatewayClient, GetRestApisCommand, GetStagesCommand } from '@aws-sdk/client-api-gateway';
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand, ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import { loadEvent } from '../../helpers/events.js';
import { GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { localClientConfig, waitUntil } from '../../../local/net.js';
import { startTestStack, type TestStack } from '../../helpers/stack.js';

let stack: TestStack;
let config: ReturnType<typeof localClientConfig>;

beforeAll(async () => {
  stack = await startTestStack({ stackName: 'wims-endpoint-sdk' });
  config = localClientConfig(stack.stack.endpoints.aws, 'us-east-1');
}, 120_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

const physicalId = (logicalId: string): string => stack.stack.resources.get(logicalId)!.physicalId;
const arnOf = (logicalId: string): string => stack.stack.resources.get(logicalId)!.attributes.Arn!;

/** The error an SDK call rejects with (its name is the AWS error code). */
async function failure(call: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  return call.then(() => { throw new Error('the call succeeded'); }, (error: Error) => error);
}

describe('EventBridge through the endpoint', () => {
  let events: EventBridgeClient;
  beforeAll(() => { events = new EventBridgeClient(config); });
  afterAll(() => events.destroy());

  it('PutEvents: the event reaches its rule target (LogEverythingRule writes it to EventsLogGroup)', async () => {
    // Act
    const { FailedEntryCount, Entries = [] } = await events.send(new PutEventsCommand({
      Entries: [{ EventBusName: physicalId('WimsEventBus'), Source: 'wims.test', DetailType: 'Endpoint.Tested', Detail: '{"through":"sdk"}' }],
    }));

    // Assess
    expect(FailedEntryCount).toBe(0);
    const eventId = Entries[0]!.EventId!;
    await waitUntil(() => stack.stack.logs.events(physicalId('EventsLogGroup')).some((line) => line.message.includes(eventId)), {
      description: `event ${eventId} in EventsLogGroup`,
    });
  });

  it('PutEvents: an entry for a bus that does not exist fails on its own (FailedEntryCount 1)', async () => {
    // Act
    const result = await events.send(new PutEventsCommand({ Entries: [{ EventBusName: 'no-such-bus', Source: 'wims.test', DetailType: 'X', Detail: '{}' }] }));

    // Assess
    expect(result.FailedEntryCount).toBe(1);
  });

  it('ListEventBuses, ListRules, DescribeRule and ListTargetsByRule describe the template bus and its rules', async () => {
    // Prepare
    const bus = physicalId('WimsEventBus');
    const ruleName = physicalId('LogEverythingRule').split('|').pop()!;

    // Act
    const { EventBuses = [] } = await events.send(new ListEventBusesCommand({}));
    const { Rules = [] } = await events.send(new ListRulesCommand({ EventBusName: bus }));
    const rule = await events.send(new DescribeRuleCommand({ Name: ruleName, EventBusName: bus }));
    const { Targets = [] } = await events.send(new ListTargetsByRuleCommand({ Rule: ruleName, EventBusName: bus }));
    const missing = await failure(events.send(new DescribeRuleCommand({ Name: 'no-such-rule', EventBusName: bus })));

    // Assess
    expect(EventBuses.map((entry) => entry.Name)).toEqual(expect.arrayContaining(['default', bus]));
    expect(Rules.map((entry) => entry.Name)).toContain(ruleName);
    expect(JSON.parse(rule.EventPattern!)).toEqual({ source: [{ prefix: 'wims' }] });
    expect(rule.State).toBe('ENABLED');
    expect(Targets.map((target) => target.Id)).toEqual(['events-log-group']);
    expect(missing.name).toBe('ResourceNotFoundException');
  });

  it('TestEventPattern matches with the bus own matcher, and refuses an invalid pattern with InvalidEventPatternException', async () => {
    // Prepare
    const event = JSON.stringify({
      id: '1', account: '000000000000', source: 'wims.orders', time: '2026-12-04T10:00:00Z', region: 'us-east-1', resources: [], 'detail-type': 'cdcEvent',
      detail: { eventName: 'MODIFY', quantity: 5 },
    });

    // Act
    const matched = await events.send(new TestEventPatternCommand({ Event: event, EventPattern: '{"detail":{"quantity":[{"numeric":[">",1]}]}}' }));
    const unmatched = await events.send(new TestEventPatternCommand({ Event: event, EventPattern: '{"source":[{"anything-but":{"prefix":"wims"}}]}' }));
    const invalid = await failure(events.send(new TestEventPatternCommand({ Event: event, EventPattern: '{"source":[{"numeric":["<"]}]}' })));

    // Assess
    expect(matched.Result).toBe(true);
    expect(unmatched.Result).toBe(false);
    expect(invalid.name).toBe('InvalidEventPatternException');
  });

  it('ListArchives, DescribeArchive, StartReplay, DescribeReplay and ListReplays replay the archive', async () => {
    // Prepare
    const archiveName = physicalId('WimsEventArchive');

    // Act
    const { Archives = [] } = await events.send(new ListArchivesCommand({}));
    const archive = await events.send(new DescribeArchiveCommand({ ArchiveName: archiveName }));
    const started = await events.send(new StartReplayCommand({
      ReplayName: 'endpoint-replay',
      EventSourceArn: archive.ArchiveArn,
      EventStartTime: new Date(Date.now() - 3_600_000),
      EventEndTime: new Date(),
      Destination: { Arn: arnOf('WimsEventBus') },
    }));
    const replay = await waitUntil(async () => {
      const described = await events.send(new DescribeReplayCommand({ ReplayName: 'endpoint-replay' }));
      return described.State === 'COMPLETED' && described;
    }, { description: 'the replay COMPLETED' });
    const { Replays = [] } = await events.send(new ListReplaysCommand({}));
    const again = await failure(events.send(new StartReplayCommand({
      ReplayName: 'endpoint-replay', EventSourceArn: archive.ArchiveArn, EventStartTime: new Date(0), EventEndTime: new Date(), Destination: { Arn: arnOf('WimsEventBus') },
    })));

    // Assess
    expect(Archives.map((entry) => entry.ArchiveName)).toContain(archiveName);
    expect(archive.RetentionDays).toBe(30);
    expect(started.State).toBe('STARTING');
    expect(replay.EventSourceArn).toBe(archive.ArchiveArn);
    expect(Replays.map((entry) => entry.ReplayName)).toContain('endpoint-replay');
    expect(again.name).toBe('ResourceAlreadyExistsException');
  });

  it('an operation the endpoint does not emulate answers UnsupportedOperation, "not supported locally: events.<operation>"', async () => {
    // Act
    const unsupported = await failure(events.send(new DeleteRuleCommand({ Name: 'any' })));

    // Assess
    expect(unsupported.name).toBe('UnsupportedOperation');
    expect(unsupported.message).toBe('not supported locally: events.DeleteRule');
  });

  it('ListApiDestinations and ListConnections show the payment provider destination and its connection', async () => {
    // Act
    const { ApiDestinations = [] } = await events.send(new ListApiDestinationsCommand({}));
    const { Connections = [] } = await events.send(new ListConnectionsCommand({}));

    // Assess
    expect(ApiDestinations).toEqual([expect.objectContaining({ ApiDestinationArn: arnOf('PaymentProviderDestination'), InvocationRateLimitPerSecond: 5 })]);
    expect(Connections).toEqual([expect.objectContaining({ ConnectionArn: arnOf('PaymentProviderConnection'), ConnectionState: 'AUTHORIZED' })]);
  });
});

describe('Step Functions through the endpoint', () => {
  let sfn: SFNClient;
  // StartSyncExecution goes to the `sync-` host prefix on AWS; the endpoint is one host.
  beforeAll(() => { sfn = new SFNClient({ ...config, disableHostPrefix: true }); });
  afterAll(() => sfn.destroy());

  it('ListStateMachines and DescribeStateMachine describe the template workflows', async () => {
    // Act
    const { stateMachines = [] } = await sfn.send(new ListStateMachinesCommand({}));
    const described = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: arnOf('ReconcilerStateMachine') }));
    const missing = await failure(sfn.send(new DescribeStateMachineCommand({ stateMachineArn: `${arnOf('ReconcilerStateMachine')}-missing` })));

    // Assess
    expect(stateMachines.map((machine) => machine.stateMachineArn)).toEqual(expect.arrayContaining(
      ['OrdersStateMachine', 'FulfillmentStateMachine', 'ReconcilerStateMachine'].map(arnOf),
    ));
    expect(described.type).toBe('EXPRESS');
    expect(JSON.parse(described.definition!)).toHaveProperty('StartAt');
    expect(missing.name).toBe('StateMachineDoesNotExist');
  });

  it('StartExecution, DescribeExecution, ListExecutions and GetExecutionHistory follow one execution', async () => {
    // Act
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: arnOf('ReconcilerStateMachine'), name: 'endpoint-run', input: '{}' }));
    const finished = await waitUntil(async () => {
      const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      return described.status !== 'RUNNING' && described;
    }, { description: 'the execution to finish' });
    const { executions = [] } = await sfn.send(new ListExecutionsCommand({ stateMachineArn: arnOf('ReconcilerStateMachine') }));
    const { events = [] } = await sfn.send(new GetExecutionHistoryCommand({ executionArn }));
    const badInput = await failure(sfn.send(new StartExecutionCommand({ stateMachineArn: arnOf('ReconcilerStateMachine'), input: '{not json' })));
    const unknown = await failure(sfn.send(new DescribeExecutionCommand({ executionArn: `${executionArn}-missing` })));

    // Assess
    expect(finished.status).toBe('SUCCEEDED');
    expect(finished.startDate).toBeInstanceOf(Date);
    expect(executions.map((execution) => execution.executionArn)).toContain(executionArn);
    expect(events[0]).toEqual(expect.objectContaining({ type: 'ExecutionStarted', id: 1, executionStartedEventDetails: { input: '{}' } }));
    expect(events.at(-1)?.type).toBe('ExecutionSucceeded');
    expect(events.some((event) => event.type === 'TaskStateEntered' && event.stateEnteredEventDetails?.name !== undefined)).toBe(true);
    expect(badInput.name).toBe('InvalidExecutionInput');
    expect(unknown.name).toBe('ExecutionDoesNotExist');
  });

  it('StartSyncExecution runs an Express workflow to its end', async () => {
    // Act
    const result = await sfn.send(new StartSyncExecutionCommand({ stateMachineArn: arnOf('ReconcilerStateMachine'), input: '{}' }));

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(JSON.parse(result.output!)).toBeDefined();
  });
});

describe('Lambda through the endpoint', () => {
  let lambda: LambdaClient;
  beforeAll(() => { lambda = new LambdaClient(config); });
  afterAll(() => lambda.destroy());
  const clock = (): string => physicalId('ReconcilerClockFunction');

  it('ListFunctions and GetFunction describe the template functions', async () => {
    // Act
    const { Functions = [] } = await lambda.send(new ListFunctionsCommand({}));
    const { Configuration } = await lambda.send(new GetFunctionCommand({ FunctionName: clock() }));
    const missing = await failure(lambda.send(new GetFunctionCommand({ FunctionName: 'no-such-function' })));

    // Assess
    expect(Functions.map((fn) => fn.FunctionName)).toContain(clock());
    expect(Configuration).toEqual(expect.objectContaining({ FunctionArn: arnOf('ReconcilerClockFunction'), Runtime: 'nodejs22.x', Version: '$LATEST' }));
    expect(missing.name).toBe('ResourceNotFoundException');
    expect(missing.$metadata?.httpStatusCode).toBe(404);
  });

  it('Invoke (RequestResponse, LogType Tail) returns the payload and the log tail', async () => {
    // Act
    const result = await lambda.send(new InvokeCommand({ FunctionName: clock(), Payload: JSON.stringify({ deadlineSeconds: 600 }), LogType: 'Tail' }));

    // Assess
    expect(result.StatusCode).toBe(200);
    expect(result.FunctionError).toBeUndefined();
    expect(JSON.parse(Buffer.from(result.Payload!).toString())).toEqual({ nowMs: expect.any(String), cutoffMs: expect.any(String) });
    expect(result.LogResult).toBeDefined();
  });

  it('Invoke reports a function error as Lambda does: 200, FunctionError Unhandled, the error as payload', async () => {
    // Act
    const result = await lambda.send(new InvokeCommand({ FunctionName: clock(), Payload: JSON.stringify({ deadlineSeconds: -1 }), LogType: 'Tail' }));

    // Assess
    expect(result.StatusCode).toBe(200);
    expect(result.FunctionError).toBe('Unhandled');
    expect(JSON.parse(Buffer.from(result.Payload!).toString())).toEqual(expect.objectContaining({ errorType: 'InvalidInputError' }));
    expect(Buffer.from(result.LogResult!, 'base64').toString()).toContain('deadlineSeconds');
  });

  it('Invoke with InvocationType Event answers 202 and runs the function; DryRun answers 204 and runs nothing', async () => {
    // Prepare
    const before = stack.stack.lambda.stats()[clock()]!.invocations;

    // Act
    const queued = await lambda.send(new InvokeCommand({ FunctionName: clock(), InvocationType: 'Event', Payload: JSON.stringify({ deadlineSeconds: 1 }) }));
    const dry = await lambda.send(new InvokeCommand({ FunctionName: clock(), InvocationType: 'DryRun' }));

    // Assess
    expect(queued.StatusCode).toBe(202);
    expect(dry.StatusCode).toBe(204);
    await waitUntil(() => stack.stack.lambda.stats()[clock()]!.invocations === before + 1, { description: 'the Event invocation to run' });
  });
});

describe('CloudWatch Logs through the endpoint', () => {
  let logs: CloudWatchLogsClient;
  const group = (): string => `/aws/lambda/${physicalId('ReconcilerClockFunction')}`;
  beforeAll(async () => {
    logs = new CloudWatchLogsClient(config);
    // A line in the function's group: its error log for an invalid input.
    await stack.stack.lambda.invoke(physicalId('ReconcilerClockFunction'), { deadlineSeconds: 'soon' });
  });
  afterAll(() => logs.destroy());

  it('DescribeLogGroups lists the template groups (before their first line) and the functions groups', async () => {
    // Act
    const { logGroups = [] } = await logs.send(new DescribeLogGroupsCommand({}));

    // Assess
    expect(logGroups).toEqual(expect.arrayContaining([
      expect.objectContaining({ logGroupName: physicalId('OrdersStateMachineLogGroup'), retentionInDays: 14 }),
      expect.objectContaining({ logGroupName: group() }),
    ]));
  });

  it('DescribeLogStreams and GetLogEvents read a group line by line', async () => {
    // Act
    const { logStreams = [] } = await logs.send(new DescribeLogStreamsCommand({ logGroupName: group() }));
    const page = await logs.send(new GetLogEventsCommand({ logGroupName: group(), logStreamName: logStreams[0]!.logStreamName, startFromHead: true }));
    const again = await logs.send(new GetLogEventsCommand({
      logGroupName: group(), logStreamName: logStreams[0]!.logStreamName, nextToken: page.nextForwardToken,
    }));
    const missing = await failure(logs.send(new DescribeLogStreamsCommand({ logGroupName: '/no/such/group' })));

    // Assess
    expect(logStreams).toHaveLength(1);
    expect(page.events!.some((event) => event.message!.includes('deadlineSeconds'))).toBe(true);
    expect(again.events).toEqual([]);
    expect(again.nextForwardToken).toBe(page.nextForwardToken);
    expect(missing.name).toBe('ResourceNotFoundException');
  });

  it('FilterLogEvents keeps the lines with every term of the pattern, from startTime on', async () => {
    // Act
    const matching = await logs.send(new FilterLogEventsCommand({ logGroupName: group(), filterPattern: 'deadlineSeconds "must be a number"' }));
    const none = await logs.send(new FilterLogEventsCommand({ logGroupName: group(), filterPattern: 'deadlineSeconds', startTime: Date.now() + 60_000 }));
    const unsupported = await failure(logs.send(new FilterLogEventsCommand({ logGroupName: group(), filterPattern: '{ $.level = "ERROR" }' })));

    // Assess
    expect(matching.events!.length).toBeGreaterThan(0);
    expect(matching.events!.every((event) => event.message!.includes('must be a number'))).toBe(true);
    expect(none.events).toEqual([]);
    expect(unsupported.name).toBe('InvalidParameterException');
  });
});

describe('Pipes through the endpoint', () => {
  let pipes: PipesClient;
  let sqs: SQSClient;
  beforeAll(() => {
    pipes = new PipesClient(config);
    sqs = new SQSClient(config);
  });
  afterAll(() => {
    pipes.destroy();
    sqs.destroy();
  });

  it('ListPipes and DescribePipe describe the template pipes', async () => {
    // Act
    const { Pipes = [] } = await pipes.send(new ListPipesCommand({}));
    const described = await pipes.send(new DescribePipeCommand({ Name: physicalId('PaymentsPipe') }));
    const missing = await failure(pipes.send(new DescribePipeCommand({ Name: 'no-such-pipe' })));

    // Assess
    expect(Pipes.map((pipe) => pipe.Name)).toEqual(expect.arrayContaining(['CdcPipe', 'PaymentsPipe', 'FulfillmentHandoffPipe'].map(physicalId)));
    expect(described).toEqual(expect.objectContaining({ CurrentState: 'RUNNING', Source: arnOf('PaymentsQueue'), Target: arnOf('PaymentProviderDestination') }));
    expect(described.SourceParameters?.SqsQueueParameters?.BatchSize).toBe(1);
    expect(missing.name).toBe('NotFoundException');
  });

  it('StopPipe stops reading the source; StartPipe reads it again', async () => {
    // Prepare
    const name = physicalId('PaymentsPipe');
    const pipe = stack.stack.pipes.get(name)!;

    // Act
    const stopped = await pipes.send(new StopPipeCommand({ Name: name }));
    const batchesWhileStopped = pipe.stats.batches;
    await sqs.send(new SendMessageCommand({ QueueUrl: physicalId('PaymentsQueue'), MessageBody: '{"orderId":"endpoint-test","quantity":1}' }));
    const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: physicalId('PaymentsQueue'), AttributeNames: ['ApproximateNumberOfMessages'] }));
    const described = await pipes.send(new DescribePipeCommand({ Name: name }));
    const started = await pipes.send(new StartPipeCommand({ Name: name }));

    // Assess
    expect(stopped).toEqual(expect.objectContaining({ DesiredState: 'STOPPED', CurrentState: 'STOPPED' }));
    expect(described.CurrentState).toBe('STOPPED');
    expect(Attributes.ApproximateNumberOfMessages).toBe('1');
    expect(pipe.stats.batches).toBe(batchesWhileStopped);
    expect(started).toEqual(expect.objectContaining({ DesiredState: 'RUNNING', CurrentState: 'RUNNING' }));
    await waitUntil(() => pipe.stats.batches + pipe.stats.failures > batchesWhileStopped, { description: 'the started pipe to take the message' });
  });
});

describe('CloudFormation through the endpoint', () => {
  let cloudformation: CloudFormationClient;
  beforeAll(() => { cloudformation = new CloudFormationClient(config); });
  afterAll(() => cloudformation.destroy());

  it('DescribeStacks returns the stack with its Outputs resolved locally and NoEcho parameters masked', async () => {
    // Act
    const { Stacks = [] } = await cloudformation.send(new DescribeStacksCommand({ StackName: 'wims-endpoint-sdk' }));
    const missing = await failure(cloudformation.send(new DescribeStacksCommand({ StackName: 'no-such-stack' })));

    // Assess
    expect(Stacks).toHaveLength(1);
    expect(Stacks[0]!.StackStatus).toBe('CREATE_COMPLETE');
    expect(Stacks[0]!.Outputs).toEqual(expect.arrayContaining([
      { OutputKey: 'TableName', OutputValue: stack.table },
      { OutputKey: 'OrdersApiUrl', OutputValue: stack.stack.outputs.OrdersApiUrl, Description: expect.stringContaining('orders API') },
    ]));
    expect(Stacks[0]!.Parameters).toEqual(expect.arrayContaining([{ ParameterKey: 'PaymentWebhookSecret', ParameterValue: '****' }]));
    expect(missing.name).toBe('ValidationError');
  });

  it('ListStackResources and DescribeStackResource name each resource physical id', async () => {
    // Act
    const { StackResourceSummaries = [] } = await cloudformation.send(new ListStackResourcesCommand({ StackName: 'wims-endpoint-sdk' }));
    const { StackResourceDetail } = await cloudformation.send(new DescribeStackResourceCommand({ StackName: 'wims-endpoint-sdk', LogicalResourceId: 'WimsTable' }));
    const missing = await failure(cloudformation.send(new DescribeStackResourceCommand({ StackName: 'wims-endpoint-sdk', LogicalResourceId: 'NoSuchResource' })));

    // Assess
    expect(StackResourceSummaries).toEqual(expect.arrayContaining([
      expect.objectContaining({ LogicalResourceId: 'PaymentsQueue', PhysicalResourceId: physicalId('PaymentsQueue'), ResourceType: 'AWS::SQS::Queue' }),
    ]));
    expect(StackResourceDetail).toEqual(expect.objectContaining({ PhysicalResourceId: stack.table, ResourceType: 'AWS::DynamoDB::Table', ResourceStatus: 'CREATE_COMPLETE' }));
    expect(missing.name).toBe('ValidationError');
  });
});

describe('API Gateway through the endpoint', () => {
  let apigateway: APIGatewayClient;
  beforeAll(() => { apigateway = new APIGatewayClient(config); });
  afterAll(() => apigateway.destroy());

  it('GetRestApis and GetStages list the served APIs and their stages', async () => {
    // Prepare
    const ordersApi = physicalId('OrdersApi');

    // Act
    const { items = [] } = await apigateway.send(new GetRestApisCommand({}));
    const { item: stages = [] } = await apigateway.send(new GetStagesCommand({ restApiId: ordersApi }));
    const missing = await failure(apigateway.send(new GetStagesCommand({ restApiId: 'nosuchapi' })));

    // Assess
    expect(items.map((api) => api.id)).toEqual(expect.arrayContaining([ordersApi, physicalId('PaymentsProviderApi')]));
    expect(stages.map((stage) => stage.stageName)).toContain('dev');
    expect(missing.name).toBe('NotFoundException');
  });
});

describe('CloudWatch through the endpoint', () => {
  let cloudwatch: CloudWatchClient;
  beforeAll(async () => {
    cloudwatch = new CloudWatchClient(config);
    // An order's INSERT through the CDC enrichment: it emits WIMS OrdersCreated in EMF.
    await stack.stack.lambda.invoke(physicalId('CdcEnrichmentFunction'), loadEvent('cdc-enrichment/order-inserted.json'));
  });
  afterAll(() => cloudwatch.destroy());

  it('ListMetrics and GetMetricData read the EMF metrics the functions emit', async () => {
    // Act
    const { Metrics = [] } = await cloudwatch.send(new ListMetricsCommand({ Namespace: 'WIMS', MetricName: 'OrdersCreated' }));
    const { MetricDataResults = [] } = await cloudwatch.send(new GetMetricDataCommand({
      StartTime: new Date(Date.now() - 600_000),
      EndTime: new Date(Date.now() + 60_000),
      MetricDataQueries: [{ Id: 'created', MetricStat: { Metric: Metrics[0], Period: 60, Stat: 'Sum' } }],
    }));
    const unsupported = await failure(cloudwatch.send(new GetMetricDataCommand({
      StartTime: new Date(0), EndTime: new Date(), MetricDataQueries: [{ Id: 'math', Expression: 'SUM(METRICS())' }],
    })));

    // Assess
    expect(Metrics).toHaveLength(1);
    expect(MetricDataResults[0]!.Values!.reduce((sum, value) => sum + value, 0)).toBeGreaterThanOrEqual(1);
    expect(MetricDataResults[0]!.Timestamps![0]).toBeInstanceOf(Date);
    expect(unsupported.name).toBe('InvalidParameterValueException');
    expect(unsupported.message).toContain('metric math');
  });

  it('DescribeAlarms evaluates each alarm from the metrics: a failed orders workflow puts OrdersWorkflowFailedAlarm in ALARM', async () => {
    // Prepare
    const alarmName = physicalId('OrdersWorkflowFailedAlarm');
    const before = await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: [alarmName] }));

    // Act: an execution without the order it needs fails.
    const failed = await stack.stack.stepFunctions.registry.startExecution(arnOf('OrdersStateMachine'), {});
    const after = await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: [alarmName] }));
    const all = await cloudwatch.send(new DescribeAlarmsCommand({}));

    // Assess
    expect(before.MetricAlarms?.[0]?.StateValue).toBe('OK');
    expect(failed.status).toBe('FAILED');
    expect(after.MetricAlarms?.[0]).toEqual(expect.objectContaining({ StateValue: 'ALARM', MetricName: 'ExecutionsFailed', Namespace: 'AWS/States' }));
    expect(all.MetricAlarms?.length).toBe(stack.stack.template.resourcesOfType('AWS::CloudWatch::Alarm').length);
  });
});
