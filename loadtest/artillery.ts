/**
 * Runs Artillery's CLI on loadtest/orders.yml as a child process (its own CPU shows as its own)
 * and follows the JSONL file its processor appends to while it runs.
 */
import { closeSync, createWriteStream, openSync, readFileSync, readSync, fstatSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { parse } from 'yaml';
import type { LaunchReport, LaunchRequest } from './artillery-launcher.js';
import { parseRecords, type OrderRecord } from './stats.js';

/** One Artillery run. */
export interface ArtilleryRun {
  script: string;
  /** Target URL (a local or running stack), or a deployed stack's OrdersApiUrl. */
  target: string;
  /** Use the script's `aws` environment (its target comes from WIMS_API_URL). */
  aws: boolean;
  /** The processor's JSONL file (WIMS_LOADTEST_RECORD). */
  recordFile: string;
  /** Artillery's JSON report (--output). */
  reportFile: string;
  /** Artillery's console output. */
  logFile: string;
  /** Merged into the script (--overrides): e.g. other phases. */
  overrides?: object;
  /** Script variables (--variables). */
  variables?: Record<string, unknown>;
  /** Skip the script's `ensure` checks (their thresholds are the write-up run's). */
  skipChecks?: boolean;
}

/** How an Artillery run ended: its exit code and the lines of its `ensure` checks. */
export interface ArtilleryOutcome {
  exitCode: number | null;
  checks: string[];
}

/** The script's requests: per phase, arrivals × requests per virtual user. */
export function plannedRequests(script: string): number {
  const { config } = parse(readFileSync(script, 'utf8')) as {
    config: { phases: Array<{ arrivalCount?: number; arrivalRate?: number; duration: number }>; variables?: { ordersPerUser?: number } };
  };
  const arrivals = config.phases.reduce((sum, phase) => sum + (phase.arrivalCount ?? (phase.arrivalRate ?? 0) * phase.duration), 0);
  return arrivals * (config.variables?.ordersPerUser ?? 1);
}

function artilleryBin(): string {
  const require = createRequire(import.meta.url);
  const packageJson = require.resolve('artillery/package.json');
  const { bin } = JSON.parse(readFileSync(packageJson, 'utf8')) as { bin: Record<string, string> };
  return join(dirname(packageJson), bin.artillery!);
}

/**
 * Starts Artillery at the CPU priority the benchmark started with, as a user's shell would. A
 * process gets the priority of the thread that starts it, and the local runtime lowers its
 * main thread's (local/priority.ts): so Artillery is started from a thread of its own, created
 * before the stack.
 */
export class ArtilleryLauncher {
  private readonly worker = new Worker(new URL('./artillery-launcher.ts', import.meta.url), { execArgv: [] });

  constructor() {
    this.worker.unref();
  }

  /** Starts `artillery run`: its process id once known, and a promise of how it ended (one run at a time). */
  run(run: ArtilleryRun): { pid(): number | undefined; done: Promise<ArtilleryOutcome> } {
    const args = [artilleryBin(), 'run', '--output', run.reportFile];
    if (run.aws) args.push('--environment', 'aws');
    else args.push('--target', run.target);
    if (run.overrides) args.push('--overrides', JSON.stringify(run.overrides));
    if (run.variables) args.push('--variables', JSON.stringify(run.variables));
    args.push(run.script);
    const request: LaunchRequest = {
      command: process.execPath,
      args,
      env: {
        ...process.env,
        ARTILLERY_DISABLE_TELEMETRY: 'true',
        WIMS_LOADTEST_RECORD: run.recordFile,
        ...(run.aws ? { WIMS_API_URL: run.target } : {}),
        ...(run.skipChecks ? { ARTILLERY_DISABLE_ENSURE: 'true' } : {}),
      },
    };
    const log = createWriteStream(run.logFile);
    let output = '';
    let pid: number | undefined;
    const done = new Promise<ArtilleryOutcome>((resolve, reject) => {
      const receive = (report: LaunchReport): void => {
        if ('pid' in report) pid = report.pid;
        else if ('output' in report) {
          output += Buffer.from(report.output).toString();
          log.write(report.output);
        } else {
          this.worker.off('message', receive);
          this.worker.unref();
          log.end();
          if ('error' in report) {
            reject(new Error(`Artillery did not start: ${report.error}`));
            return;
          }
          // The checks follow a "Checks:" line: "ok: …" / "fail: …" (coloured).
          const lines = output.replace(/\x1b\[[0-9;]*m/g, '').split('\n');
          const checks = lines.filter((line) => /^\s*(ok|fail): /.test(line)).map((line) => line.trim());
          resolve({ exitCode: report.exitCode, checks });
        }
      };
      this.worker.on('message', receive);
    });
    this.worker.ref();
    this.worker.postMessage(request);
    return { pid: () => pid, done };
  }
}

/** Reads the records appended to a JSONL file since the last call. */
export class RecordTail {
  readonly records: OrderRecord[] = [];
  private offset = 0;
  private partial = '';

  constructor(private readonly file: string) {}

  /** Reads what was appended; returns the number of records so far. */
  poll(): number {
    let fd: number;
    try {
      fd = openSync(this.file, 'r');
    } catch {
      return this.records.length; // not created yet: no answer so far
    }
    try {
      const size = fstatSync(fd).size;
      if (size > this.offset) {
        const buffer = Buffer.alloc(size - this.offset);
        readSync(fd, buffer, 0, buffer.length, this.offset);
        this.offset = size;
        const text = this.partial + buffer.toString('utf8');
        this.partial = text.slice(text.lastIndexOf('\n') + 1);
        this.records.push(...parseRecords(text));
      }
    } finally {
      closeSync(fd);
    }
    return this.records.length;
  }
}
