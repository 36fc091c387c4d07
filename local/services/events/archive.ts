/**
 * EventBridge archives, locally: every event put on the archive's bus that matches its (optional)
 * EventPattern is appended as one JSON line to `<stateDir>/events/archives/<name>.jsonl`, or kept
 * in memory when the runtime has no state folder. Replays read the events back (see
 * `EventBridgeService.replay`).
 *
 * LIMITATIONS: retention is applied when events are read for a replay (older events are skipped,
 * never deleted from the file); the replay window is matched against each event's own `time`;
 * KmsKeyIdentifier is ignored; archive sizes and event counts are not reported.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compilePattern, type EventMatcher } from './pattern.js';
import type { EventEnvelope } from './model.js';

/** The CreateArchive request, with the archive's ARN and where it keeps its events. */
export interface ArchiveOptions {
  name: string;
  arn: string;
  busName: string;
  /** An object or JSON text; every event of the bus when absent. */
  eventPattern?: unknown;
  /** 0 or absent keeps events forever, as on AWS. */
  retentionDays?: number;
  /** The runtime's state folder; the archive lives in memory when undefined. */
  stateDir: string | undefined;
}

const DAY_MS = 86_400_000;

/** One archive of one bus. */
export class EventArchive {
  readonly name: string;
  readonly arn: string;
  readonly busName: string;
  /** The pattern's JSON text, as DescribeArchive returns it. */
  readonly eventPattern: string | undefined;
  readonly retentionDays: number;
  private readonly matches: EventMatcher;
  private readonly file: string | undefined;
  private readonly memory: EventEnvelope[] = [];

  /** Throws `InvalidEventPatternError` for an invalid pattern. */
  constructor(options: ArchiveOptions) {
    this.name = options.name;
    this.arn = options.arn;
    this.busName = options.busName;
    this.eventPattern = options.eventPattern === undefined ? undefined : jsonText(options.eventPattern);
    this.matches = options.eventPattern === undefined ? () => true : compilePattern(options.eventPattern);
    this.retentionDays = options.retentionDays ?? 0;
    if (options.stateDir !== undefined) {
      const dir = join(options.stateDir, 'events', 'archives');
      mkdirSync(dir, { recursive: true });
      this.file = join(dir, `${options.name}.jsonl`);
    }
  }

  /** Archives `event` when it matches the archive's pattern; returns whether it did. */
  offer(event: EventEnvelope): boolean {
    if (!this.matches(event)) return false;
    // Synchronous so that an event is archived before PutEvents returns, as a replay expects.
    if (this.file !== undefined) appendFileSync(this.file, `${JSON.stringify(event)}\n`);
    else this.memory.push(event);
    return true;
  }

  /** The archived events whose time lies in [start, end] and within the retention period, oldest first. */
  async read(start: Date, end: Date): Promise<EventEnvelope[]> {
    const oldest = this.retentionDays > 0 ? Date.now() - this.retentionDays * DAY_MS : -Infinity;
    const from = Math.max(start.getTime(), oldest);
    const events = this.file === undefined ? this.memory : await readLines(this.file);
    return events.filter((event) => {
      const time = Date.parse(event.time);
      return time >= from && time <= end.getTime();
    });
  }
}

async function readLines(file: string): Promise<EventEnvelope[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as EventEnvelope);
}

function jsonText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
