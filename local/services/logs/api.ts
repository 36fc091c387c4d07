/**
 * CloudWatch Logs' API (JSON 1.1, target prefix `Logs_20140328`) on the local log store:
 * DescribeLogGroups, DescribeLogStreams, GetLogEvents and FilterLogEvents, which is what
 * `aws logs tail [--follow]` calls (it polls FilterLogEvents from the last event's time on).
 *
 * LIMITATIONS: each group has one stream per run (see store.ts), and the API sees the lines of
 * this run that the store keeps; a filter pattern matches terms and quoted phrases only (every
 * term must appear; `?term` alternatives, `-term` exclusions and JSON or space-delimited patterns
 * are refused with InvalidParameterException); no pagination beyond one page of `limit` events.
 */
import { AwsApiError, requiredString, withPrefix, type ApiInput, type ServiceOperations } from '../api.js';
import type { LogEvent, LogStore } from './store.js';

/** GetLogEvents and FilterLogEvents return at most this many events by default (their API reference). */
const DEFAULT_EVENT_LIMIT = 10_000;

/** A log group declared by the template (AWS::Logs::LogGroup), which exists before it has a line. */
export interface DeclaredLogGroup {
  name: string;
  retentionInDays?: number;
}

/** The terms of a filter pattern: each must appear in the message. */
function filterTerms(pattern: unknown): string[] {
  if (typeof pattern !== 'string' || pattern.trim() === '') return [];
  if (/^\s*[{[]/.test(pattern) || /(^|\s)[?-]/.test(pattern)) {
    throw new AwsApiError('InvalidParameterException', `filterPattern ${pattern}: only terms and quoted phrases are supported locally`);
  }
  return [...pattern.matchAll(/"([^"]*)"|(\S+)/g)].map((match) => match[1] ?? match[2]!);
}

export function logsApi(store: LogStore, declared: () => DeclaredLogGroup[], region: string, accountId: string, startedAt: Date): ServiceOperations {
  const streamName = `local/${startedAt.toISOString().replace(/[:.]/g, '-')}`;
  const arn = (group: string): string => `arn:aws:logs:${region}:${accountId}:log-group:${group}`;
  const groups = () => {
    const seen = new Map(store.logGroups().map((group) => [group.name, group]));
    const names = [...new Set([...declared().map((group) => group.name), ...seen.keys()])].sort();
    return names.map((name) => {
      const retention = declared().find((group) => group.name === name)?.retentionInDays;
      return {
        logGroupName: name,
        arn: `${arn(name)}:*`,
        logGroupArn: arn(name),
        creationTime: seen.get(name)?.creationTime ?? startedAt.getTime(),
        storedBytes: seen.get(name)?.storedBytes ?? 0,
        ...(retention === undefined ? {} : { retentionInDays: retention }),
      };
    });
  };
  const group = (input: ApiInput): string => {
    const name = typeof input.logGroupIdentifier === 'string' ? input.logGroupIdentifier.replace(/^arn:[^:]*:logs:[^:]*:[^:]*:log-group:/, '').replace(/:\*$/, '') : requiredString(input, 'logGroupName');
    if (!groups().some((candidate) => candidate.logGroupName === name)) throw new AwsApiError('ResourceNotFoundException', 'The specified log group does not exist.');
    return name;
  };
  // Logs' times are epoch milliseconds (longs), not the JSON protocol's timestamps.
  const inWindow = (input: ApiInput) => {
    const start = typeof input.startTime === 'number' ? input.startTime : -Infinity;
    const end = typeof input.endTime === 'number' ? input.endTime : Infinity;
    return (event: LogEvent): boolean => event.timestamp >= start && event.timestamp < end;
  };
  const limitOf = (input: ApiInput): number => (typeof input.limit === 'number' && input.limit > 0 ? input.limit : DEFAULT_EVENT_LIMIT);
  return {
    DescribeLogGroups: (input) => ({ logGroups: withPrefix(groups(), input.logGroupNamePrefix, (entry) => entry.logGroupName) }),
    DescribeLogStreams: (input) => {
      const name = group(input);
      const events = store.events(name);
      if (events.length === 0) return { logStreams: [] };
      return {
        logStreams: withPrefix([streamName], input.logStreamNamePrefix, (stream) => stream).map((stream) => ({
          logStreamName: stream,
          arn: `${arn(name)}:log-stream:${stream}`,
          creationTime: events[0]!.ingestionTime,
          firstEventTimestamp: events[0]!.timestamp,
          lastEventTimestamp: events.at(-1)!.timestamp,
          lastIngestionTime: events.at(-1)!.ingestionTime,
          storedBytes: 0,
        })),
      };
    },
    GetLogEvents: (input) => {
      const name = group(input);
      if (requiredString(input, 'logStreamName') !== streamName) throw new AwsApiError('ResourceNotFoundException', 'The specified log stream does not exist.');
      const events = store.events(name).filter(inWindow(input));
      const limit = limitOf(input);
      // Tokens are `f/<index>` and `b/<index>` into the group's kept lines; the same token back means the end, as on AWS.
      const token = typeof input.nextToken === 'string' ? /^[fb]\/(\d+)$/.exec(input.nextToken) : null;
      const fromHead = input.startFromHead === true || token !== null;
      const start = token !== null ? Number(token[1]) : fromHead ? 0 : Math.max(0, events.length - limit);
      const page = events.slice(start, start + limit);
      return { events: page, nextForwardToken: `f/${start + page.length}`, nextBackwardToken: `b/${start}` };
    },
    FilterLogEvents: (input) => {
      const name = group(input);
      const streams = input.logStreamNames as string[] | undefined;
      const terms = filterTerms(input.filterPattern);
      const events = (streams === undefined || streams.includes(streamName) ? store.events(name) : [])
        .filter(inWindow(input))
        .filter((event) => terms.every((term) => event.message.includes(term)));
      return {
        events: events.slice(0, limitOf(input)).map((event, index) => ({ logStreamName: streamName, eventId: `${event.timestamp}-${index}`, ...event })),
        searchedLogStreams: [{ logStreamName: streamName, searchedCompletely: true }],
      };
    },
  };
}
