/**
 * The README's AWS CLI walk-through, run exactly as it is written (the `bash` block of "The AWS
 * endpoint"), with the pinned AWS CLI from .venv/, against a local stack named as `npm start`
 * names it (on free ports: `npx wims env` reads the port from WIMS_AWS_PORT). Each command's effect
 * is checked: the stack's outputs, the table, the queues, an event that reaches its rule's target,
 * an execution and its history, an invocation with its log tail, the function's logs, and a pipe
 * stopped and started again.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describeWithAwsTools, PROJECT_ROOT, awsToolPath } from '../../helpers/aws-tools.js';
import { startTestStack, type TestStack } from '../../helpers/stack.js';

/** The walk-through: the first `bash` block after the README's "### The AWS endpoint" heading. */
function walkThrough(): string {
  const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### The AWS endpoint'));
  const block = /```bash\n([\s\S]*?)```/.exec(section)?.[1];
  if (block === undefined) throw new Error('README.md has no bash block under "### The AWS endpoint"');
  return block;
}

describeWithAwsTools('the README AWS CLI walk-through', ['aws'], () => {
  let stack: TestStack;
  let stateDir: string;
  let output: string;

  beforeAll(async () => {
    // The name `npm start` gives the stack: the walk-through names it.
    stack = await startTestStack({ stackName: 'wims-local' });
    stateDir = mkdtempSync(join(tmpdir(), 'wims-cli-walkthrough-'));
    const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', walkThrough()], {
      cwd: PROJECT_ROOT,
      env: {
        ...process.env,
        PATH: `${join(awsToolPath('aws'), '..')}:${process.env.PATH ?? ''}`,
        WIMS_AWS_PORT: new URL(stack.stack.endpoints.aws).port,
        // No runtime.json of a running `npm start` here: `wims env` prints the port above.
        WIMS_STATE_DIR: stateDir,
      },
      timeout: 120_000,
    });
    output = stdout;
  }, 240_000);

  afterAll(async () => {
    await stack?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }, 60_000);

  it('reads the stack outputs, the table and the queues', () => {
    expect(output).toContain(`${stack.table}\n`);
    expect(output).toMatch(/"Count": \d+/);
    expect(output).toMatch(/PaymentsQueue/);
  });

  it('puts an event that reaches its rule target: the events log group has it', () => {
    expect(output).toMatch(/"EventId": "[0-9a-f-]{36}"/);
    expect(output).toMatch(/"detail-type":"Readme.Tried"/);
  });

  it('starts an execution and reads its history', () => {
    expect(output).toMatch(/^SUCCEEDED$/m);
    expect(output).toMatch(/^ExecutionStarted\t.*\tExecutionSucceeded$/m);
  });

  it('invokes a function, then makes it fail: its log tail and its log group show the error', () => {
    expect(output).toMatch(/"StatusCode": 200/);
    expect(output).toMatch(/^\{"nowMs":"\d+","cutoffMs":"\d+"\}$/m);
    // Once decoded from the log tail, once from FilterLogEvents.
    expect(output.match(/"message":"Invocation failed"/g)?.length).toBe(2);
    expect(output).toContain('deadlineSeconds must be a number');
  });

  it('stops and starts a pipe', () => {
    expect(output).toMatch(/^STOPPED\nRUNNING$/m);
    expect(stack.stack.pipes.get(stack.stack.resources.get('PaymentsPipe')!.physicalId)!.currentState).toBe('RUNNING');
  });
});
