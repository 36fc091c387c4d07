/**
 * CloudWatch Logs and metrics, locally: each log group is a file of lines under the state folder,
 * and every Embedded Metric Format line (what Powertools Metrics prints) is also added up into
 * counters that `wims status` and the benchmark read.
 *
 * LIMITATIONS: no log streams, retention or Insights queries; metrics are plain sums per
 * namespace and name (dimensions and resolution are ignored); counters live in memory and start
 * from zero at each start (the log files persist).
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

interface EmfDirective {
  Namespace: string;
  Metrics: Array<{ Name: string }>;
}

export class LogStore {
  private readonly counters = new Map<string, number>();

  /** @param logsDir folder for the log files; undefined keeps nothing but the metric counters. */
  constructor(private readonly logsDir: string | undefined) {}

  /** Appends one line to a log group (`/aws/lambda/fn` → `<logsDir>/aws/lambda/fn.log`). */
  append(logGroup: string, line: string): void {
    this.recordMetrics(line);
    if (this.logsDir === undefined) return;
    const file = join(this.logsDir, `${logGroup.replace(/^\/+/, '').replace(/[^\w./-]/g, '_')}.log`);
    mkdirSync(dirname(file), { recursive: true });
    appendFileSync(file, line.endsWith('\n') ? line : `${line}\n`);
  }

  /** Metric sums keyed `Namespace/MetricName`. */
  metrics(): Record<string, number> {
    return Object.fromEntries(this.counters);
  }

  private recordMetrics(line: string): void {
    if (!line.includes('"_aws"')) return;
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    const directives = (record._aws as { CloudWatchMetrics?: EmfDirective[] } | undefined)?.CloudWatchMetrics ?? [];
    for (const directive of directives) {
      for (const { Name } of directive.Metrics) {
        const values = record[Name];
        const sum = Array.isArray(values)
          ? values.reduce((total: number, value) => total + Number(value), 0)
          : Number(values ?? 0);
        const key = `${directive.Namespace}/${Name}`;
        this.counters.set(key, (this.counters.get(key) ?? 0) + sum);
      }
    }
  }
}
