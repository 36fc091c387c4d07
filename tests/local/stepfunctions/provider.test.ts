/**
 * The Step Functions provider without engines: create-time checks, the context object, the
 * Lambda and EventBridge integrations (through injected callbacks), error naming, and what an
 * execution leaves behind (history, executions.jsonl, log lines, counters).
 */
import { describe, expect, it, afterEach } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogStore } from '../../../local/services/logs/store.js';
import { DYNAMODB_OPTIMIZED, DYNAMODB_SDK, SQS_OPTIMIZED, toTaskFailure } from '../../../local/services/stepfunctions/errors.js';
import type { PutEventsEntry } from '../../../local/services/events/model.js';
import { StepFunctionsProvider } from '../../../local/services/stepfunctions/provider.js';
import type { ExecutionRecord } from '../../../local/services/stepfunctions/registry.js';
import { REGION, stateMachineResource, testContext } from './fixtures.js';

const contexts: Array<ReturnType<typeof testContext>> = [];
const folders: string[] = [];

function context(): ReturnType<typeof testContext> {
  const created = testContext();
  contexts.push(created);
  return created;
}

function tempDir(): string {
  const folder = mkdtempSync(join(tmpdir(), 'sfn-'));
  folders.push(folder);
  return folder;
}

afterEach(async () => {
  for (const created of contexts.splice(0)) await created.stop();
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

const task = (resource: string, extra: Record<string, unknown> = {}) => ({ Type: 'Task', Resource: resource, End: true, ...extra });

describe('create-time checks', () => {
  it('refuses an unknown Task resource, naming the state and the resource', async () => {
    // Prepare
    const provider = new StepFunctionsProvider({ region: REGION, dynamodbEndpoint: 'http://127.0.0.1:1' });
    const resource = stateMachineResource('Broken', { StartAt: 'Charge', States: { Charge: task('arn:aws:states:::stripe:charge') } });

    // Act / Assess
    await expect(provider.create(resource, context())).rejects.toThrow(/Broken.*Task state "Charge": unknown Task resource "arn:aws:states:::stripe:charge"/);
  });

  it('refuses .sync and .waitForTaskToken, and services it was not given', async () => {
    const provider = new StepFunctionsProvider({ region: REGION, dynamodbEndpoint: 'http://127.0.0.1:1' });
    const sync = stateMachineResource('Sync', { StartAt: 'Run', States: { Run: task('arn:aws:states:::states:startExecution.sync:2') } });
    const token = stateMachineResource('Token', { StartAt: 'Wait', States: { Wait: task('arn:aws:states:::sqs:sendMessage.waitForTaskToken') } });
    const sqs = stateMachineResource('Queue', { StartAt: 'Send', States: { Send: task('arn:aws:states:::sqs:sendMessage') } });

    await expect(provider.create(sync, context())).rejects.toThrow(/\.sync:2 integration pattern, which is not supported locally/);
    await expect(provider.create(token, context())).rejects.toThrow(/\.waitForTaskToken integration pattern, which is not supported locally/);
    await expect(provider.create(sqs, context())).rejects.toThrow(/Task state "Send": "arn:aws:states:::sqs:sendMessage" needs an SQS endpoint/);
  });

  it('names the state machine and the variable of a substitution without a value', async () => {
    const provider = new StepFunctionsProvider({ region: REGION });
    const resource = stateMachineResource(
      'Orders',
      { StartAt: 'P', States: { P: { Type: 'Pass', Result: { table: '${TableName}', queue: '${QueueUrl}' }, End: true } } },
      { DefinitionSubstitutions: { TableName: 'wims' } },
    );

    await expect(provider.create(resource, context())).rejects.toThrow(/Orders \(state machine Orders-\w{12}\): the definition uses \$\{QueueUrl\} but DefinitionSubstitutions has no value for QueueUrl/);
  });

  it('refuses state names used twice, even in different branches (tasks are bound by name)', async () => {
    const provider = new StepFunctionsProvider({ region: REGION });
    const branch = (resource: string) => ({ StartAt: 'Work', States: { Work: task(resource) } });
    const resource = stateMachineResource('Fanout', {
      StartAt: 'Both',
      States: { Both: { Type: 'Parallel', Branches: [branch('arn:aws:states:::lambda:invoke'), branch('arn:aws:states:::events:putEvents')], End: true } },
    });

    await expect(provider.create(resource, context())).rejects.toThrow(/Fanout.*invalid definition.*A state with this name already exists: Work/s);
  });

  it('applies substitutions and answers the ARN and name CloudFormation would', async () => {
    const provider = new StepFunctionsProvider({ region: REGION });
    const definition = { StartAt: 'P', States: { P: { Type: 'Pass', Result: { table: '${TableName}', quoted: '${Tricky}' }, End: true } } };
    const generated = await provider.create(
      stateMachineResource('Orders', definition, { DefinitionSubstitutions: { TableName: 'wims-table', Tricky: 'say "hi"' } }),
      context(),
    );
    const otherContext = context();
    const named = await provider.create(
      stateMachineResource('Other', definition, {
        StateMachineName: 'orders', DefinitionSubstitutions: { TableName: 't', Tricky: 'x' }, RoleArn: 'arn:aws:iam::123456789012:role/r', TracingConfiguration: { Enabled: true },
      }),
      otherContext,
    );
    const again = await new StepFunctionsProvider({ region: REGION }).create(
      stateMachineResource('Orders', definition, { DefinitionSubstitutions: { TableName: 'wims-table', Tricky: '' } }),
      context(),
    );

    expect(generated.physicalId).toMatch(/^arn:aws:states:us-east-1:123456789012:stateMachine:Orders-\w{12}$/);
    expect(generated.attributes).toEqual({ Arn: generated.physicalId, Name: generated.physicalId.split(':').pop() });
    expect(again.physicalId).toBe(generated.physicalId);
    expect(named.attributes.Name).toBe('orders');
    expect(otherContext.logged).toContain('not emulated: Other: RoleArn, TracingConfiguration');
    const record = await provider.registry.startExecution(generated.physicalId, {});
    expect(record.output).toEqual({ table: 'wims-table', quoted: 'say "hi"' });
  });
});

describe('executions', () => {
  it('supplies $$.Execution, $$.StateMachine and $$.State, and runs intrinsic functions', async () => {
    // Prepare
    const provider = new StepFunctionsProvider({ region: REGION });
    const { physicalId: arn } = await provider.create(
      stateMachineResource('Context', {
        StartAt: 'First',
        States: {
          First: { Type: 'Pass', Parameters: { 'entered.$': '$$.State.EnteredTime', 'n.$': 'States.MathAdd($.n, 1)' }, ResultPath: '$.first', Next: 'Second' },
          Second: {
            Type: 'Pass',
            Parameters: {
              'executionId.$': '$$.Execution.Id', 'executionName.$': '$$.Execution.Name', 'startTime.$': '$$.Execution.StartTime',
              'machine.$': '$$.StateMachine.Id', 'state.$': '$$.State.Name', 'entered.$': '$$.State.EnteredTime',
              'label.$': "States.Format('order {} of {}', $.first.n, $.n)",
            },
            End: true,
          },
        },
      }),
      context(),
    );

    // Act
    const record = await provider.registry.startExecution(arn, { n: 41 }, { name: 'run-1' });

    // Assess
    const output = record.output as Record<string, string>;
    const entered = (state: string) => record.events.find((event) => event.type === 'PassStateEntered' && event.stateName === state)?.timestamp;
    expect(record.status).toBe('SUCCEEDED');
    expect(output.executionId).toBe(record.executionArn);
    expect(record.executionArn).toMatch(/^arn:aws:states:us-east-1:123456789012:express:Context-\w{12}:run-1:[0-9a-f-]{36}$/);
    expect(output.executionName).toBe('run-1');
    expect(output.machine).toBe(arn);
    expect(output.state).toBe('Second');
    const startTime = output.startTime ?? '';
    expect(startTime >= record.startDate && startTime <= record.stopDate).toBe(true);
    expect(Math.abs(Date.parse(output.entered as string) - Date.parse(entered('Second') ?? ''))).toBeLessThanOrEqual(1);
    expect(output.label).toBe('order 42 of 41');
  });

  it('calls Lambda and EventBridge with the shapes and error names AWS uses, in Parallel branches and Map iterations', async () => {
    // Prepare
    const invoked: Array<[string, unknown]> = [];
    const put: PutEventsEntry[][] = [];
    const provider = new StepFunctionsProvider({
      region: REGION,
      lambda: {
        invoke: async (name, payload) => {
          invoked.push([name, payload]);
          if (name === 'fails') return { ok: false, errorType: 'PaymentDeclined', errorMessage: 'card declined', durationMs: 0 };
          if (name === 'missing') throw Object.assign(new Error('Function not found: missing'), { name: 'ResourceNotFoundException' });
          return { ok: true, payload: { echoed: payload }, durationMs: 0 };
        },
      },
      buses: {
        putEvents: (entries) => {
          put.push(entries);
          return entries.some((entry) => entry.Source === 'bad')
            ? { FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'no' }] }
            : { FailedEntryCount: 0, Entries: entries.map((_, i) => ({ EventId: `id-${i}` })) };
        },
      },
    });
    const lambdaArn = 'arn:aws:lambda:us-east-1:123456789012:function:plain';
    const { physicalId: arn } = await provider.create(
      stateMachineResource('Integrations', {
        StartAt: 'Fan',
        States: {
          Fan: {
            Type: 'Parallel',
            End: true,
            Branches: [
              { StartAt: 'Invoke', States: { Invoke: task('arn:aws:states:::lambda:invoke', { Parameters: { FunctionName: 'echo', 'Payload.$': '$.order' } }) } },
              { StartAt: 'Plain', States: { Plain: task(lambdaArn, { InputPath: '$.order' }) } },
              {
                StartAt: 'Declined',
                States: {
                  Declined: task('arn:aws:states:::lambda:invoke', {
                    Parameters: { FunctionName: 'fails' },
                    Catch: [{ ErrorEquals: ['PaymentDeclined'], Next: 'Missing' }],
                  }),
                  Missing: task('arn:aws:states:::lambda:invoke', {
                    Parameters: { FunctionName: 'missing' },
                    Catch: [{ ErrorEquals: ['Lambda.ResourceNotFoundException'], ResultPath: '$.caught', Next: 'Done' }],
                  }),
                  Done: { Type: 'Pass', End: true },
                },
              },
              {
                StartAt: 'Each',
                States: {
                  Each: {
                    Type: 'Map',
                    ItemsPath: '$.items',
                    End: true,
                    ItemProcessor: {
                      StartAt: 'Emit',
                      States: {
                        Emit: task('arn:aws:states:::events:putEvents', {
                          Parameters: { Entries: [{ Source: 'wims.test', DetailType: 'Item', 'Detail.$': '$' }] },
                          Catch: [{ ErrorEquals: ['EventBridge.FailedEntry'], Next: 'Failed' }],
                          End: true,
                        }),
                        Failed: { Type: 'Pass', Result: 'failed', End: true },
                      },
                    },
                  },
                },
              },
            ],
          },
        },
      }),
      context(),
    );

    // Act
    const record = await provider.registry.startExecution(arn, { order: { id: 7 }, items: [{ n: 1 }, { n: 2 }] });

    // Assess
    expect(record.status).toBe('SUCCEEDED');
    const [invoke, plain, declined, mapped] = record.output as [Record<string, unknown>, unknown, Record<string, unknown>, unknown[]];
    expect(invoke).toMatchObject({ ExecutedVersion: '$LATEST', Payload: { echoed: { id: 7 } }, StatusCode: 200, SdkHttpMetadata: { HttpStatusCode: 200 } });
    expect(plain).toEqual({ echoed: { id: 7 } });
    expect(invoked).toContainEqual([lambdaArn, { id: 7 }]);
    expect(declined.caught).toEqual({
      Error: 'Lambda.ResourceNotFoundException',
      Cause: expect.stringMatching(/^Function not found: missing \(Service: AWSLambda; Error Code: ResourceNotFoundException; .*Proxy: null\)$/),
    });
    expect(mapped).toEqual([
      { Entries: [{ EventId: 'id-0' }], FailedEntryCount: 0 },
      { Entries: [{ EventId: 'id-0' }], FailedEntryCount: 0 },
    ]);
    expect(put[0]?.[0]).toEqual({
      Source: 'wims.test', DetailType: 'Item', Detail: expect.stringMatching(/^\{"n":[12]\}$/), Resources: [arn, record.executionArn],
    });
    const failedDeclined = record.events.find((event) => event.type === 'TaskFailed' && event.stateName === 'Declined');
    expect(failedDeclined).toMatchObject({ error: 'PaymentDeclined', cause: '{"errorType":"PaymentDeclined","errorMessage":"card declined"}' });
    expect(record.events.filter((event) => event.type === 'MapIterationSucceeded').map((event) => event.index).sort()).toEqual([0, 1]);
  });

  it('keeps a bounded history, a JSON-lines file, ERROR log lines and counters, and tells subscribers', async () => {
    // Prepare
    const stateDir = tempDir();
    const provider = new StepFunctionsProvider({ region: REGION, stateDir, logs: new LogStore(join(stateDir, 'logs')), historyLimit: 2 });
    const { physicalId: arn } = await provider.create(
      stateMachineResource(
        'Checked',
        {
          StartAt: 'Check',
          States: {
            Check: { Type: 'Choice', Choices: [{ Variable: '$.ok', BooleanEquals: true, Next: 'Fine' }], Default: 'Refuse' },
            Fine: { Type: 'Succeed' },
            Refuse: { Type: 'Fail', Error: 'Refused', Cause: 'not ok' },
          },
        },
        {
          LoggingConfiguration: {
            Level: 'ERROR',
            IncludeExecutionData: false,
            Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: 'arn:aws:logs:us-east-1:123456789012:log-group:/aws/vendedlogs/states/checked:*' } }],
          },
        },
      ),
      context(),
    );
    const finished: ExecutionRecord[] = [];
    const unsubscribe = provider.registry.onExecutionFinished((record) => finished.push(record));

    // Act
    const records = [
      await provider.registry.startExecution(arn, { ok: true }),
      await provider.registry.startExecution(arn, { ok: false, secret: 'card' }),
      await provider.registry.startExecution(arn, { ok: true }),
    ];
    unsubscribe();
    await provider.registry.startExecution(arn, { ok: true });

    // Assess
    expect(records.map((record) => record.status)).toEqual(['SUCCEEDED', 'FAILED', 'SUCCEEDED']);
    expect(records[1]).toMatchObject({ error: 'Refused', cause: 'not ok' });
    expect(records[1]?.events.map((event) => event.type)).toEqual([
      'ExecutionStarted', 'ChoiceStateEntered', 'ChoiceStateExited', 'FailStateEntered', 'ExecutionFailed',
    ]);
    expect(finished).toEqual(records);
    expect(provider.registry.executions(arn)).toHaveLength(2);
    expect(provider.registry.counters()).toEqual({
      [arn.split(':').pop() ?? '']: { stateMachineArn: arn, type: 'EXPRESS', started: 4, succeeded: 3, failed: 1, timedOut: 0, aborted: 0 },
    });
    const lines = readFileSync(join(stateDir, 'stepfunctions', 'executions.jsonl'), 'utf8').trim().split('\n');
    expect(lines.map((line) => (JSON.parse(line) as ExecutionRecord).status)).toEqual(['SUCCEEDED', 'FAILED', 'SUCCEEDED', 'SUCCEEDED']);
    const logLines = readFileSync(join(stateDir, 'logs', 'aws', 'vendedlogs', 'states', 'checked.log'), 'utf8').trim().split('\n');
    expect(logLines.map((line) => JSON.parse(line) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ type: 'ExecutionFailed', details: { error: 'Refused', cause: 'not ok' }, execution_arn: records[1]?.executionArn }),
    ]);
    expect(logLines.join('\n')).not.toContain('card');
  });
});

describe('ending executions', () => {
  it('times out at TimeoutSeconds, and the runtime stopping aborts what is still running', async () => {
    // Prepare
    const provider = new StepFunctionsProvider({ region: REGION });
    const runtime = context();
    const waiting = (seconds: number, timeout?: number) =>
      stateMachineResource(`Wait${seconds}`, { StartAt: 'Wait', ...(timeout ? { TimeoutSeconds: timeout } : {}), States: { Wait: { Type: 'Wait', Seconds: seconds, End: true } } });
    const { physicalId: timesOut } = await provider.create(waiting(30, 1), runtime);
    const { physicalId: long } = await provider.create(waiting(60), runtime);

    // Act
    const timedOut = await provider.registry.startExecution(timesOut, '{"text": "JSON"}');
    const running = provider.registry.startExecution(long, {});
    await runtime.stop();

    // Assess
    expect(timedOut).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout', input: { text: 'JSON' } });
    expect(timedOut.events.at(-1)?.type).toBe('ExecutionTimedOut');
    expect(await running).toMatchObject({ status: 'ABORTED' });
    await expect(provider.registry.startExecution(long, {})).rejects.toThrow(/State Machine Does Not Exist/);
  });
});

describe('error names', () => {
  const sdkError = (name: string, message: string) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400, requestId: 'REQ1' } });

  it('follows the optimized (DynamoDB.) and AWS SDK (DynamoDb., Exception suffix) conventions', () => {
    expect(toTaskFailure(sdkError('ConditionalCheckFailedException', 'The conditional request failed'), DYNAMODB_OPTIMIZED)).toMatchObject({
      name: 'DynamoDB.ConditionalCheckFailedException',
      message: 'The conditional request failed (Service: AmazonDynamoDBv2; Status Code: 400; Error Code: ConditionalCheckFailedException; Request ID: REQ1; Proxy: null)',
    });
    expect(toTaskFailure(sdkError('RequestLimitExceeded', 'Too many'), DYNAMODB_SDK)).toMatchObject({
      name: 'DynamoDb.RequestLimitExceededException',
      message: 'Too many (Service: DynamoDb, Status Code: 400, Request ID: REQ1)',
    });
    expect(toTaskFailure(new Error('connect ECONNREFUSED 127.0.0.1:1'), SQS_OPTIMIZED)).toMatchObject({
      name: 'SQS.SdkClientException',
      message: 'connect ECONNREFUSED 127.0.0.1:1',
    });
  });
});
