/**
 * The `AWS::StepFunctions::StateMachine` provider: applies DefinitionSubstitutions, validates the
 * ASL, binds every Task state (also inside Parallel branches and Map processors) to a local
 * integration, and registers the machine in a {@link StateMachineRegistry}, where EventBridge
 * rule targets, Pipes and tests start executions. Executions run in aws-local-stepfunctions.
 *
 * LIMITATIONS (versus AWS):
 * - Every execution runs at once in this process and its promise settles when it ends (like
 *   StartSyncExecution), STANDARD ones too; nothing survives a restart (the history file is a log,
 *   not a store), and execution names are not checked for uniqueness.
 * - Only request-response integrations: `.sync` and `.waitForTaskToken` resources, activities,
 *   AWS SDK integrations other than DynamoDB, and optimized integrations other than DynamoDB
 *   get/put/update/deleteItem, sqs:sendMessage, sns:publish, events:putEvents and lambda:invoke are
 *   refused at create time. lambda:invoke always invokes synchronously (InvocationType, Qualifier
 *   and ClientContext are ignored); Lambda function-error causes carry no stack trace.
 * - AWS SDK DynamoDB parameters go to the SDK unchanged, so binary (`B`, `BS`) values in requests
 *   are not decoded from base64; binary values in responses are encoded as base64.
 * - Optimized results carry `SdkHttpMetadata.HttpStatusCode` and `SdkResponseMetadata.RequestId`
 *   but no HTTP headers.
 * - Error names: `DynamoDB.*` (optimized) and `DynamoDb.*` (AWS SDK, `Exception` appended when the
 *   code lacks it) follow the Step Functions guide; `SQS.*`, `SNS.*`, `EventBridge.*` apply the same
 *   suffix rule, and `<Service>.SdkClientException` for unanswered requests, by analogy — not
 *   confirmed against AWS. Causes mimic the Java SDK v1 (optimized) and v2 (AWS SDK) messages,
 *   with the local request id.
 * - `$$.State.Name`/`EnteredTime` are exact for top-level states; inside Parallel branches and Map
 *   iterations they still name the enclosing Parallel/Map state. `$$.State.RetryCount`,
 *   `$$.Task.Token` and `$$.Execution.RoleArn` are absent. `$$.Execution.StartTime` is set by the
 *   library, a moment after the record's startDate.
 * - Task states without TimeoutSeconds time out after 60 s (the library's default; AWS has none
 *   below the execution's), EXPRESS executions after 300 s unless TimeoutSeconds is lower.
 * - History: no TaskScheduled/TaskStarted/ParallelStateStarted events and no raw task result on
 *   TaskSucceeded. Log lines (LoggingConfiguration) are written at the end of each execution, in
 *   Step Functions' log-event format; IncludeExecutionData=false drops inputs and outputs only.
 * - RoleArn (no IAM locally), TracingConfiguration (no X-Ray), Tags and EncryptionConfiguration
 *   are ignored; DefinitionS3Location is refused (the SAM transform inlines DefinitionString).
 *
 * DURABILITY: an execution lives in this process only. One that an EventBridge rule started is
 * in the bus's delivery journal until it has ended, so an execution a SIGKILL cut short is
 * started again after the restart (at least once, as on AWS; the workflows are idempotent).
 * The history file (`<stateDir>/stepfunctions/executions.jsonl`) is appended without fsync when
 * an execution ends: a log, not a store.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { cacheDir, contentHash } from '../../cache.js';
import { localClientConfig } from '../../net.js';
import { checkProperties, expectBoolean, expectObject, expectString, where, ResourcePropertyError } from '../cfn-properties.js';
import type { LogStore } from '../logs/store.js';
import type { DeployedResource, ResolvedResource, ResourceProvider, RuntimeContext } from '../provider.js';
import type { EventBusIngress } from '../events/model.js';
import type { LambdaInvoker } from '../lambda/runtime.js';
import { integrationFor, UnsupportedResourceError, type Integration, type IntegrationServices, type SdkSender } from './integrations.js';
import { StateMachineRegistry, type ExecutionLogging, type StateMachineType } from './registry.js';

const SUPPORTED = ['DefinitionString', 'Definition', 'DefinitionSubstitutions', 'StateMachineName', 'StateMachineType', 'LoggingConfiguration'];
const IGNORED = ['RoleArn', 'TracingConfiguration', 'EncryptionConfiguration'];

/** Options of {@link StepFunctionsProvider}; a Task needing a service that is not given is refused at create time. */
export interface StepFunctionsProviderOptions {
  /** The region the SDK clients made from the endpoints sign for. */
  region: string;
  /** Where `stepfunctions/executions.jsonl` goes; nothing is written when absent. */
  stateDir?: string;
  /** DynamoDB Local's endpoint; a client is made and destroyed with the runtime. */
  dynamodbEndpoint?: string;
  /** The SQS engine's endpoint, for sqs:sendMessage. */
  sqsEndpoint?: string;
  /** The SNS engine's endpoint, for sns:publish. */
  snsEndpoint?: string;
  /** Ready clients, used instead of the endpoints (tests wrap real ones to inject failures). */
  clients?: { dynamodb?: SdkSender; sqs?: SdkSender; sns?: SdkSender };
  /** The local Lambda, for lambda:invoke and function ARNs. */
  lambda?: LambdaInvoker;
  /** The local EventBridge, for events:putEvents. */
  buses?: EventBusIngress;
  /** Receives the log lines of state machines with a LoggingConfiguration (the runtime's log store). */
  logs?: Pick<LogStore, 'append'>;
  /** Finished executions kept in memory (default 1000). */
  historyLimit?: number;
}

/** Creates `AWS::StepFunctions::StateMachine` resources; start their executions through {@link registry}. */
export class StepFunctionsProvider implements ResourceProvider {
  readonly type = 'AWS::StepFunctions::StateMachine';
  /** The created state machines, by ARN. */
  readonly registry: StateMachineRegistry;
  private readonly services: IntegrationServices;
  /** Clients made from endpoints, destroyed when the runtime stops. */
  private readonly madeClients: Array<{ destroy(): void }> = [];
  private stopRegistered = false;

  constructor(private readonly options: StepFunctionsProviderOptions) {
    const { region, stateDir, clients = {}, lambda, buses, logs, historyLimit } = options;
    this.registry = new StateMachineRegistry({
      historyLimit,
      logs,
      historyFile: stateDir === undefined ? undefined : join(stateDir, 'stepfunctions', 'executions.jsonl'),
    });
    const fromEndpoint = <C extends SdkSender & { destroy(): void }>(
      endpoint: string | undefined,
      make: (config: ReturnType<typeof localClientConfig>) => C,
    ): C | undefined => {
      if (endpoint === undefined) return undefined;
      const client = make(localClientConfig(endpoint, region));
      this.madeClients.push(client);
      return client;
    };
    this.services = {
      dynamodb: clients.dynamodb ?? fromEndpoint(options.dynamodbEndpoint, (config) => new DynamoDBClient(config)),
      sqs: clients.sqs ?? fromEndpoint(options.sqsEndpoint, (config) => new SQSClient(config)),
      sns: clients.sns ?? fromEndpoint(options.snsEndpoint, (config) => new SNSClient(config)),
      lambda,
      buses,
    };
  }

  /** Physical id and `Arn`: `arn:aws:states:<region>:<account>:stateMachine:<name>`; `Name`: the name. */
  async create(resource: ResolvedResource, context: RuntimeContext): Promise<DeployedResource> {
    if (!this.stopRegistered) {
      // Registered first, so it runs last: after every state machine's executions have settled.
      context.onStop(() => this.madeClients.forEach((client) => client.destroy()));
      this.stopRegistered = true;
    }
    checkProperties(resource, SUPPORTED, IGNORED, context);
    const { properties } = resource;
    const name =
      properties.StateMachineName === undefined
        ? `${resource.logicalId}-${stableSuffix(context.stackName, resource.logicalId)}`
        : expectString(properties.StateMachineName, where(resource, 'StateMachineName'));
    const arn = `arn:aws:states:${context.region}:${context.accountId}:stateMachine:${name}`;
    const label = `${resource.logicalId} (state machine ${name})`;
    const definition = parseDefinition(resource, label);
    const type = typeOf(resource);
    const logging = loggingOf(resource);
    this.registry.register({ arn, name, type, definition, tasks: bindTasks(definition, this.services, label), logging });
    context.onStop(() => this.registry.remove(arn));
    if (logging && !this.options.logs) context.log('stepfunctions', `${resource.logicalId}: no log store given, its ${logging.level} log lines are not written`);
    context.progress('stepfunctions', `created ${type} state machine ${name}`);
    return { physicalId: arn, attributes: { Arn: arn, Name: name } };
  }
}

/** CloudFormation names unnamed state machines `<LogicalId>-<12 characters>`; these stay the same across runs. */
function stableSuffix(stackName: string, logicalId: string): string {
  return createHash('sha256').update(`${stackName}/${logicalId}`).digest('base64url').replace(/[-_]/g, '').slice(0, 12);
}

function typeOf(resource: ResolvedResource): StateMachineType {
  const type = resource.properties.StateMachineType ?? 'STANDARD';
  if (type === 'STANDARD' || type === 'EXPRESS') return type;
  throw new ResourcePropertyError(`${where(resource, 'StateMachineType')} must be STANDARD or EXPRESS, got ${JSON.stringify(type)}`);
}

/** The definition text with `${Name}` replaced by DefinitionSubstitutions values, parsed and validated. */
function parseDefinition(resource: ResolvedResource, label: string): StateMachineDefinition {
  const { DefinitionString, Definition, DefinitionSubstitutions } = resource.properties;
  const text =
    DefinitionString !== undefined
      ? expectString(DefinitionString, where(resource, 'DefinitionString'))
      : Definition !== undefined
        ? JSON.stringify(expectObject(Definition, where(resource, 'Definition')))
        : undefined;
  if (text === undefined) throw new ResourcePropertyError(`${label}: needs DefinitionString or Definition`);
  const substitutions = DefinitionSubstitutions === undefined ? {} : expectObject(DefinitionSubstitutions, where(resource, 'DefinitionSubstitutions'));
  const substituted = text.replace(/\$\{([^}]*)\}/g, (_placeholder, variable: string) => {
    const value = substitutions[variable];
    if (value === undefined) throw new ResourcePropertyError(`${label}: the definition uses \${${variable}} but DefinitionSubstitutions has no value for ${variable}`);
    if (value === null || typeof value === 'object') throw new ResourcePropertyError(`${where(resource, `DefinitionSubstitutions.${variable}`)} must be a string, number or boolean`);
    // Escaped as JSON string content, so a value holding quotes or backslashes cannot break the definition.
    return JSON.stringify(String(value)).slice(1, -1);
  });
  let definition: StateMachineDefinition;
  try {
    definition = JSON.parse(substituted) as StateMachineDefinition;
    validateOnce(substituted, definition);
  } catch (error) {
    throw new ResourcePropertyError(`${label}: invalid definition: ${(error as Error).message}`, { cause: error });
  }
  return definition;
}

/** Definitions that passed validation before, by the hash of their text and the validator's version. */
const VALIDATED_DIR = cacheDir('asl');
/** Its package.json is not exported: it is read beside the resolved entry point (build/…). */
const VALIDATOR_VERSION = (JSON.parse(readFileSync(join(dirname(createRequire(import.meta.url).resolve('aws-local-stepfunctions')), '..', 'package.json'), 'utf8')) as { version: string }).version;

/**
 * Validates the ASL (schema, JSONPaths, ARNs, reachability) unless this very text passed before:
 * the validator compiles its whole JSON schema for every definition (~200 ms of a start each).
 */
function validateOnce(text: string, definition: StateMachineDefinition): void {
  const marker = join(VALIDATED_DIR, `${contentHash(VALIDATOR_VERSION, text)}.valid`);
  if (existsSync(marker)) return;
  new StateMachine(definition); // throws what the validator found
  mkdirSync(VALIDATED_DIR, { recursive: true });
  writeFileSync(marker, '');
}

/** The LoggingConfiguration, or undefined for level OFF (the default). */
function loggingOf(resource: ResolvedResource): ExecutionLogging | undefined {
  const config = resource.properties.LoggingConfiguration;
  if (config === undefined) return undefined;
  const at = (path: string): string => where(resource, `LoggingConfiguration${path}`);
  const { Level = 'OFF', IncludeExecutionData = false, Destinations } = expectObject(config, at(''));
  if (Level === 'OFF') return undefined;
  if (Level !== 'ALL' && Level !== 'ERROR' && Level !== 'FATAL') throw new ResourcePropertyError(`${at('.Level')} must be ALL, ERROR, FATAL or OFF`);
  const destination = expectObject(Array.isArray(Destinations) ? Destinations[0] : undefined, at('.Destinations[0]'));
  const logGroupArn = expectString(
    expectObject(destination.CloudWatchLogsLogGroup, at('.Destinations[0].CloudWatchLogsLogGroup')).LogGroupArn,
    at('.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn'),
  );
  const logGroup = /:log-group:([^:]+)/.exec(logGroupArn)?.[1];
  if (logGroup === undefined) throw new ResourcePropertyError(`${at('.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn')} must be a log group ARN, got ${logGroupArn}`);
  return { logGroup, level: Level, includeExecutionData: expectBoolean(IncludeExecutionData, at('.IncludeExecutionData')) };
}

type State = StateMachineDefinition['States'][string];

/** Every Task state, including those inside Parallel branches and Map item processors. */
function* taskStates(states: Record<string, State>): Generator<[string, Extract<State, { Type: 'Task' }>]> {
  for (const [name, state] of Object.entries(states)) {
    if (state.Type === 'Task') yield [name, state];
    else if (state.Type === 'Parallel') for (const branch of state.Branches) yield* taskStates(branch.States);
    else if (state.Type === 'Map') {
      const processor = state.ItemProcessor ?? state.Iterator;
      if (processor) yield* taskStates(processor.States);
    }
  }
}

/**
 * Binds each Task state's Resource to its integration by state name, which is how the library
 * looks handlers up; the ASL validation has already refused duplicate names, even across branches.
 */
function bindTasks(definition: StateMachineDefinition, services: IntegrationServices, label: string): Map<string, Integration> {
  const tasks = new Map<string, Integration>();
  for (const [stateName, state] of taskStates(definition.States)) {
    try {
      tasks.set(stateName, integrationFor(state.Resource, services));
    } catch (error) {
      if (!(error instanceof UnsupportedResourceError)) throw error;
      throw new ResourcePropertyError(`${label}: Task state "${stateName}": ${error.message}`, { cause: error });
    }
  }
  return tasks;
}
