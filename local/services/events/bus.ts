/**
 * The local EventBridge: event buses (a `default` bus always exists), rules with event patterns and
 * targets, PutEvents with AWS's validation and event envelope, asynchronous delivery with each
 * target's RetryPolicy and DeadLetterConfig, archives and replays.
 *
 * Accepting and delivering are apart, as on AWS: PutEvents returns as soon as the events are
 * matched, archived and their deliveries journaled (journal.ts); deliveries start once the
 * runtime hands the bus its senders ({@link EventBridgeService.startDeliveries}) and run in the
 * background, at most {@link DEFAULT_CONCURRENCY_PER_TARGET} at a time per rule target. A failed
 * delivery is retried when the error is retryable (throttling, 5xx, network), with exponential
 * backoff and jitter (targets/retry.ts), until MaximumRetryAttempts (default 185) or
 * MaximumEventAgeInSeconds (default 86 400) runs out; then, or at once for an error that is not retryable, the event goes
 * to the target's dead-letter queue with the message attributes AWS sets (RULE_ARN, TARGET_ARN,
 * ERROR_CODE, ERROR_MESSAGE, RETRY_ATTEMPTS and, when a limit ended the retries,
 * EXHAUSTED_RETRY_CONDITION). The body of a dead letter is the event, not the shaped input.
 *
 * An ordered, bounded log of events and deliveries, with listeners (`onEvent`, `onDelivery`), lets
 * tests wait for what happened instead of sleeping; counters feed the `status` command.
 *
 * A rule with a ScheduleExpression (default bus only) fires on its own, with a `Scheduled Event`
 * from `aws.events` naming the rule in `resources`; {@link EventBridgeService.fireScheduledRule}
 * fires it at once (`wims schedule fire`).
 *
 * LIMITATIONS: the retry backoff is targets/retry.ts's; bus policies, cross-account and
 * cross-region buses, endpoints and partner event sources are not supported; a rule change applies
 * to the next PutEvents at once (AWS takes a moment); see scheduler/expression.ts for schedules.
 *
 * DURABILITY: see journal.ts (deliveries) and archive.ts (archives); rules and targets are the
 * template's, created again on each start.
 */
import { randomUUID } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { TargetError } from '../targets/error.js';
import { deliverWithRetries, type RetryPolicy } from '../targets/retry.js';
import type { TargetSender } from '../targets/sender.js';
import { ApiDestinationService, type HttpParameters } from './api-destinations.js';
import { EventArchive } from './archive.js';
import { DeliveryJournal } from './journal.js';
import { shapeTargetInput, type TargetInputSettings } from './input.js';
import type { EventEnvelope, PutEventsEntry, PutEventsResult, PutEventsResultEntry } from './model.js';
import { compilePattern, type EventMatcher } from './pattern.js';
import { parseScheduleExpression, startTimer, type ScheduleExpression } from '../scheduler/expression.js';

/** A rule target (the PutTargets / AWS::Events::Rule Target properties the local runtime honours). */
export interface RuleTarget extends TargetInputSettings {
  Id: string;
  Arn: string;
  RetryPolicy?: RetryPolicy;
  DeadLetterConfig?: { Arn?: string };
  HttpParameters?: HttpParameters;
  SqsParameters?: { MessageGroupId?: string };
}

/** The PutRule request. */
export interface PutRuleInput {
  Name: string;
  /** A bus name or ARN; `default` when absent. */
  EventBusName?: string;
  /** An object or its JSON text; a rule needs it, a ScheduleExpression, or both. */
  EventPattern?: unknown;
  /** `rate(…)` or `cron(…)` (UTC): the rule fires on its own, on the default bus only. */
  ScheduleExpression?: string;
  /** `ENABLED` (default) or `DISABLED`. */
  State?: string;
}

/** A rule, as ListRules and DescribeRule describe it. */
export interface RuleDescription {
  Name: string;
  Arn: string;
  EventBusName: string;
  State: 'ENABLED' | 'DISABLED';
  EventPattern?: string;
  ScheduleExpression?: string;
}

/** The replay request: re-sends an archive's events from a time window to its bus. */
export interface ReplayInput {
  archiveName: string;
  startTime: Date;
  endTime: Date;
  /**
   * The archive's bus ARN; FilterArns limits the replay to those rules of that bus. Defaults to
   * every rule of the archive's bus (AWS requires it; a local convenience for operators).
   */
  destination?: { Arn: string; FilterArns?: string[] };
  /** Carried by every replayed event as `replay-name`; generated when absent. */
  replayName?: string;
}

/** An event accepted on a bus, with the rules it matched. */
export interface EventRecord {
  busName: string;
  event: EventEnvelope;
  /** ARNs of the enabled rules the event matched. */
  matchedRules: string[];
}

/** The outcome of one event's delivery to one rule target (after any retries). */
export interface DeliveryRecord {
  eventId: string;
  /** The rule's ARN. */
  rule: string;
  /** The target's Id. */
  target: string;
  targetArn: string;
  ok: boolean;
  /** Calls made to the target (1 + retries). */
  attempts: number;
  error?: { code: string; message: string };
  /** For a failed delivery with a DeadLetterConfig: whether the event reached the dead-letter queue. */
  deadLettered?: boolean;
}

/** The counters behind `status`. */
export interface EventBridgeStatus {
  buses: number;
  rules: number;
  archives: number;
  /** Events accepted by PutEvents (replays excluded). */
  put: number;
  /** The accepted events' 64 KB chunks: what EventBridge bills as custom events. */
  putChunks: number;
  /** Accepted events an archive kept, and their size as PutEvents counts it. */
  archived: number;
  archivedBytes: number;
  /** Events re-sent by replays. */
  replayed: number;
  /** Event × rule matches. */
  matched: number;
  delivered: number;
  failed: number;
  deadLettered: number;
  /** Deliveries running or waiting to retry. */
  inFlight: number;
}

/** Settings of {@link EventBridgeService}. */
export interface EventBridgeOptions {
  region: string;
  accountId: string;
  /** The runtime's state folder (archives and the delivery journal are kept there), or undefined to keep them in memory. */
  stateDir: string | undefined;
  log?: (component: string, message: string) => void;
  /** First retry delay in ms (default: targets/retry.ts). */
  retryBaseMs?: number;
  /** Longest retry delay in ms (default: targets/retry.ts). */
  retryCapMs?: number;
  /** Concurrent deliveries per rule target (default {@link DEFAULT_CONCURRENCY_PER_TARGET}). */
  concurrencyPerTarget?: number;
  /** Records kept in each of the event and delivery logs (default 1000). */
  logSize?: number;
}

/** Thrown for a request AWS refuses as a whole (the SDK's ValidationException and friends). */
export class EventBridgeError extends Error {
  constructor(
    override readonly name: 'ValidationException' | 'ResourceNotFoundException' | 'ResourceAlreadyExistsException',
    message: string,
  ) {
    super(message);
  }
}

export const DEFAULT_CONCURRENCY_PER_TARGET = 10;
/** PutEvents limits. */
const MAX_ENTRIES = 10;
const MAX_REQUEST_BYTES = 256 * 1024;
/** EventBridge bills each 64 KB chunk of an event as one event. */
const BILLING_CHUNK_BYTES = 64 * 1024;
const DEFAULT_BUS = 'default';

interface Rule {
  name: string;
  arn: string;
  busName: string;
  enabled: boolean;
  /** What DescribeRule returns: the pattern's JSON text and the schedule expression. */
  eventPattern: string | undefined;
  scheduleExpression: string | undefined;
  /** The rule's EventPattern; a rule with only a ScheduleExpression matches no event. */
  matches: EventMatcher;
  /** A rule with a ScheduleExpression: stops its timer. */
  schedule: { stop(): void } | undefined;
  targets: RuleTarget[];
}

/** One event's delivery to one rule target, as journaled. */
interface Delivery {
  event: EventEnvelope;
  rule: Rule;
  target: RuleTarget;
  /** When the bus received the event: MaximumEventAgeInSeconds counts from it. */
  receivedAt: Date;
  journalId: number;
  /** Attempts already made (by a previous run, for a resumed delivery). */
  attemptsUsed: number;
}

interface Bus {
  name: string;
  arn: string;
  rules: Map<string, Rule>;
}

/** Runs at most `limit` tasks at a time; the rest wait in order. */
class ConcurrencyLimit {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter, so `running` stays as it is.
      if (next) next();
      else this.running--;
    }
  }
}

/** The buses, rules, archives, connections and API destinations of one runtime. */
export class EventBridgeService {
  /** Connections and API destinations (targets reach them through the API destination sender). */
  readonly apiDestinations: ApiDestinationService;
  private readonly buses = new Map<string, Bus>();
  private readonly archives = new Map<string, EventArchive>();
  private readonly limits = new Map<string, ConcurrencyLimit>();
  private readonly eventLog: EventRecord[] = [];
  private readonly deliveryLog: DeliveryRecord[] = [];
  private readonly eventListeners = new Set<(record: EventRecord) => void>();
  private readonly deliveryListeners = new Set<(record: DeliveryRecord) => void>();
  private readonly running = new Set<Promise<void>>();
  private readonly stopping = new AbortController();
  private readonly counters = { put: 0, putChunks: 0, archived: 0, archivedBytes: 0, replayed: 0, matched: 0, delivered: 0, failed: 0, deadLettered: 0 };

  private readonly journal: DeliveryJournal;
  /** Delivers to targets and dead-letter queues, from {@link startDeliveries} on. */
  private sender: TargetSender | undefined;

  constructor(private readonly options: EventBridgeOptions) {
    this.apiDestinations = new ApiDestinationService(options);
    this.journal = new DeliveryJournal(options.stateDir);
    this.createEventBus(DEFAULT_BUS);
  }

  /** Creates a custom bus; returns its name and ARN. */
  createEventBus(name: string): { name: string; arn: string } {
    if (this.buses.has(name)) throw new EventBridgeError('ResourceAlreadyExistsException', `Event bus ${name} already exists.`);
    const bus: Bus = { name, arn: `${this.arnPrefix()}event-bus/${name}`, rules: new Map() };
    this.buses.set(name, bus);
    return { name, arn: bus.arn };
  }

  /**
   * Creates or replaces a rule (its targets are kept, as with PutRule). The pattern is validated
   * and compiled here: an invalid one throws `InvalidEventPatternError`.
   */
  putRule(input: PutRuleInput): { name: string; arn: string; busName: string } {
    const bus = this.bus(input.EventBusName);
    if (input.EventPattern === undefined && input.ScheduleExpression === undefined) {
      throw new EventBridgeError('ValidationException', 'Parameter(s) EventPattern or ScheduleExpression must be specified.');
    }
    if (input.ScheduleExpression !== undefined && bus.name !== DEFAULT_BUS) {
      throw new EventBridgeError('ValidationException', 'ScheduleExpression is supported only on the default event bus.');
    }
    const matches = input.EventPattern === undefined ? () => false : compilePattern(input.EventPattern);
    let expression: ScheduleExpression | undefined;
    try {
      expression = input.ScheduleExpression === undefined ? undefined : parseScheduleExpression(input.ScheduleExpression, { allowAt: false });
    } catch (error) {
      throw new EventBridgeError('ValidationException', (error as Error).message);
    }
    const state = input.State ?? 'ENABLED';
    if (!['ENABLED', 'DISABLED', 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS'].includes(state)) {
      throw new EventBridgeError('ValidationException', `Rule ${input.Name}: State must be ENABLED or DISABLED, got ${state}`);
    }
    const arn = `${this.arnPrefix()}rule/${bus.name === DEFAULT_BUS ? '' : `${bus.name}/`}${input.Name}`;
    const previous = bus.rules.get(input.Name);
    previous?.schedule?.stop();
    const rule: Rule = {
      name: input.Name,
      arn,
      busName: bus.name,
      enabled: state !== 'DISABLED',
      eventPattern: input.EventPattern === undefined ? undefined : typeof input.EventPattern === 'string' ? input.EventPattern : JSON.stringify(input.EventPattern),
      scheduleExpression: input.ScheduleExpression,
      matches,
      schedule: undefined,
      targets: previous?.targets ?? [],
    };
    if (expression !== undefined) {
      rule.schedule = {
        stop: startTimer(expression, new Date(), (time) => {
          if (rule.enabled) this.fireScheduledRule(rule.arn, time);
        }),
      };
    }
    bus.rules.set(rule.name, rule);
    return { name: rule.name, arn, busName: bus.name };
  }

  /**
   * Fires a scheduled rule now, as its schedule would: its targets get a `Scheduled Event` from
   * `aws.events`. For operators and tests that should not wait for the clock.
   */
  fireScheduledRule(nameOrArn: string, time = new Date()): { eventId: string } {
    const rule = [...this.bus(DEFAULT_BUS).rules.values()].find((candidate) => candidate.name === nameOrArn || candidate.arn === nameOrArn);
    if (rule?.schedule === undefined) {
      throw new EventBridgeError('ResourceNotFoundException', `Rule ${nameOrArn} does not exist on EventBus ${DEFAULT_BUS} or has no ScheduleExpression.`);
    }
    const event: EventEnvelope = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: this.options.accountId,
      time: isoSeconds(time),
      region: this.options.region,
      resources: [rule.arn],
      detail: {},
    };
    this.deliverTo(this.bus(DEFAULT_BUS), event, [rule]);
    return { eventId: event.id };
  }

  /** Adds or replaces (by Id) targets of a rule. */
  putTargets(input: { Rule: string; EventBusName?: string; Targets: RuleTarget[] }): void {
    const bus = this.bus(input.EventBusName);
    const rule = bus.rules.get(input.Rule);
    if (rule === undefined) throw new EventBridgeError('ResourceNotFoundException', `Rule ${input.Rule} does not exist on EventBus ${bus.name}.`);
    const ids = new Set(input.Targets.map((target) => target.Id));
    rule.targets = [...rule.targets.filter((target) => !ids.has(target.Id)), ...input.Targets];
  }

  /** Creates an archive of a bus (named by ARN, as in CreateArchive). */
  createArchive(input: {
    ArchiveName: string;
    EventSourceArn: string;
    EventPattern?: unknown;
    RetentionDays?: number;
  }): { name: string; arn: string } {
    if (this.archives.has(input.ArchiveName)) {
      throw new EventBridgeError('ResourceAlreadyExistsException', `Archive ${input.ArchiveName} already exists.`);
    }
    const bus = this.bus(input.EventSourceArn);
    const archive = new EventArchive({
      name: input.ArchiveName,
      arn: `${this.arnPrefix()}archive/${input.ArchiveName}`,
      busName: bus.name,
      eventPattern: input.EventPattern,
      retentionDays: input.RetentionDays,
      stateDir: this.options.stateDir,
    });
    this.archives.set(archive.name, archive);
    return { name: archive.name, arn: archive.arn };
  }

  /**
   * Sends the events of an archive from a time window to its bus again. They keep their id and
   * time, carry `replay-name`, reach only the rules (all of them, or those in FilterArns) and are
   * not archived again. Resolves once every event is matched (deliveries go on in the background).
   */
  async replay(input: ReplayInput): Promise<{ replayed: number }> {
    const archive = this.archives.get(input.archiveName);
    if (archive === undefined) throw new EventBridgeError('ResourceNotFoundException', `Archive ${input.archiveName} does not exist.`);
    const bus = this.bus(archive.busName);
    const { Arn = bus.arn, FilterArns } = input.destination ?? {};
    if (Arn !== bus.arn) {
      throw new EventBridgeError('ValidationException', `A replay of ${archive.name} must go to its source bus ${bus.arn}.`);
    }
    const replayName = input.replayName ?? `${archive.name}-${Date.now()}`;
    const filter = FilterArns && new Set(FilterArns);
    const events = await archive.read(input.startTime, input.endTime);
    for (const event of events) {
      this.route(bus, { ...event, 'replay-name': replayName }, filter);
      this.counters.replayed++;
    }
    return { replayed: events.length };
  }

  /**
   * Accepts up to 10 entries as PutEvents does: each valid entry becomes an event that is matched
   * against the enabled rules of its bus and archived; invalid entries fail on their own. Throws
   * an {@link EventBridgeError} for a request AWS refuses as a whole (no entries, more than 10,
   * more than 256 KB).
   */
  putEvents(entries: PutEventsEntry[]): PutEventsResult {
    if (entries.length === 0 || entries.length > MAX_ENTRIES) {
      throw new EventBridgeError('ValidationException', `PutEvents takes 1 to ${MAX_ENTRIES} entries, got ${entries.length}.`);
    }
    if (entries.reduce((total, entry) => total + entrySize(entry), 0) > MAX_REQUEST_BYTES) {
      throw new EventBridgeError('ValidationException', 'Total size of the entries in the request is over the limit.');
    }
    const results = entries.map((entry) => this.putEvent(entry));
    return { FailedEntryCount: results.filter((result) => 'ErrorCode' in result).length, Entries: results };
  }

  /** The buses, as ListEventBuses describes them. */
  listEventBuses(): Array<{ Name: string; Arn: string }> {
    return [...this.buses.values()].map((bus) => ({ Name: bus.name, Arn: bus.arn }));
  }

  /** The rules of a bus (name or ARN; `default` when absent), as ListRules and DescribeRule describe them. */
  listRules(busNameOrArn?: string): RuleDescription[] {
    return [...this.bus(busNameOrArn).rules.values()].map((rule) => ({
      Name: rule.name,
      Arn: rule.arn,
      EventBusName: rule.busName,
      State: rule.enabled ? 'ENABLED' : 'DISABLED',
      ...(rule.eventPattern === undefined ? {} : { EventPattern: rule.eventPattern }),
      ...(rule.scheduleExpression === undefined ? {} : { ScheduleExpression: rule.scheduleExpression }),
    }));
  }

  /** A rule's targets, as PutTargets was given them. */
  listTargetsByRule(ruleName: string, busNameOrArn?: string): readonly RuleTarget[] {
    const bus = this.bus(busNameOrArn);
    const rule = bus.rules.get(ruleName);
    if (rule === undefined) throw new EventBridgeError('ResourceNotFoundException', `Rule ${ruleName} does not exist on EventBus ${bus.name}.`);
    return rule.targets;
  }

  /** The archives, as ListArchives and DescribeArchive describe them. */
  listArchives(): Array<{ ArchiveName: string; ArchiveArn: string; EventSourceArn: string; EventPattern?: string; RetentionDays: number; State: 'ENABLED' }> {
    return [...this.archives.values()].map((archive) => ({
      ArchiveName: archive.name,
      ArchiveArn: archive.arn,
      EventSourceArn: this.bus(archive.busName).arn,
      ...(archive.eventPattern === undefined ? {} : { EventPattern: archive.eventPattern }),
      RetentionDays: archive.retentionDays,
      State: 'ENABLED',
    }));
  }

  /** Calls `listener` with every event accepted from now on; returns the unsubscribe function. */
  onEvent(listener: (record: EventRecord) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /** Calls `listener` with every finished delivery from now on; returns the unsubscribe function. */
  onDelivery(listener: (record: DeliveryRecord) => void): () => void {
    this.deliveryListeners.add(listener);
    return () => this.deliveryListeners.delete(listener);
  }

  /** The latest accepted events, oldest first. */
  events(): readonly EventRecord[] {
    return this.eventLog;
  }

  /** The latest finished deliveries, oldest first. */
  deliveries(): readonly DeliveryRecord[] {
    return this.deliveryLog;
  }

  status(): EventBridgeStatus {
    let rules = 0;
    for (const bus of this.buses.values()) rules += bus.rules.size;
    return { buses: this.buses.size, rules, archives: this.archives.size, ...this.counters, inFlight: this.running.size };
  }

  /** Resolves once no delivery is running or waiting to retry. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  /** Drops retries and API destination calls still waiting and waits for running deliveries to end. */
  async stop(): Promise<void> {
    for (const bus of this.buses.values()) for (const rule of bus.rules.values()) rule.schedule?.stop();
    this.stopping.abort();
    this.apiDestinations.stop();
    await this.idle();
    this.journal.close();
  }

  /**
   * Starts delivering through `sender`: first what the journal holds (what a previous run of this
   * state folder had not finished, each with the retry budget it had left, and what was accepted
   * while the stack was being created), then each event as it is accepted. Call once every rule
   * and target exists. Returns how many deliveries a previous run had left.
   */
  startDeliveries(sender: TargetSender): number {
    if (this.sender !== undefined) throw new Error('EventBridgeService.startDeliveries was called twice');
    this.sender = sender;
    const rules = new Map([...this.buses.values()].flatMap((bus) => [...bus.rules.values()].map((rule) => [rule.arn, rule] as const)));
    for (const delivery of this.journal.pending()) {
      const rule = rules.get(delivery.ruleArn);
      const target = rule?.targets.find((candidate) => candidate.Id === delivery.targetId);
      if (!rule || !target) {
        this.options.log?.('events', `dropped a journaled delivery to ${delivery.ruleArn} target ${delivery.targetId}: the template no longer has it`);
        this.journal.remove(delivery.id);
        continue;
      }
      const event = JSON.parse(delivery.event) as EventEnvelope;
      this.startDelivery(sender, { event, rule, target, receivedAt: new Date(delivery.receivedAt), journalId: delivery.id, attemptsUsed: delivery.attempts });
    }
    return this.journal.inherited;
  }

  private arnPrefix(): string {
    return `arn:aws:events:${this.options.region}:${this.options.accountId}:`;
  }

  /** A bus by name or ARN (`default` when absent). */
  private bus(nameOrArn: string | undefined): Bus {
    const key = nameOrArn ?? DEFAULT_BUS;
    const name = key.startsWith('arn:') ? key.slice(key.indexOf(':event-bus/') + ':event-bus/'.length) : key;
    const bus = this.buses.get(name);
    if (bus === undefined || (key.startsWith('arn:') && key !== bus.arn)) {
      throw new EventBridgeError('ResourceNotFoundException', `Event bus ${key} does not exist.`);
    }
    return bus;
  }

  private putEvent(entry: PutEventsEntry): PutEventsResultEntry {
    for (const field of ['Source', 'DetailType', 'Detail'] as const) {
      if (typeof entry[field] !== 'string' || entry[field] === '') {
        return { ErrorCode: 'InvalidArgument', ErrorMessage: `Parameter ${field} is not valid. Reason: ${field} is a required argument.` };
      }
    }
    let detail: unknown;
    try {
      detail = JSON.parse(entry.Detail as string);
    } catch {
      detail = undefined;
    }
    if (detail === null || typeof detail !== 'object' || Array.isArray(detail)) {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    }
    const time = entry.Time === undefined ? new Date() : new Date(entry.Time);
    if (Number.isNaN(time.getTime())) return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Time is not valid.' };
    let bus: Bus;
    try {
      bus = this.bus(entry.EventBusName);
    } catch (error) {
      return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: (error as Error).message };
    }
    const event: EventEnvelope = {
      version: '0',
      id: randomUUID(),
      'detail-type': entry.DetailType as string,
      source: entry.Source as string,
      account: this.options.accountId,
      time: isoSeconds(time),
      region: this.options.region,
      resources: entry.Resources ?? [],
      detail: detail as Record<string, unknown>,
    };
    const size = entrySize(entry);
    this.counters.put++;
    this.counters.putChunks += Math.ceil(size / BILLING_CHUNK_BYTES);
    for (const archive of this.archives.values()) {
      if (archive.busName === bus.name && archive.offer(event)) {
        this.counters.archived++;
        this.counters.archivedBytes += size;
      }
    }
    this.route(bus, event, undefined);
    return { EventId: event.id };
  }

  /** Matches `event` against the bus's enabled rules (only those in `filter`, when given) and starts their deliveries. */
  private route(bus: Bus, event: EventEnvelope, filter: Set<string> | undefined): void {
    const matched: Rule[] = [];
    for (const rule of bus.rules.values()) {
      if (rule.enabled && (filter === undefined || filter.has(rule.arn)) && rule.matches(event)) matched.push(rule);
    }
    this.counters.matched += matched.length;
    this.deliverTo(bus, event, matched);
  }

  /** Records `event` as matched by `rules` and starts (or journals, until the bus has its senders) their deliveries. */
  private deliverTo(bus: Bus, event: EventEnvelope, matched: Rule[]): void {
    const receivedAt = new Date();
    this.append(this.eventLog, { busName: bus.name, event, matchedRules: matched.map((rule) => rule.arn) }, this.eventListeners);
    const deliveries = matched.flatMap((rule) => rule.targets.map((target) => ({ rule, target })));
    // Journaled before PutEvents returns: an accepted event outlives a crash.
    const text = JSON.stringify(event);
    const ids = this.journal.add(deliveries.map(({ rule, target }) => ({
      event: text,
      ruleArn: rule.arn,
      targetId: target.Id,
      receivedAt: receivedAt.getTime(),
    })));
    const sender = this.sender;
    if (sender === undefined) return; // startDeliveries takes them from the journal
    deliveries.forEach(({ rule, target }, index) => this.startDelivery(sender, { event, rule, target, receivedAt, journalId: ids[index]!, attemptsUsed: 0 }));
  }

  private startDelivery(sender: TargetSender, delivery: Delivery): void {
    const running = this.deliver(sender, delivery)
      .then((ended) => { if (ended) this.journal.remove(delivery.journalId); })
      .finally(() => this.running.delete(running));
    this.running.add(running);
  }

  /** Delivers with retries; resolves true once the delivery has ended, false when the runtime stopped it first. */
  private async deliver(sender: TargetSender, delivery: Delivery): Promise<boolean> {
    const { event, rule, target, receivedAt, journalId, attemptsUsed } = delivery;
    // Starts after PutEvents has returned (and lets I/O run first, so a rule that feeds its own bus cannot starve it).
    await nextTurn();
    let input: string;
    try {
      input = shapeTargetInput(target, event, { ruleName: rule.name, ruleArn: rule.arn, ingestionTime: receivedAt });
    } catch (error) {
      const failure = new TargetError(`Rule ${rule.name} target ${target.Id}: ${(error as Error).message}`, { code: 'INVALID_PARAMETER', retryable: false, cause: error });
      return this.fail(sender, event, rule, target, failure, 0, undefined);
    }
    const limit = this.limitFor(rule, target);
    const outcome = await deliverWithRetries(
      () => limit.run(() => sender.deliver(target.Arn, input, {
        httpParameters: target.HttpParameters,
        messageGroupId: target.SqsParameters?.MessageGroupId,
        deduplicationId: event.id,
      })),
      target.Arn,
      {
        policy: target.RetryPolicy,
        receivedAt,
        attemptsUsed,
        baseMs: this.options.retryBaseMs,
        capMs: this.options.retryCapMs,
        signal: this.stopping.signal,
        onRetry: (attempts) => this.journal.attempted(journalId, attempts),
      },
    );
    // The runtime is stopping: the journal keeps the delivery for the next run.
    if ('stopped' in outcome) return false;
    if (!outcome.delivered) return this.fail(sender, event, rule, target, outcome.error, outcome.attempts, outcome.exhausted);
    this.counters.delivered++;
    this.record({ eventId: event.id, rule: rule.arn, target: target.Id, targetArn: target.Arn, ok: true, attempts: outcome.attempts });
    return true;
  }

  private limitFor(rule: Rule, target: RuleTarget): ConcurrencyLimit {
    const key = `${rule.arn}|${target.Id}`;
    let limit = this.limits.get(key);
    if (limit === undefined) {
      limit = new ConcurrencyLimit(this.options.concurrencyPerTarget ?? DEFAULT_CONCURRENCY_PER_TARGET);
      this.limits.set(key, limit);
    }
    return limit;
  }

  /** Records a delivery that gave up, after sending the event to the target's dead-letter queue if it has one. */
  private async fail(
    sender: TargetSender,
    event: EventEnvelope,
    rule: Rule,
    target: RuleTarget,
    error: TargetError,
    attempts: number,
    exhausted: 'MaximumRetryAttempts' | 'MaximumEventAgeInSeconds' | undefined,
  ): Promise<true> {
    this.counters.failed++;
    const record: DeliveryRecord = {
      eventId: event.id,
      rule: rule.arn,
      target: target.Id,
      targetArn: target.Arn,
      ok: false,
      attempts,
      error: { code: error.code, message: error.message },
    };
    const deadLetterArn = target.DeadLetterConfig?.Arn;
    if (deadLetterArn !== undefined) {
      const attributes: Record<string, string> = {
        RULE_ARN: rule.arn,
        TARGET_ARN: target.Arn,
        ERROR_CODE: error.code,
        ERROR_MESSAGE: error.message,
        RETRY_ATTEMPTS: String(Math.max(attempts - 1, 0)),
      };
      if (exhausted !== undefined) attributes.EXHAUSTED_RETRY_CONDITION = exhausted;
      try {
        await sender.deliver(deadLetterArn, JSON.stringify(event), { messageAttributes: attributes });
        record.deadLettered = true;
        this.counters.deadLettered++;
      } catch (dlqError) {
        record.deadLettered = false;
        this.options.log?.('events', `rule ${rule.name} target ${target.Id}: dead-letter queue ${deadLetterArn} refused event ${event.id}: ${(dlqError as Error).message}`);
      }
    }
    this.options.log?.('events', `rule ${rule.name} target ${target.Id}: event ${event.id} not delivered after ${attempts} attempt(s): ${error.code}: ${error.message}`);
    this.record(record);
    return true;
  }

  private record(record: DeliveryRecord): void {
    this.append(this.deliveryLog, record, this.deliveryListeners);
  }

  private append<T>(log: T[], record: T, listeners: Set<(record: T) => void>): void {
    log.push(record);
    const excess = log.length - (this.options.logSize ?? 1000);
    if (excess > 0) log.splice(0, excess);
    for (const listener of listeners) {
      try {
        listener(record);
      } catch (error) {
        this.options.log?.('events', `a log listener failed: ${(error as Error).message}`);
      }
    }
  }
}

/** The size AWS counts for an entry: Time 14 bytes, then the UTF-8 bytes of the other fields. */
function entrySize(entry: PutEventsEntry): number {
  const bytes = (text: string | undefined) => (text === undefined ? 0 : Buffer.byteLength(text, 'utf8'));
  return (entry.Time === undefined ? 0 : 14)
    + bytes(entry.Source)
    + bytes(entry.DetailType)
    + bytes(entry.Detail)
    + (entry.Resources ?? []).reduce((total, resource) => total + bytes(resource), 0);
}

/** EventBridge event times are ISO 8601 to the second. */
function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
