/**
 * `wims up` as a user starts it: a child process running bin/wims.js. Without --verbose it prints
 * a short summary (at most 10 lines up to "ready"), with one "not emulated:" line and never
 * Description or Tags; --verbose adds the per-resource lines. `wims schedule fire` reaches the
 * running stack's schedules.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CloudFormationClient, DescribeStackResourceCommand } from '@aws-sdk/client-cloudformation';
import { ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { localClientConfig } from '../../../local/net.js';

const MAX_SUMMARY_LINES = 10;
let child: ChildProcess | undefined;
let stateDir: string | undefined;

/** Starts `wims up` on free ports and resolves with what it printed up to and including "ready". */
function startUp(...flags: string[]): Promise<string[]> {
  stateDir = mkdtempSync(join(tmpdir(), 'wims-cli-'));
  child = spawn(process.execPath, ['bin/wims.js', 'up', '--in-memory', '--port', '0', '--aws-port', '0', '--state-dir', stateDir, ...flags], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    child!.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const lines = output.split('\n');
      const ready = lines.findIndex((line) => line.startsWith('ready in'));
      if (ready >= 0) resolve(lines.slice(0, ready + 1));
    });
    child!.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString('utf8'); });
    child!.on('exit', (code) => reject(new Error(`wims up exited with ${code} before it was ready:\n${output}`)));
  });
}

afterEach(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  child = undefined;
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
}, 30_000);

describe('wims up', () => {
  it(`prints at most ${MAX_SUMMARY_LINES} lines: the APIs, the endpoints, the outbox, the dashboard and one "not emulated" line`, async () => {
    // Act
    const lines = await startUp();

    // Assess
    expect(lines.length).toBeLessThanOrEqual(MAX_SUMMARY_LINES);
    expect(lines.filter((line) => line.includes('not emulated:'))).toHaveLength(1);
    expect(lines.join('\n')).toMatch(/API OrdersApi +http:\/\/127\.0\.0\.1:\d+/);
    expect(lines.join('\n')).toContain('E-mail outbox');
    expect(lines.join('\n')).toMatch(/Dashboard +http:\/\/127\.0\.0\.1:\d+\//);
    expect(lines.join('\n')).toContain('RoleArn (OrdersStateMachine, FulfillmentStateMachine, ReconcilerStateMachine)');
    expect(lines.join('\n')).not.toMatch(/Description|Tags/);
  }, 60_000);

  it('prints a line per resource created with --verbose', async () => {
    // Act
    const lines = await startUp('--verbose');

    // Assess
    expect(lines).toContain('  [dynamodb] created table wims-local-WimsTable');
    expect(lines.length).toBeGreaterThan(MAX_SUMMARY_LINES);
  }, 60_000);
});

describe('wims schedule fire', () => {
  const wims = (...args: string[]) => promisify(execFile)(process.execPath, ['bin/wims.js', ...args, '--state-dir', stateDir!]);

  it('fires a schedule of the running stack, and names the schedules when asked for something else', async () => {
    // Prepare
    await startUp('--template', 'tests/local/fixtures/schedules.yaml');

    // Act
    const fired = await wims('schedule', 'fire', 'NightlySchedule');
    const firedRule = await wims('schedule', 'fire', 'HourlyRule');
    const refused = await wims('schedule', 'fire', 'Ticks').catch((error: { stderr: string }) => error);

    // Assess
    expect(fired.stdout.trim()).toBe('fired NightlySchedule');
    expect(firedRule.stdout.trim()).toBe('fired HourlyRule');
    expect('stderr' in refused && refused.stderr).toContain('Ticks is not a schedule of this template (schedules: NightlySchedule, HourlyRule)');
  }, 60_000);

  it("runs the template's reconciler at once", async () => {
    // Prepare
    await startUp();

    // Act
    const fired = await wims('schedule', 'fire', 'ReconcilerSchedule');

    // Assess: the schedule started the reconciler (StartExecution accepted, as Scheduler reports it).
    expect(fired.stdout.trim()).toBe('fired ReconcilerSchedule');
  }, 60_000);
});

describe('wims env', () => {
  const wims = (env: NodeJS.ProcessEnv, ...args: string[]) =>
    promisify(execFile)(process.execPath, ['bin/wims.js', 'env', ...args, '--state-dir', stateDir!], { env: { ...process.env, ...env } });

  it('points the AWS CLI and SDKs at the running stack endpoint, the one `wims up` printed', async () => {
    // Prepare
    const lines = await startUp();
    const printed = /AWS endpoint +(http:\/\/127\.0\.0\.1:\d+)/.exec(lines.join('\n'))?.[1];

    // Act
    const { stdout } = await wims({});

    // Assess
    expect(printed).toBeDefined();
    expect(stdout.trim()).toBe(`export AWS_ENDPOINT_URL=${printed} AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local`);
  }, 60_000);

  it('names the fixed default port when no stack runs, or the one WIMS_AWS_PORT or --aws-port gives', async () => {
    // Prepare
    stateDir = mkdtempSync(join(tmpdir(), 'wims-cli-'));

    // Act
    const fixed = await wims({ WIMS_AWS_PORT: '' });
    const fromVariable = await wims({ WIMS_AWS_PORT: '4600' });
    const fromFlag = await wims({ WIMS_AWS_PORT: '4600' }, '--aws-port', '4601');

    // Assess
    expect(fixed.stdout).toContain('AWS_ENDPOINT_URL=http://127.0.0.1:4580 ');
    expect(fromVariable.stdout).toContain('AWS_ENDPOINT_URL=http://127.0.0.1:4600 ');
    expect(fromFlag.stdout).toContain('AWS_ENDPOINT_URL=http://127.0.0.1:4601 ');
  }, 30_000);
});

describe('wims invoke and wims replay, through the running stack AWS endpoint', () => {
  const wims = (...args: string[]) => promisify(execFile)(process.execPath, ['bin/wims.js', ...args, '--state-dir', stateDir!]);

  it('invokes a function by logical id (DescribeStackResource, then Lambda Invoke), and reports a function error with exit code 1', async () => {
    // Prepare
    await startUp();

    // Act
    const invoked = await wims('invoke', 'ReconcilerClockFunction', '-e', 'events/reconciler-clock/read-clock.json');
    const refused = await wims('invoke', 'NoSuchFunction', '-e', 'events/reconciler-clock/read-clock.json').catch((error: { stderr: string; code: number }) => error);

    // Assess
    expect(JSON.parse(invoked.stdout)).toEqual({ ok: true, payload: { nowMs: expect.any(String), cutoffMs: expect.any(String) } });
    expect('code' in refused && refused.code).toBe(1);
    expect('stderr' in refused && refused.stderr).toContain('NoSuchFunction is not a resource of this template');
  }, 60_000);

  it('replays the template archive (StartReplay, then DescribeReplay until it completed)', async () => {
    // Prepare
    await startUp();

    // Act
    const replayed = await wims('replay');

    // Assess
    expect(replayed.stdout).toMatch(/^replay wims-\d+ completed/);
  }, 60_000);
});

describe('wims dlq redrive, through the running stack AWS endpoint', () => {
  const wims = (...args: string[]) => promisify(execFile)(process.execPath, ['bin/wims.js', ...args, '--state-dir', stateDir!]);

  it('moves a dead-letter queue\'s messages to the queue whose RedrivePolicy names it, and refuses a queue that is nobody\'s dead-letter queue', async () => {
    // Prepare: a template whose dead-letter queue nothing consumes, three dead letters in it
    const lines = await startUp('--template', 'tests/local/fixtures/dashboard-dlq.yaml');
    const endpoint = /AWS endpoint +(http:\/\/127\.0\.0\.1:\d+)/.exec(lines.join('\n'))![1]!;
    const config = localClientConfig(endpoint, 'us-east-1');
    const cloudformation = new CloudFormationClient(config);
    const sqs = new SQSClient(config);
    const urlOf = async (logicalId: string) =>
      (await cloudformation.send(new DescribeStackResourceCommand({ StackName: 'wims-local', LogicalResourceId: logicalId }))).StackResourceDetail!.PhysicalResourceId!;
    try {
      const entries = ['a', 'b', 'c'].map((body) => ({ Id: body, MessageBody: body }));
      await sqs.send(new SendMessageBatchCommand({ QueueUrl: await urlOf('WorkDeadLetterQueue'), Entries: entries }));

      // Act
      const moved = await wims('dlq', 'redrive', 'WorkDeadLetterQueue');
      const refused = await wims('dlq', 'redrive', 'WorkQueue').catch((error: { stderr: string; code: number }) => error);

      // Assess
      expect(moved.stdout.trim()).toBe('moved 3 messages back to their source queue');
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: await urlOf('WorkQueue'), MaxNumberOfMessages: 10 }));
      expect(Messages.map((message) => message.Body).sort()).toEqual(['a', 'b', 'c']);
      expect('stderr' in refused && refused.stderr).toContain('WorkQueue is the dead-letter queue of 0 queues');
    } finally {
      cloudformation.destroy();
      sqs.destroy();
    }
  }, 60_000);
});
