/**
 * CloudWatch Logs and metrics, locally: each log group is a file of lines under the state folder,
 * and every Embedded Metric Format line (what Powertools Metrics prints) is also added up into
 * counters that `wims status` and the benchmark read.
 *
 * The latest lines of each group are also kept in memory with their time, for the CloudWatch Logs
 * API (logs/api.ts) and Lambda's `LogType=Tail`.
 *
 * LIMITATIONS: one log stream per group and run; no retention or Insights queries; the API sees
 * the last {@link EVENTS_KEPT_PER_GROUP} lines of each group of this run (the files keep
 * everything); metrics are plain sums per namespace and name (dimensions and resolution are
 * ignored); counters live in memory and start from zero at each start (the log files persist).
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

interface EmfDirective {
  Namespace: string;
  Dimensions?: string[][];
  Metrics: Array<{ Name: string; Unit?: string }>;
}

/** One EMF value, as CloudWatch keeps it per metric and dimension set (for the CloudWatch API). */
export interface MetricDatum {
  namespace: string;
  name: string;
  dimensions: Record<string, string>;
  /** Epoch milliseconds: the EMF record's `_aws.Timestamp`. */
  timestamp: number;
  value: number;
  unit?: string;
}

/** EMF values kept for the CloudWatch API: a bounded window, like the log lines. */
const DATAPOINTS_KEPT = 100_000;

/** One line of a log group, as the CloudWatch Logs API returns it (times in epoch milliseconds). */
export interface LogEvent {
  timestamp: number;
  ingestionTime: number;
  message: string;
}

/** Lines kept in memory per log group, for the API: a bounded window, so that a long run keeps its memory flat. */
export const EVENTS_KEPT_PER_GROUP = 10_000;

interface GroupEvents {
  creationTime: number;
  events: LogEvent[];
  storedBytes: number;
}

export class LogStore {
  private readonly counters = new Map<string, number>();
  private readonly datapoints: MetricDatum[] = [];
  private readonly groups = new Map<string, GroupEvents>();
  private readonly listeners = new Set<(logGroup: string, event: LogEvent) => void>();

  /** @param logsDir folder for the log files; undefined keeps nothing but the metric counters. */
  constructor(private readonly logsDir: string | undefined) {}

  /** Appends one line to a log group (`/aws/lambda/fn` → `<logsDir>/aws/lambda/fn.log`). */
  append(logGroup: string, line: string): void {
    this.recordMetrics(line);
    this.keep(logGroup, line);
    if (this.logsDir === undefined) return;
    const file = join(this.logsDir, `${logGroup.replace(/^\/+/, '').replace(/[^\w./-]/g, '_')}.log`);
    mkdirSync(dirname(file), { recursive: true });
    appendFileSync(file, line.endsWith('\n') ? line : `${line}\n`);
  }

  /** The groups that have had a line in this run, with when the first came and the bytes kept. */
  logGroups(): Array<{ name: string; creationTime: number; storedBytes: number }> {
    return [...this.groups].map(([name, group]) => ({ name, creationTime: group.creationTime, storedBytes: group.storedBytes }));
  }

  /** The kept lines of a group, oldest first (none for a group without lines). */
  events(logGroup: string): readonly LogEvent[] {
    return this.groups.get(logGroup)?.events ?? [];
  }

  /** Calls `listener` with every line appended from now on; returns the unsubscribe function. */
  onAppend(listener: (logGroup: string, event: LogEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The EMF values kept, oldest first: one per value, metric and dimension set. */
  metricData(): readonly MetricDatum[] {
    return this.datapoints;
  }

  /** Metric sums keyed `Namespace/MetricName`. */
  metrics(): Record<string, number> {
    return Object.fromEntries(this.counters);
  }

  private keep(logGroup: string, line: string): void {
    const now = Date.now();
    let group = this.groups.get(logGroup);
    if (group === undefined) {
      group = { creationTime: now, events: [], storedBytes: 0 };
      this.groups.set(logGroup, group);
    }
    const event: LogEvent = { timestamp: now, ingestionTime: now, message: line.replace(/\n$/, '') };
    group.events.push(event);
    group.storedBytes += Buffer.byteLength(event.message);
    // Trimmed in one go once twice the window is kept, so that each append stays O(1) on average.
    if (group.events.length >= 2 * EVENTS_KEPT_PER_GROUP) group.events.splice(0, group.events.length - EVENTS_KEPT_PER_GROUP);
    for (const listener of this.listeners) listener(logGroup, event);
  }

  private recordMetrics(line: string): void {
    if (!line.includes('"_aws"')) return;
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    const metadata = record._aws as { CloudWatchMetrics?: EmfDirective[]; Timestamp?: number } | undefined;
    const directives = metadata?.CloudWatchMetrics ?? [];
    const timestamp = typeof metadata?.Timestamp === 'number' ? metadata.Timestamp : Date.now();
    for (const directive of directives) {
      // Each dimension set is a metric of its own; a directive without one is the metric without dimensions.
      const dimensionSets = (directive.Dimensions ?? [[]]).map((names) => Object.fromEntries(names.map((name) => [name, String(record[name])])));
      for (const { Name, Unit } of directive.Metrics) {
        const values = record[Name];
        for (const value of [values].flat()) {
          for (const dimensions of dimensionSets) {
            const unit = Unit === undefined ? {} : { unit: Unit };
            this.datapoints.push({ namespace: directive.Namespace, name: Name, dimensions, timestamp, value: Number(value), ...unit });
          }
        }
        if (this.datapoints.length >= 2 * DATAPOINTS_KEPT) this.datapoints.splice(0, this.datapoints.length - DATAPOINTS_KEPT);
        const sum = Array.isArray(values)
          ? values.reduce((total: number, value) => total + Number(value), 0)
          : Number(values ?? 0);
        const key = `${directive.Namespace}/${Name}`;
        this.counters.set(key, (this.counters.get(key) ?? 0) + sum);
      }
    }
  }
}
