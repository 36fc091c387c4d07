/**
 * EventBridge's API (JSON 1.1, target prefix `AWSEvents`) on the local buses: PutEvents, the
 * List/Describe operations of buses, rules, targets, archives, API destinations and connections,
 * StartReplay with DescribeReplay and ListReplays, and TestEventPattern through the same matcher
 * the rules use, so a pattern tested here behaves as it does on the bus.
 *
 * LIMITATIONS: no pagination (every item in one page, no NextToken); a replay runs at once, and
 * DescribeReplay reports it COMPLETED as soon as its events are on the bus (their deliveries go on
 * in the background); replays are remembered for the run only.
 */
import { AwsApiError, requiredString, timestamp, withPrefix, type ApiInput, type ServiceOperations } from '../api.js';
import { EventBridgeError, type EventBridgeService } from './bus.js';
import type { PutEventsEntry } from './model.js';
import { compilePattern, InvalidEventPatternError } from './pattern.js';

/** What TestEventPattern requires of the event (its API reference). */
const TEST_EVENT_FIELDS = ['id', 'account', 'source', 'time', 'region', 'resources', 'detail-type'];

interface Replay {
  ReplayName: string;
  ReplayArn: string;
  EventSourceArn: string;
  Destination: { Arn: string; FilterArns?: string[] };
  State: 'STARTING' | 'RUNNING' | 'COMPLETED' | 'FAILED';
  StateReason?: string;
  EventStartTime: Date;
  EventEndTime: Date;
  EventLastReplayedTime?: Date;
  ReplayStartTime: Date;
  ReplayEndTime?: Date;
}

/** The bus's own errors, under their AWS codes. */
async function asApi<T>(call: () => T | Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof EventBridgeError) throw new AwsApiError(error.name, error.message);
    if (error instanceof InvalidEventPatternError) throw new AwsApiError('InvalidEventPatternException', error.message);
    throw error;
  }
}

function optionalString(input: ApiInput, member: string): string | undefined {
  return typeof input[member] === 'string' ? input[member] : undefined;
}

export function eventsApi(events: EventBridgeService, region: string, accountId: string): ServiceOperations {
  const replays = new Map<string, Replay>();
  const describeRule = (input: ApiInput) => {
    const name = requiredString(input, 'Name');
    const busName = optionalString(input, 'EventBusName');
    return asApi(() => {
      const rule = events.listRules(busName).find((candidate) => candidate.Name === name);
      if (rule === undefined) throw new AwsApiError('ResourceNotFoundException', `Rule ${name} does not exist on EventBus ${busName ?? 'default'}.`);
      return rule;
    });
  };
  const archive = (name: string) => {
    const found = events.listArchives().find((candidate) => candidate.ArchiveName === name);
    if (found === undefined) throw new AwsApiError('ResourceNotFoundException', `Archive ${name} does not exist.`);
    return found;
  };
  const replay = (name: string): Replay => {
    const found = replays.get(name);
    if (found === undefined) throw new AwsApiError('ResourceNotFoundException', `Replay ${name} does not exist.`);
    return found;
  };
  return {
    PutEvents: (input) => asApi(() => events.putEvents((input.Entries ?? []) as PutEventsEntry[])),
    ListEventBuses: (input) => ({ EventBuses: withPrefix(events.listEventBuses(), input.NamePrefix, (bus) => bus.Name) }),
    ListRules: (input) => asApi(() => ({ Rules: withPrefix(events.listRules(optionalString(input, 'EventBusName')), input.NamePrefix, (rule) => rule.Name) })),
    DescribeRule: describeRule,
    ListTargetsByRule: (input) => asApi(() => ({ Targets: events.listTargetsByRule(requiredString(input, 'Rule'), optionalString(input, 'EventBusName')) })),
    TestEventPattern: (input) => {
      const pattern = requiredString(input, 'EventPattern');
      let event: Record<string, unknown>;
      try {
        event = JSON.parse(requiredString(input, 'Event')) as Record<string, unknown>;
      } catch {
        throw new AwsApiError('ValidationException', 'Parameter Event is not valid: it must be JSON.');
      }
      const missing = TEST_EVENT_FIELDS.filter((field) => event[field] === undefined);
      if (missing.length > 0) throw new AwsApiError('ValidationException', `Parameter Event is not valid: it lacks ${missing.join(', ')}.`);
      return asApi(() => ({ Result: compilePattern(pattern)(event) }));
    },
    ListArchives: (input) => ({
      Archives: withPrefix(events.listArchives(), input.NamePrefix, (entry) => entry.ArchiveName)
        .filter((entry) => input.EventSourceArn === undefined || entry.EventSourceArn === input.EventSourceArn),
    }),
    DescribeArchive: (input) => archive(requiredString(input, 'ArchiveName')),
    StartReplay: (input) => {
      const name = requiredString(input, 'ReplayName');
      if (replays.has(name)) throw new AwsApiError('ResourceAlreadyExistsException', `Replay ${name} already exists.`);
      const sourceArn = requiredString(input, 'EventSourceArn');
      const source = events.listArchives().find((candidate) => candidate.ArchiveArn === sourceArn);
      if (source === undefined) throw new AwsApiError('ResourceNotFoundException', `Archive ${sourceArn} does not exist.`);
      const destination = input.Destination as Replay['Destination'] | undefined;
      if (destination?.Arn === undefined) throw new AwsApiError('ValidationException', 'Destination.Arn is required.');
      const startTime = timestamp(input, 'EventStartTime');
      const endTime = timestamp(input, 'EventEndTime');
      if (startTime === undefined || endTime === undefined) throw new AwsApiError('ValidationException', 'EventStartTime and EventEndTime are required.');
      if (startTime >= endTime) throw new AwsApiError('ValidationException', 'EventStartTime must be before EventEndTime.');
      const record: Replay = {
        ReplayName: name,
        ReplayArn: `arn:aws:events:${region}:${accountId}:replay/${name}`,
        EventSourceArn: sourceArn,
        Destination: destination,
        State: 'STARTING',
        EventStartTime: startTime,
        EventEndTime: endTime,
        ReplayStartTime: new Date(),
      };
      replays.set(name, record);
      record.State = 'RUNNING';
      void events.replay({ archiveName: source.ArchiveName, startTime, endTime, destination, replayName: name }).then(
        () => Object.assign(record, { State: 'COMPLETED', EventLastReplayedTime: endTime, ReplayEndTime: new Date() }),
        (error: Error) => Object.assign(record, { State: 'FAILED', StateReason: error.message, ReplayEndTime: new Date() }),
      );
      return { ReplayArn: record.ReplayArn, State: 'STARTING', ReplayStartTime: record.ReplayStartTime };
    },
    DescribeReplay: (input) => replay(requiredString(input, 'ReplayName')),
    ListReplays: (input) => ({
      Replays: withPrefix([...replays.values()], input.NamePrefix, (entry) => entry.ReplayName)
        .filter((entry) => input.State === undefined || entry.State === input.State)
        .filter((entry) => input.EventSourceArn === undefined || entry.EventSourceArn === input.EventSourceArn)
        // ListReplays' entries carry no Destination (DescribeReplay does).
        .map((entry) => ({ ...entry, Destination: undefined })),
    }),
    ListApiDestinations: (input) => ({ ApiDestinations: withPrefix(events.apiDestinations.listApiDestinations(), input.NamePrefix, (entry) => entry.Name) }),
    ListConnections: (input) => ({ Connections: withPrefix(events.apiDestinations.listConnections(), input.NamePrefix, (entry) => entry.Name) }),
  };
}
