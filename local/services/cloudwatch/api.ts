/**
 * CloudWatch's API (JSON 1.0, target prefix `GraniteServiceVersion20100801`, what the SDK v3
 * client speaks) on the metrics the stack emits: ListMetrics, GetMetricData (MetricStat queries:
 * Sum, Average, Minimum, Maximum, SampleCount) and DescribeAlarms, each alarm's state evaluated
 * from those metrics when asked.
 *
 * The metrics are the functions' Embedded Metric Format lines (logs/store.ts) and, for the
 * workflows, `AWS/States` ExecutionsStarted/Succeeded/Failed/TimedOut/Aborted per StateMachineArn.
 *
 * LIMITATIONS: no other AWS/* metrics (an alarm on AWS/SQS or AWS/Events has no data, and its
 * TreatMissingData decides its state); no metric math expressions, percentiles or pagination; an
 * alarm's state is evaluated over its last EvaluationPeriods periods ending now (DatapointsToAlarm
 * of them breaching, default all) and is not remembered, so no state-change actions run. The AWS
 * CLI speaks CloudWatch's RPC v2 CBOR protocol, which the endpoint does not: use an SDK.
 */
import { AwsApiError, timestamp, type ApiInput, type ServiceOperations } from '../api.js';
import type { Json } from '../../template/parse.js';
import type { MetricDatum } from '../logs/store.js';

type Dimension = { Name: string; Value: string };

/** An alarm of the template, with its resolved properties. */
export interface AlarmDefinition {
  name: string;
  properties: Record<string, Json>;
}

const STATISTICS: Record<string, (values: number[]) => number> = {
  Sum: (values) => values.reduce((sum, value) => sum + value, 0),
  Average: (values) => values.reduce((sum, value) => sum + value, 0) / values.length,
  Minimum: (values) => Math.min(...values),
  Maximum: (values) => Math.max(...values),
  SampleCount: (values) => values.length,
};

const COMPARISONS: Record<string, (value: number, threshold: number) => boolean> = {
  GreaterThanOrEqualToThreshold: (value, threshold) => value >= threshold,
  GreaterThanThreshold: (value, threshold) => value > threshold,
  LessThanThreshold: (value, threshold) => value < threshold,
  LessThanOrEqualToThreshold: (value, threshold) => value <= threshold,
};

function dimensionList(dimensions: Record<string, string>): Dimension[] {
  return Object.entries(dimensions).map(([Name, Value]) => ({ Name, Value })).sort((a, b) => a.Name.localeCompare(b.Name));
}

/** Whether a datum is of the metric (namespace, name, exactly these dimensions). */
function isOf(datum: MetricDatum, namespace: unknown, name: unknown, dimensions: readonly Dimension[]): boolean {
  return datum.namespace === namespace && datum.name === name
    && Object.keys(datum.dimensions).length === dimensions.length
    && dimensions.every((dimension) => datum.dimensions[dimension.Name] === dimension.Value);
}

function statistic(name: unknown): (values: number[]) => number {
  const compute = STATISTICS[String(name)];
  if (compute === undefined) throw new AwsApiError('InvalidParameterValueException', `The statistic ${String(name)} is not supported locally (${Object.keys(STATISTICS).join(', ')} are).`);
  return compute;
}

/**
 * @param datapoints every datum the stack has emitted, oldest first
 * @param alarms the template's alarms
 */
export function cloudWatchApi(datapoints: () => readonly MetricDatum[], alarms: () => AlarmDefinition[], region: string, accountId: string): ServiceOperations {
  /** The values of one metric in [start, end), per period, oldest period first. */
  const series = (metric: { Namespace?: unknown; MetricName?: unknown; Dimensions?: unknown }, start: number, end: number, periodMs: number) => {
    const dimensions = (metric.Dimensions ?? []) as Dimension[];
    const buckets = new Map<number, number[]>();
    for (const datum of datapoints()) {
      if (datum.timestamp < start || datum.timestamp >= end || !isOf(datum, metric.Namespace, metric.MetricName, dimensions)) continue;
      const bucket = start + Math.floor((datum.timestamp - start) / periodMs) * periodMs;
      buckets.set(bucket, [...(buckets.get(bucket) ?? []), datum.value]);
    }
    return buckets;
  };
  const evaluate = (alarm: AlarmDefinition) => {
    const properties = alarm.properties as Record<string, unknown>;
    const periodMs = Number(properties.Period ?? 60) * 1000;
    const periods = Number(properties.EvaluationPeriods ?? 1);
    const toAlarm = Number(properties.DatapointsToAlarm ?? periods);
    const now = Date.now();
    const start = now - periods * periodMs;
    const compute = statistic(properties.Statistic ?? 'Average');
    const compare = COMPARISONS[String(properties.ComparisonOperator)];
    if (compare === undefined) throw new AwsApiError('InvalidParameterValueException', `Alarm ${alarm.name}: ComparisonOperator ${String(properties.ComparisonOperator)} is not supported locally.`);
    const threshold = Number(properties.Threshold);
    const buckets = series(properties, start, now, periodMs);
    const values = [...buckets.values()].map(compute);
    const breaching = values.filter((value) => compare(value, threshold)).length;
    const missing = periods - values.length;
    const treatMissing = String(properties.TreatMissingData ?? 'missing');
    const breachingWithMissing = breaching + (treatMissing === 'breaching' ? missing : 0);
    let state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
    if (values.length === 0 && (treatMissing === 'missing' || treatMissing === 'ignore')) state = 'INSUFFICIENT_DATA';
    else state = breachingWithMissing >= toAlarm ? 'ALARM' : 'OK';
    const reason = values.length === 0
      ? `No datapoints in the last ${periods} period(s) of ${periodMs / 1000} s (TreatMissingData ${treatMissing}).`
      : `${breaching} of ${values.length} datapoint(s) [${values.join(', ')}] ${String(properties.ComparisonOperator)} ${threshold}.`;
    return { state, reason };
  };
  return {
    ListMetrics: (input) => {
      const wanted = (input.Dimensions ?? []) as Dimension[];
      const metrics = new Map<string, { Namespace: string; MetricName: string; Dimensions: Dimension[] }>();
      for (const datum of datapoints()) {
        if (input.Namespace !== undefined && datum.namespace !== input.Namespace) continue;
        if (input.MetricName !== undefined && datum.name !== input.MetricName) continue;
        // A dimension named without a value matches every value of it, as in ListMetrics.
        const matches = (dimension: Dimension): boolean =>
          dimension.Value === undefined ? dimension.Name in datum.dimensions : datum.dimensions[dimension.Name] === dimension.Value;
        if (!wanted.every(matches)) continue;
        const metric = { Namespace: datum.namespace, MetricName: datum.name, Dimensions: dimensionList(datum.dimensions) };
        metrics.set(JSON.stringify(metric), metric);
      }
      return { Metrics: [...metrics.values()] };
    },
    GetMetricData: (input: ApiInput) => {
      const start = timestamp(input, 'StartTime');
      const end = timestamp(input, 'EndTime');
      if (start === undefined || end === undefined) throw new AwsApiError('MissingRequiredParameterException', 'StartTime and EndTime are required.');
      type Query = { Id: string; Label?: string; ReturnData?: boolean; Expression?: string; MetricStat?: Record<string, unknown> };
      const queries = (input.MetricDataQueries ?? []) as Query[];
      const results = queries.filter((query) => query.ReturnData !== false).map((query) => {
        if (query.MetricStat === undefined) throw new AwsApiError('InvalidParameterValueException', `Query ${query.Id}: metric math expressions are not supported locally.`);
        const { Metric = {}, Period, Stat } = query.MetricStat as { Metric?: Record<string, unknown>; Period?: number; Stat?: string };
        const compute = statistic(Stat);
        const periodMs = Number(Period ?? 60) * 1000;
        const points = [...series(Metric, start.getTime(), end.getTime(), periodMs)].map(([bucket, values]) => ({ bucket, value: compute(values) }));
        points.sort((a, b) => (input.ScanBy === 'TimestampAscending' ? a.bucket - b.bucket : b.bucket - a.bucket));
        return {
          Id: query.Id,
          Label: query.Label ?? String(Metric.MetricName),
          Timestamps: points.map((point) => new Date(point.bucket)),
          Values: points.map((point) => point.value),
          StatusCode: 'Complete',
        };
      });
      return { MetricDataResults: results, Messages: [] };
    },
    DescribeAlarms: (input) => {
      const names = input.AlarmNames as string[] | undefined;
      const prefix = typeof input.AlarmNamePrefix === 'string' ? input.AlarmNamePrefix : '';
      const described = alarms()
        .filter((alarm) => (names === undefined || names.includes(alarm.name)) && alarm.name.startsWith(prefix))
        .map((alarm) => {
          const { state, reason } = evaluate(alarm);
          const properties = alarm.properties as Record<string, unknown>;
          return {
            AlarmName: alarm.name,
            AlarmArn: `arn:aws:cloudwatch:${region}:${accountId}:alarm:${alarm.name}`,
            AlarmDescription: properties.AlarmDescription,
            Namespace: properties.Namespace,
            MetricName: properties.MetricName,
            Dimensions: properties.Dimensions ?? [],
            Statistic: properties.Statistic,
            Period: properties.Period,
            EvaluationPeriods: properties.EvaluationPeriods,
            DatapointsToAlarm: properties.DatapointsToAlarm,
            Threshold: properties.Threshold,
            ComparisonOperator: properties.ComparisonOperator,
            TreatMissingData: properties.TreatMissingData,
            ActionsEnabled: properties.ActionsEnabled ?? true,
            AlarmActions: properties.AlarmActions ?? [],
            OKActions: properties.OKActions ?? [],
            StateValue: state,
            StateReason: reason,
            StateUpdatedTimestamp: new Date(),
          };
        });
      const inState = described.filter((alarm) => input.StateValue === undefined || alarm.StateValue === input.StateValue);
      return { MetricAlarms: inState, CompositeAlarms: [] };
    },
  };
}

/** Step Functions' own metrics (AWS/States, per StateMachineArn) from finished executions. */
export function stateMachineMetrics(
  executions: ReadonlyArray<{ stateMachineArn: string; status: string; startDate: string; stopDate: string }>,
): MetricDatum[] {
  const metric = { SUCCEEDED: 'ExecutionsSucceeded', FAILED: 'ExecutionsFailed', TIMED_OUT: 'ExecutionsTimedOut', ABORTED: 'ExecutionsAborted' } as Record<string, string>;
  return executions.flatMap((execution) => {
    const dimensions = { StateMachineArn: execution.stateMachineArn };
    const ended = metric[execution.status];
    return [
      { namespace: 'AWS/States', name: 'ExecutionsStarted', dimensions, timestamp: Date.parse(execution.startDate), value: 1 },
      ...(ended === undefined ? [] : [{ namespace: 'AWS/States', name: ended, dimensions, timestamp: Date.parse(execution.stopDate), value: 1 }]),
    ];
  });
}
