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
  it(`prints at most ${MAX_SUMMARY_LINES} lines: the APIs, the endpoints, the outbox and one "not emulated" line`, async () => {
    // Act
    const lines = await startUp();

    // Assess
    expect(lines.length).toBeLessThanOrEqual(MAX_SUMMARY_LINES);
    expect(lines.filter((line) => line.includes('not emulated:'))).toHaveLength(1);
    expect(lines.join('\n')).toMatch(/API OrdersApi +http:\/\/127\.0\.0\.1:\d+/);
    expect(lines.join('\n')).toContain('E-mail outbox');
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
