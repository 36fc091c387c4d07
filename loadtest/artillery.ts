/**
 * Runs Artillery's CLI on loadtest/orders.yml as a child process (its own CPU shows as its own)
 * and follows the JSONL file its processor appends to while it runs.
 */
import { spawn } from 'node:child_process';
import { closeSync, createWriteStream, openSync, readFileSync, readSync, fstatSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
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

/** Starts `artillery run`: its process id, and a promise of how it ended. */
export function runArtillery(run: ArtilleryRun): { pid: number | undefined; done: Promise<ArtilleryOutcome> } {
  const args = [artilleryBin(), 'run', '--output', run.reportFile];
  if (run.aws) args.push('--environment', 'aws');
  else args.push('--target', run.target);
  if (run.overrides) args.push('--overrides', JSON.stringify(run.overrides));
  if (run.variables) args.push('--variables', JSON.stringify(run.variables));
  args.push(run.script);
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      ARTILLERY_DISABLE_TELEMETRY: 'true',
      WIMS_LOADTEST_RECORD: run.recordFile,
      ...(run.aws ? { WIMS_API_URL: run.target } : {}),
      ...(run.skipChecks ? { ARTILLERY_DISABLE_ENSURE: 'true' } : {}),
    },
  });
  const log = createWriteStream(run.logFile);
  let output = '';
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      log.write(chunk);
    });
  }
  const done = new Promise<ArtilleryOutcome>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (exitCode) => {
      log.end();
      // The checks follow a "Checks:" line: "ok: …" / "fail: …" (coloured).
      const lines = output.replace(/\x1b\[[0-9;]*m/g, '').split('\n');
      const checks = lines.filter((line) => /^\s*(ok|fail): /.test(line)).map((line) => line.trim());
      resolve({ exitCode, checks });
    });
  });
  return { pid: child.pid, done };
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
