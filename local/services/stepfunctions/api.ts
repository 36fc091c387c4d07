/**
 * Step Functions' API (JSON 1.0, target prefix `AWSStepFunctions`) on the local state machines:
 * ListStateMachines, DescribeStateMachine, StartExecution, StartSyncExecution, DescribeExecution,
 * ListExecutions and GetExecutionHistory.
 *
 * LIMITATIONS: AWS answers DescribeExecution, ListExecutions and GetExecutionHistory for Standard
 * workflows only (an Express workflow's history is in its logs); locally they also answer for
 * Express executions, from the runtime's bounded in-memory history (the last 1000 finished), so
 * that the template's Express workflows can be inspected. No pagination. StartSyncExecution is
 * sent by the SDKs to the `sync-` host prefix: set `disableHostPrefix: true` on the SDK client.
 */
import { AwsApiError, requiredString, type ApiInput, type ServiceOperations } from '../api.js';
import type { Json } from '../../template/parse.js';
import { StateMachineDoesNotExist, type ExecutionRecord, type HistoryEvent, type StartedExecution, type StateMachineRegistry } from './registry.js';

/** An execution as the API shows it: finished, or still running. */
type ExecutionView = Omit<ExecutionRecord, 'events' | 'status'> & { status: ExecutionRecord['status'] | 'RUNNING' };

function jsonText(value: Json | undefined): string | undefined {
  return value === undefined ? undefined : JSON.stringify(value);
}

/** The name of an event type's details member, as GetExecutionHistory names it (`TaskStateEntered` → `stateEnteredEventDetails`). */
function detailsMember(type: string): string {
  const state = /StateEntered$|StateExited$/.exec(type);
  const base = state ? `state${state[0].slice('State'.length)}` : type;
  return `${base.charAt(0).toLowerCase()}${base.slice(1)}EventDetails`;
}

function historyEvent(event: HistoryEvent, previous: number) {
  const details = {
    ...(event.stateName === undefined ? {} : { name: event.stateName }),
    ...(event.type.startsWith('MapIteration') ? { index: event.index } : {}),
    ...(event.input === undefined ? {} : { input: jsonText(event.input) }),
    ...(event.output === undefined ? {} : { output: jsonText(event.output) }),
    ...(event.error === undefined ? {} : { error: event.error }),
    ...(event.cause === undefined ? {} : { cause: event.cause }),
  };
  return {
    timestamp: new Date(event.timestamp),
    type: event.type,
    id: event.id,
    previousEventId: previous,
    ...(Object.keys(details).length === 0 ? {} : { [detailsMember(event.type)]: details }),
  };
}

/** @param createdAt when the state machines were created (the run's start): their creationDate. */
export function stepFunctionsApi(registry: StateMachineRegistry, createdAt: Date): ServiceOperations {
  const machine = (arn: string) => {
    const found = registry.stateMachines().find((spec) => spec.arn === arn);
    if (found === undefined) throw new AwsApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    return found;
  };
  const view = (execution: ExecutionRecord | StartedExecution): ExecutionView =>
    'status' in execution ? execution : { ...execution, status: 'RUNNING', stopDate: '' };
  const find = (arn: string): ExecutionView => {
    const running = registry.runningExecutions().find((execution) => execution.executionArn === arn);
    const finished = registry.executions().find((execution) => execution.executionArn === arn);
    const found = finished ?? running;
    if (found === undefined) throw new AwsApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return view(found);
  };
  /** What ListExecutions shows of an execution. */
  const summary = (execution: ExecutionView) => ({
    executionArn: execution.executionArn,
    stateMachineArn: execution.stateMachineArn,
    name: execution.name,
    status: execution.status,
    startDate: new Date(execution.startDate),
    ...(execution.stopDate === '' ? {} : { stopDate: new Date(execution.stopDate) }),
  });
  const describe = (execution: ExecutionView) => ({
    ...summary(execution),
    input: jsonText(execution.input),
    ...(execution.output === undefined ? {} : { output: jsonText(execution.output) }),
    ...(execution.error === undefined ? {} : { error: execution.error }),
    ...(execution.cause === undefined ? {} : { cause: execution.cause }),
  });
  const start = (input: ApiInput): StartedExecution => {
    const arn = requiredString(input, 'stateMachineArn');
    machine(arn);
    const name = typeof input.name === 'string' ? input.name : undefined;
    if (name !== undefined && [...registry.executions(arn), ...registry.runningExecutions(arn)].some((execution) => execution.name === name)) {
      throw new AwsApiError('ExecutionAlreadyExists', `Execution Already Exists: '${name}'`);
    }
    try {
      return registry.launch(arn, typeof input.input === 'string' ? input.input : '{}', name === undefined ? {} : { name });
    } catch (error) {
      if (error instanceof StateMachineDoesNotExist) throw new AwsApiError('StateMachineDoesNotExist', error.message);
      if (error instanceof SyntaxError) throw new AwsApiError('InvalidExecutionInput', `Invalid State Machine Execution Input: '${error.message}'`);
      throw error;
    }
  };
  return {
    ListStateMachines: () => ({
      stateMachines: registry.stateMachines().map((spec) => ({ stateMachineArn: spec.arn, name: spec.name, type: spec.type, creationDate: createdAt })),
    }),
    DescribeStateMachine: (input) => {
      const spec = machine(requiredString(input, 'stateMachineArn'));
      return {
        stateMachineArn: spec.arn,
        name: spec.name,
        status: 'ACTIVE',
        definition: JSON.stringify(spec.definition),
        type: spec.type,
        creationDate: createdAt,
        loggingConfiguration: { level: spec.logging?.level ?? 'OFF', includeExecutionData: spec.logging?.includeExecutionData ?? false },
      };
    },
    StartExecution: (input) => {
      const execution = start(input);
      return { executionArn: execution.executionArn, startDate: new Date(execution.startDate) };
    },
    StartSyncExecution: async (input) => {
      const spec = machine(requiredString(input, 'stateMachineArn'));
      if (spec.type !== 'EXPRESS') throw new AwsApiError('StateMachineTypeNotSupported', 'This operation is supported by Express state machines only.');
      const record = await start(input).finished;
      return { ...describe(view(record)), status: record.status === 'SUCCEEDED' ? 'SUCCEEDED' : record.status === 'TIMED_OUT' ? 'TIMED_OUT' : 'FAILED' };
    },
    DescribeExecution: (input) => describe(find(requiredString(input, 'executionArn'))),
    ListExecutions: (input) => {
      const arn = requiredString(input, 'stateMachineArn');
      machine(arn);
      const all = [...registry.runningExecutions(arn).map(view), ...registry.executions(arn).reverse()];
      const wanted = all.filter((execution) => input.statusFilter === undefined || execution.status === input.statusFilter);
      const limit = typeof input.maxResults === 'number' && input.maxResults > 0 ? input.maxResults : wanted.length;
      return { executions: wanted.slice(0, limit).map(summary) };
    },
    GetExecutionHistory: (input) => {
      const arn = requiredString(input, 'executionArn');
      const record = registry.executions().find((execution) => execution.executionArn === arn);
      if (record === undefined) {
        find(arn);
        // Still running: its history is assembled when it ends.
        return { events: [] };
      }
      const events = record.events.map((event, index) => historyEvent(event, index === 0 ? 0 : record.events[index - 1]!.id));
      return { events: input.reverseOrder === true ? events.reverse() : events };
    },
  };
}
