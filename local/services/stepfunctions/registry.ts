/**
 * The deployed state machines and their executions: runs each execution with
 * aws-local-stepfunctions (Task states bound to the local integrations), supplies the context
 * object (`$$`), and keeps what happened for inspection — a bounded in-memory history, an
 * `executions.jsonl` file, the log lines the machine's LoggingConfiguration asks for, counters per
 * state machine, and a subscription so callers can wait on finished executions.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  ExecutionAbortedError, ExecutionError, ExecutionTimeoutError, StateMachine, type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import type { Json } from '../../template/parse.js';
import type { LogStore } from '../logs/store.js';
import type { Integration } from './integrations.js';

/** Express workflows run at most five minutes on AWS. */
const EXPRESS_MAX_DURATION_SECONDS = 300;
const DEFAULT_HISTORY_LIMIT = 1000;

export type StateMachineType = 'STANDARD' | 'EXPRESS';
export type ExecutionStatus = 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** Where and what a state machine logs (its LoggingConfiguration; OFF means none). */
export interface ExecutionLogging {
  /** The log group name (from the destination's LogGroupArn). */
  logGroup: string;
  level: 'ALL' | 'ERROR' | 'FATAL';
  includeExecutionData: boolean;
}

/** A state machine ready to run. */
export interface StateMachineSpec {
  arn: string;
  name: string;
  type: StateMachineType;
  /** The validated definition, DefinitionSubstitutions applied. */
  definition: StateMachineDefinition;
  /** The integration bound to each Task state, by state name (ASL requires names unique across branches). */
  tasks: ReadonlyMap<string, Integration>;
  logging?: ExecutionLogging;
}

/** One entry of an execution's history, named as in Step Functions' GetExecutionHistory. */
export interface HistoryEvent {
  id: number;
  /** `ExecutionStarted`, `TaskStateEntered`, `TaskSucceeded`, `TaskFailed`, `ChoiceStateExited`, `MapIterationStarted`, … */
  type: string;
  /** ISO 8601. */
  timestamp: string;
  stateName?: string;
  input?: Json;
  output?: Json;
  error?: string;
  cause?: string;
  /** The Map iteration an event belongs to. */
  index?: number;
}

/** A finished execution. */
export interface ExecutionRecord {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  input: Json;
  output?: Json;
  error?: string;
  cause?: string;
  /** ISO 8601. */
  startDate: string;
  stopDate: string;
  events: HistoryEvent[];
}

/** Executions of one state machine since the runtime started, for a `status` command. */
export interface StateMachineCounters {
  stateMachineArn: string;
  type: StateMachineType;
  started: number;
  succeeded: number;
  failed: number;
  timedOut: number;
  aborted: number;
}

/** Options of {@link StateMachineRegistry.startExecution}. */
export interface StartExecutionOptions {
  /** The execution name; a UUID when absent, as on AWS. */
  name?: string;
}

/** Thrown by {@link StateMachineRegistry.startExecution} for an ARN that names no state machine. */
export class StateMachineDoesNotExist extends Error {
  override name = 'StateMachineDoesNotExist';
}

type LibraryEvent = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

/** An execution that has started: what DescribeExecution shows of it while it runs, and its end. */
export interface StartedExecution {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  input: Json;
  /** ISO 8601. */
  startDate: string;
  finished: Promise<ExecutionRecord>;
}

interface RunningExecution extends StartedExecution {
  abort: () => void;
}

interface RegisteredMachine {
  spec: StateMachineSpec;
  counters: StateMachineCounters;
  running: Set<RunningExecution>;
}

/** The `$$.State` object of one execution, updated as states are entered. */
interface StateContext {
  Name: string;
  EnteredTime: string;
}

/**
 * The deployed state machines. Callers (EventBridge rule targets, Pipes, tests) start executions
 * here; every execution runs at once and its promise settles when it has finished.
 */
export class StateMachineRegistry {
  private readonly machines = new Map<string, RegisteredMachine>();
  private readonly history: ExecutionRecord[] = [];
  private readonly listeners = new Set<(record: ExecutionRecord) => void>();
  private readonly historyLimit: number;
  private readonly logs: Pick<LogStore, 'append'> | undefined;
  private readonly historyFile: string | undefined;

  /**
   * @param options.historyLimit finished executions kept in memory (default 1000)
   * @param options.logs where execution log lines go (the runtime's log store); none are written without it
   * @param options.historyFile a JSON-lines file every finished execution is appended to
   */
  constructor(options: { historyLimit?: number; logs?: Pick<LogStore, 'append'>; historyFile?: string } = {}) {
    this.historyLimit = options.historyLimit ?? DEFAULT_HISTORY_LIMIT;
    this.logs = options.logs;
    this.historyFile = options.historyFile;
    if (this.historyFile !== undefined) mkdirSync(dirname(this.historyFile), { recursive: true });
  }

  /** Makes a state machine startable by its ARN. */
  register(spec: StateMachineSpec): void {
    const definition =
      spec.type === 'EXPRESS'
        ? { ...spec.definition, TimeoutSeconds: Math.min(spec.definition.TimeoutSeconds ?? EXPRESS_MAX_DURATION_SECONDS, EXPRESS_MAX_DURATION_SECONDS) }
        : spec.definition;
    this.machines.set(spec.arn, {
      spec: { ...spec, definition },
      counters: { stateMachineArn: spec.arn, type: spec.type, started: 0, succeeded: 0, failed: 0, timedOut: 0, aborted: 0 },
      running: new Set(),
    });
  }

  /** Forgets a state machine, aborting its running executions and waiting until they have settled. */
  async remove(stateMachineArn: string): Promise<void> {
    const machine = this.machines.get(stateMachineArn);
    if (!machine) return;
    this.machines.delete(stateMachineArn);
    const running = [...machine.running];
    for (const execution of running) execution.abort();
    await Promise.allSettled(running.map((execution) => execution.finished));
  }

  /**
   * Runs an execution now and resolves with its record once it has finished, whatever its status
   * (like StartSyncExecution); rejects only for an unknown ARN or an input that is not JSON.
   * @param input the execution input: JSON text (a string, as StartExecution takes it, e.g. an
   *   EventBridge target's input) or a JSON value; `{}` when absent
   */
  async startExecution(stateMachineArn: string, input: unknown = {}, options: StartExecutionOptions = {}): Promise<ExecutionRecord> {
    return this.launch(stateMachineArn, input, options).finished;
  }

  /**
   * Starts an execution and returns at once (as StartExecution does), with its ARN and a promise
   * of its record; throws for an unknown ARN or an input that is not JSON.
   */
  launch(stateMachineArn: string, input: unknown = {}, options: StartExecutionOptions = {}): StartedExecution {
    const machine = this.machines.get(stateMachineArn);
    if (!machine) throw new StateMachineDoesNotExist(`State Machine Does Not Exist: '${stateMachineArn}'`);
    const { spec } = machine;
    const executionInput = JSON.parse(typeof input === 'string' ? input : JSON.stringify(input)) as Json;
    const name = options.name ?? randomUUID();
    const executionArn = executionArnOf(spec, name);

    const state: StateContext = { Name: '', EnteredTime: '' };
    const runner = new StateMachine({ ...spec.definition, States: stampOnEntry(spec.definition.States, state) }, { validationOptions: { noValidate: true } });
    const task = { executionArn, stateMachineArn };
    const startDate = new Date().toISOString();
    const run = runner.run(executionInput, {
      overrides: {
        taskResourceLocalHandlers: Object.fromEntries(
          [...spec.tasks].map(([stateName, integration]) => [stateName, (parameters: Json) => integration(parameters, task)]),
        ),
      },
      // The library fills in $$.Execution.Input and StartTime itself.
      context: {
        Execution: { Id: executionArn, Name: name, RedriveCount: 0 },
        StateMachine: { Id: stateMachineArn, Name: spec.name },
        State: state,
      },
    });
    machine.counters.started += 1;
    const finished = (async (): Promise<ExecutionRecord> => {
      const history = historyOf(run.eventLogs);
      let outcome: Pick<ExecutionRecord, 'status' | 'output' | 'error' | 'cause'>;
      try {
        outcome = { status: 'SUCCEEDED', output: (await run.result) as Json };
      } catch (error) {
        outcome = outcomeOf(error);
      }
      const record: ExecutionRecord = {
        executionArn, stateMachineArn, name, input: executionInput, ...outcome,
        startDate, stopDate: new Date().toISOString(), events: await history,
      };
      this.finish(machine, record);
      return record;
    })();
    const running: RunningExecution = {
      executionArn, stateMachineArn, name, input: executionInput, startDate, abort: run.abort,
      finished: finished.finally(() => machine.running.delete(running)),
    };
    machine.running.add(running);
    return running;
  }

  /** The registered state machines. */
  stateMachines(): StateMachineSpec[] {
    return [...this.machines.values()].map(({ spec }) => spec);
  }

  /** The executions still running, optionally of one state machine. */
  runningExecutions(stateMachineArn?: string): StartedExecution[] {
    return [...this.machines.values()]
      .filter(({ spec }) => stateMachineArn === undefined || spec.arn === stateMachineArn)
      .flatMap(({ running }) => [...running]);
  }

  /** Calls `listener` with every execution that finishes from now on; returns the unsubscribe function. */
  onExecutionFinished(listener: (record: ExecutionRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The last finished executions (oldest first), optionally of one state machine. */
  executions(stateMachineArn?: string): ExecutionRecord[] {
    return stateMachineArn === undefined ? [...this.history] : this.history.filter((record) => record.stateMachineArn === stateMachineArn);
  }

  /** Counters of every registered state machine, by state machine name. */
  counters(): Record<string, StateMachineCounters> {
    return Object.fromEntries([...this.machines.values()].map(({ spec, counters }) => [spec.name, { ...counters }]));
  }

  private finish(machine: RegisteredMachine, record: ExecutionRecord): void {
    const { counters, spec } = machine;
    const counter = ({ SUCCEEDED: 'succeeded', FAILED: 'failed', TIMED_OUT: 'timedOut', ABORTED: 'aborted' } as const)[record.status];
    counters[counter] += 1;
    this.history.push(record);
    if (this.history.length > this.historyLimit) this.history.shift();
    if (this.historyFile !== undefined) appendFileSync(this.historyFile, `${JSON.stringify(record)}\n`);
    if (spec.logging && this.logs) {
      for (const line of logLines(record, spec.logging)) this.logs.append(spec.logging.logGroup, line);
    }
    for (const listener of this.listeners) {
      try {
        listener(record);
      } catch (error) {
        // A subscriber's bug must not turn a finished execution into a failed start.
        process.emitWarning(`onExecutionFinished listener threw: ${(error as Error).message}`);
      }
    }
  }
}

/** Express: `…:express:<machine>:<name>:<id>`; Standard: `…:execution:<machine>:<name>`. */
function executionArnOf(spec: StateMachineSpec, name: string): string {
  const base = spec.arn.replace(':stateMachine:', spec.type === 'EXPRESS' ? ':express:' : ':execution:');
  return spec.type === 'EXPRESS' ? `${base}:${name}:${randomUUID()}` : `${base}:${name}`;
}

/**
 * Fills `$$.State.Name`/`EnteredTime` as each top-level state is entered. aws-local-stepfunctions
 * reads `States[name]` exactly once, immediately before entering that state, and offers no other
 * synchronous hook (its event log is delivered asynchronously, after Parameters are evaluated).
 */
function stampOnEntry(states: StateMachineDefinition['States'], state: StateContext): StateMachineDefinition['States'] {
  return new Proxy(states, {
    get(target, property, receiver) {
      if (typeof property === 'string' && Object.hasOwn(target, property)) {
        state.Name = property;
        state.EnteredTime = new Date().toISOString();
      }
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
}

function outcomeOf(error: unknown): Pick<ExecutionRecord, 'status' | 'error' | 'cause'> {
  if (error instanceof ExecutionTimeoutError) return { status: 'TIMED_OUT', error: 'States.Timeout' };
  if (error instanceof ExecutionAbortedError) return { status: 'ABORTED' };
  const failure = error instanceof ExecutionError ? error.cause : error;
  return failure instanceof Error
    ? { status: 'FAILED', error: failure.name, cause: failure.message }
    : { status: 'FAILED', error: 'States.Runtime', cause: String(failure) };
}

function causeText(cause: unknown): string {
  return typeof cause === 'string' ? cause : JSON.stringify(cause);
}

/**
 * Turns the library's event log into Step Functions history events. The library reports no
 * TaskScheduled/TaskStarted and no raw task result, so TaskSucceeded carries no output (the
 * state's output is on TaskStateExited); retries and catches have no history event on AWS either.
 */
async function historyOf(events: AsyncGenerator<LibraryEvent>): Promise<HistoryEvent[]> {
  const history: HistoryEvent[] = [];
  const caught = new Set<string>();
  const add = (event: LibraryEvent, entry: Omit<HistoryEvent, 'id' | 'timestamp'>): void => {
    history.push({ id: history.length + 1, timestamp: new Date(event.timestamp).toISOString(), ...entry });
  };
  for await (const event of events) {
    switch (event.type) {
      case 'ExecutionStarted':
        add(event, { type: event.type, input: event.input });
        break;
      case 'ExecutionSucceeded':
        add(event, { type: event.type, output: event.output });
        break;
      case 'ExecutionFailed':
        add(event, { type: event.type, error: event.Error, cause: causeText(event.Cause) });
        break;
      case 'ExecutionAborted':
        add(event, { type: event.type });
        break;
      case 'ExecutionTimeout':
        add(event, { type: 'ExecutionTimedOut', error: 'States.Timeout' });
        break;
      case 'StateEntered':
        add(event, { type: `${event.state.type}StateEntered`, stateName: event.state.name, input: event.state.input, index: event.index });
        break;
      case 'StateCaught':
        caught.add(`${event.state.name}#${event.index}`);
        break;
      case 'StateExited': {
        const { name, type, output } = event.state;
        // A caught failure also exits the state; only a task that returned succeeded.
        if (type === 'Task' && !caught.delete(`${name}#${event.index}`)) add(event, { type: 'TaskSucceeded', stateName: name, index: event.index });
        add(event, { type: `${type}StateExited`, stateName: name, output, index: event.index });
        break;
      }
      case 'StateFailed': {
        const { name, type } = event.state;
        const failed = type === 'Task' ? 'TaskFailed' : type === 'Map' || type === 'Parallel' ? `${type}StateFailed` : undefined;
        if (failed) add(event, { type: failed, stateName: name, error: event.Error, cause: causeText(event.Cause), index: event.index });
        break;
      }
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
        add(event, { type: event.type, stateName: event.parentState.name, index: event.index });
        break;
      case 'MapIterationFailed':
        add(event, { type: event.type, stateName: event.parentState.name, index: event.index, error: event.Error, cause: causeText(event.Cause) });
        break;
      default:
        // StateRetried, ParallelBranch*: Step Functions' history has no such events.
        break;
    }
  }
  return history;
}

const FATAL_EVENTS = new Set(['ExecutionFailed', 'ExecutionAborted', 'ExecutionTimedOut']);

/** The CloudWatch Logs lines Step Functions writes for `logging.level`, in its log-event format. */
function logLines(record: ExecutionRecord, logging: ExecutionLogging): string[] {
  const wanted = (type: string): boolean =>
    logging.level === 'ALL' || FATAL_EVENTS.has(type) || (logging.level === 'ERROR' && /(Failed|Aborted|TimedOut)$/.test(type));
  return record.events
    .filter((event) => wanted(event.type))
    .map((event) => {
      const { error, cause, input, output } = event;
      const data = logging.includeExecutionData
        ? { ...(input === undefined ? {} : { input: JSON.stringify(input) }), ...(output === undefined ? {} : { output: JSON.stringify(output) }) }
        : {};
      return JSON.stringify({
        id: String(event.id),
        type: event.type,
        details: {
          ...(event.stateName === undefined ? {} : { name: event.stateName }),
          ...(error === undefined ? {} : { error }),
          ...(cause === undefined ? {} : { cause }),
          ...data,
        },
        previous_event_id: String(event.id - 1),
        event_timestamp: String(Date.parse(event.timestamp)),
        execution_arn: record.executionArn,
        redrive_count: '0',
      });
    });
}
