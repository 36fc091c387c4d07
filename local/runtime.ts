/**
 * The local runtime: loads `template.yaml`, starts the local engines (DynamoDB Local, the SQS/SNS
 * emulator) and creates every resource of the template, in dependency order, with the provider
 * of its type. Nothing here names a resource of the template: whatever the template declares is
 * what runs. The services count what AWS would bill (DynamoDB through a metering proxy that every
 * client uses); `usage()` gathers the counts.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { LOOPBACK, freePort, localClientConfig } from './net.js';
import { loadTemplate, type LoadedTemplate } from './template/loader.js';
import { TemplateError } from './template/parse.js';
import type { DeployedResource, ResourceProvider, RuntimeContext } from './services/provider.js';
import { startDynamoDbLocal } from './services/dynamodb/engine.js';
import { startMeteringProxy } from './services/dynamodb/metering-proxy.js';
import { createTableProvider } from './services/dynamodb/table-provider.js';
import { startMessaging } from './services/messaging/engine.js';
import { messagingProviders } from './services/messaging/providers.js';
import { LogStore } from './services/logs/store.js';
import { LambdaRuntime } from './services/lambda/runtime.js';
import { createEventSourceMappingProvider, createFunctionProvider, permissionProvider } from './services/lambda/providers.js';
import { StepFunctionsProvider } from './services/stepfunctions/provider.js';
import { EventBridgeService } from './services/events/bus.js';
import { eventsProviders } from './services/events/providers.js';
import { TargetSenders } from './services/targets/registry.js';
import { sqsSender } from './services/targets/sqs.js';
import { snsSender } from './services/targets/sns.js';
import { lambdaSender } from './services/targets/lambda.js';
import { stateMachineSender } from './services/targets/states.js';
import { logGroupSender } from './services/targets/logs.js';
import { eventBusSender } from './services/targets/event-bus.js';
import { apiDestinationSender } from './services/targets/api-destination.js';
import type { ApiEndpointMap } from './services/apigateway/endpoints.js';
import { createApiGatewayProviders } from './services/apigateway/providers.js';
import { SchedulerService, schedulerProviders } from './services/scheduler/provider.js';
import { ApiGatewayThread } from './services/apigateway/thread.js';
import { lowerPipelinePriority } from './priority.js';
import { ServiceThread } from './service-thread.js';
import { createPipeProvider, type Pipe } from './services/pipes/pipe.js';
import { createCustomResourceProvider } from './services/cloudformation/custom-resource.js';
import { passiveProviders } from './services/passive.js';
import { UsageMeter, type UsageReport } from './services/usage.js';
import { startAwsEndpoint } from './endpoint/server.js';
import { endpointServices } from './endpoint/services.js';

/** How to run the template; every field has a default that suits `npm start`. */
export interface RuntimeOptions {
  templatePath?: string;
  /** State folder (default `.wims` beside the template); ignored when `inMemory`. */
  stateDir?: string;
  inMemory?: boolean;
  /** Discard the state folder first. */
  reset?: boolean;
  /** Port of the first REST API; further APIs take the next ports (default 3000; 0: free ports chosen by the OS). */
  apiPort?: number;
  /** Port of the AWS endpoint that serves every emulated AWS API (default 0: a free port chosen by the OS; `wims up` fixes one). */
  awsPort?: number;
  parameterOverrides?: Record<string, string>;
  /** The template is `sam build`'s (.aws-sam/build/template.yaml): run each function's built code as it is instead of bundling it. */
  prebuiltCode?: boolean;
  stackName?: string;
  region?: string;
  accountId?: string;
  /** Diagnostics: what went wrong, or will. */
  log?: (component: string, message: string) => void;
  /** Also pass start-up progress (each resource created) to `log`. */
  verbose?: boolean;
}

/** Settings the template gives that the local runtime accepts without emulating, by resource. */
export interface NotEmulated {
  logicalId: string;
  features: readonly string[];
}

/** A running local stack. */
export interface LocalStack {
  outputs: Record<string, string>;
  /** Deployed resources by logical id (physical id and attributes). */
  resources: Map<string, DeployedResource>;
  template: LoadedTemplate;
  /** `aws`: the one AWS endpoint for SDKs and the CLI; `dynamodb` and `sqs`: the engines themselves, for the runtime's own clients. */
  endpoints: { aws: string; dynamodb: string; sqs: string; apis: Array<{ logicalId: string; url: string }> };
  stateDir: string | undefined;
  lambda: LambdaRuntime;
  events: EventBridgeService;
  scheduler: SchedulerService;
  stepFunctions: StepFunctionsProvider;
  apiGateway: ApiGatewayThread;
  pipes: Map<string, Pipe>;
  logs: LogStore;
  outboxDir: string;
  startupMs: number;
  notEmulated: readonly NotEmulated[];
  /** Billable units since start, per AWS service (what AWS would bill; see services/usage.ts). */
  usage(): UsageReport;
  /** This Node process and the DynamoDB Local Java process, e.g. for sampling memory. */
  processIds(): number[];
  /** CPU milliseconds so far of the runtime's service threads (the sandboxes' is in `lambda.stats()`), by thread. */
  serviceThreadCpuMs(): Record<string, number>;
  /** The DynamoDB Local process behind the metering proxy: a new one on this port and state folder takes its place (the chaos suite restarts it). */
  dynamodbEngine: { port: number; pid: number };
  stop(): Promise<void>;
}

/** Boots the whole template locally. Rejects (after cleaning up) if any resource fails. */
export async function startLocalStack(options: RuntimeOptions = {}): Promise<LocalStack> {
  const started = Date.now();
  const templatePath = resolve(options.templatePath ?? 'template.yaml');
  const stateDir = options.inMemory ? undefined : resolve(options.stateDir ?? join(dirname(templatePath), '.wims'));
  if (stateDir && options.reset) rmSync(stateDir, { recursive: true, force: true });
  if (stateDir) mkdirSync(stateDir, { recursive: true });
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  const stackName = options.stackName ?? 'wims-local';
  const log = options.log ?? (() => undefined);
  const notEmulated: NotEmulated[] = [];

  const stopSteps: Array<() => Promise<void> | void> = [];
  const context: RuntimeContext = {
    region,
    accountId,
    stackName,
    stateDir,
    onStop: (step) => stopSteps.push(step),
    log,
    progress: options.verbose ? log : () => undefined,
    notEmulated: (logicalId, features) => void notEmulated.push({ logicalId, features }),
  };
  const stop = async (): Promise<void> => {
    for (const step of stopSteps.splice(0).reverse()) {
      await Promise.resolve().then(step).catch((error: Error) => log('runtime', `stop step failed: ${error.message}`));
    }
  };

  try {
    // DynamoDB Local's JVM is the slowest part of the start: it starts first, and the template is
    // read and the resources that need no table (queues, bundles, state machines, APIs) are
    // created while it boots; tables wait for it.
    const dynamodbPort = await freePort();
    const abandonDynamodb = new AbortController();
    const dynamodbStart = startDynamoDbLocal({ stateDir, port: dynamodbPort, signal: abandonDynamodb.signal });
    // A failed start is reported by the first table's creation (or below); never left unhandled.
    dynamodbStart.catch(() => undefined);
    stopSteps.push(() => {
      // A start that fails early (a template error) does not wait for the JVM to answer first.
      abandonDynamodb.abort();
      return dynamodbStart.then((engine) => engine.stop(), () => undefined);
    });
    const template = loadTemplate(templatePath, { parameterOverrides: options.parameterOverrides, region, accountId, stackName });
    const messaging = await startMessaging({ region, accountId, stateDir });
    stopSteps.push(() => messaging.stop());
    // Intake's services run on a thread of their own: the metering proxy and API Gateway.
    const intakeThread = new ServiceThread((message) => log('runtime', message));
    stopSteps.push(() => intakeThread.stop());
    // Every DynamoDB client goes through the metering proxy, so that every billable request is counted.
    const meteredDynamodb = await startMeteringProxy(`http://${LOOPBACK}:${dynamodbPort}`, intakeThread);
    stopSteps.push(() => meteredDynamodb.stop());

    const logs = new LogStore(stateDir && join(stateDir, 'logs'));
    // Filled in by API Gateway as each API's server listens: functions and API destinations call APIs by their AWS URL.
    const apiEndpoints: ApiEndpointMap = {};
    const lambda = new LambdaRuntime(logs, apiEndpoints);
    stopSteps.push(() => lambda.stop());
    const endpoints = { dynamodb: meteredDynamodb.endpoint, sqs: messaging.endpoint, sns: messaging.endpoint };
    // The bus accepts (and journals) events from here on, Step Functions' events:putEvents among them;
    // it delivers them once it has its senders, after every resource exists.
    const events = new EventBridgeService({ region, accountId, stateDir, log });
    const stepFunctions = new StepFunctionsProvider({
      region,
      stateDir,
      logs,
      dynamodbEndpoint: meteredDynamodb.endpoint,
      sqsEndpoint: messaging.endpoint,
      snsEndpoint: messaging.endpoint,
      lambda,
      buses: events,
    });
    const sqs = new SQSClient(localClientConfig(messaging.endpoint, region));
    const sns = new SNSClient(localClientConfig(messaging.endpoint, region));
    stopSteps.push(() => [sqs, sns].forEach((client) => client.destroy()));
    const senders = new TargetSenders({
      sqs: sqsSender(sqs),
      sns: snsSender(sns),
      lambda: lambdaSender(lambda),
      states: stateMachineSender(stepFunctions.registry),
      logs: logGroupSender(logs),
      'event-bus': eventBusSender(events),
      'api-destination': apiDestinationSender(events.apiDestinations, apiEndpoints),
    });
    // Stopped before the senders' clients, so that no delivery is cut short by a closed client.
    stopSteps.push(() => events.stop());
    const scheduler = new SchedulerService({ senders, log });
    stopSteps.push(() => scheduler.stop());
    const pipes = new Map<string, Pipe>();
    const restApis = template.resourcesOfType('AWS::ApiGateway::RestApi');
    const basePort = options.apiPort ?? 3000;
    // Port 0 lets the OS pick a free port for every API (tests run beside other servers).
    const portFor = (logicalId: string): number => (basePort === 0 ? 0 : basePort + restApis.indexOf(logicalId));
    const apiGateway = new ApiGatewayThread({
      region,
      accountId,
      dynamodbEndpoint: meteredDynamodb.endpoint,
      lambda,
      logs,
      portFor,
      endpoints: apiEndpoints,
      thread: intakeThread,
    });
    stopSteps.push(() => apiGateway.stop());
    // Intake's thread and DynamoDB Local exist: from here on this thread, and what it starts, yield the CPU to them.
    lowerPipelinePriority((message) => log('runtime', message));

    const providers = new Map<string, ResourceProvider>();
    const register = (provider: ResourceProvider): void => void providers.set(provider.type, provider);
    [
      createTableProvider({ endpoint: meteredDynamodb.endpoint, ready: dynamodbStart }),
      ...messagingProviders(messaging, senders),
      createFunctionProvider(lambda, endpoints, options.prebuiltCode),
      createEventSourceMappingProvider(lambda, endpoints),
      permissionProvider,
      stepFunctions,
      ...eventsProviders(events),
      ...schedulerProviders(scheduler),
      ...createApiGatewayProviders(apiGateway),
      createPipeProvider({ dynamodbEndpoint: meteredDynamodb.endpoint, tableWrites: meteredDynamodb, sqsEndpoint: messaging.endpoint, lambda, senders }, pipes),
      ...passiveProviders,
    ].forEach(register);
    for (const type of template.customResourceTypes()) register(createCustomResourceProvider(type, lambda));

    const resources = await deployAll(template, providers, context);
    const dynamodb = await dynamodbStart;
    await lambda.warmAll();
    // What the bus accepted while the stack was created, and what a previous run (stopped or killed) had not delivered.
    const resumed = events.startDeliveries(senders);
    if (resumed > 0) log('events', `resuming ${resumed} deliveries a previous run had not finished`);
    const outputs = template.resolveOutputs(resources);
    const usageMeter = new UsageMeter({
      template,
      resources,
      dynamodb: meteredDynamodb,
      messaging: messaging.meter,
      lambda,
      events,
      stepFunctions: stepFunctions.registry,
      apiGateway,
      pipes,
    });
    stopSteps.push(() => usageMeter.stop());
    // The AWS endpoint only serves callers (SDKs, the CLI, `wims`): the stack's own traffic never goes through it.
    const awsEndpoint = await startAwsEndpoint(options.awsPort ?? 0, endpointServices({
      template, resources, startedAt: new Date(started), dynamodbEndpoint: meteredDynamodb.endpoint, messagingEndpoint: messaging.endpoint,
      events, stateMachines: stepFunctions.registry, lambda, logs, pipes, outputs, apiGateway,
    }));
    stopSteps.push(() => awsEndpoint.stop());
    const startupMs = Date.now() - started;
    const stack: LocalStack = {
      outputs,
      resources,
      template,
      endpoints: { aws: awsEndpoint.url, dynamodb: meteredDynamodb.endpoint, sqs: messaging.endpoint, apis: apiGateway.urls() },
      stateDir,
      lambda,
      events,
      scheduler,
      stepFunctions,
      apiGateway,
      pipes,
      logs,
      outboxDir: messaging.outboxDir,
      startupMs,
      notEmulated,
      usage: () => usageMeter.usage(),
      processIds: () => [process.pid, dynamodb.pid],
      serviceThreadCpuMs: () => ({ 'intake (API Gateway, DynamoDB metering proxy)': intakeThread.cpuMs() }),
      dynamodbEngine: { port: dynamodb.port, pid: dynamodb.pid },
      stop,
    };
    return stack;
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Creates every resource once all it refers to exists; independent resources are created
 * concurrently (as CloudFormation does), which keeps start-up short.
 */
async function deployAll(
  template: LoadedTemplate,
  providers: Map<string, ResourceProvider>,
  context: RuntimeContext,
): Promise<Map<string, DeployedResource>> {
  const deployed = new Map<string, DeployedResource>();
  const order = template.deploymentOrder();
  for (const logicalId of order) {
    const type = template.typeOf(logicalId);
    if (!providers.has(type)) {
      throw new TemplateError(`Resources.${logicalId}: type ${type} is not supported by the local runtime`);
    }
  }
  const creations = new Map<string, Promise<void>>();
  const create = (logicalId: string): Promise<void> => {
    let creation = creations.get(logicalId);
    if (!creation) {
      creation = (async () => {
        await Promise.all(template.dependenciesOf(logicalId).map(create));
        const resource = template.resolveResource(logicalId, deployed);
        const provider = providers.get(resource.type)!;
        try {
          deployed.set(logicalId, await provider.create(resource, context));
        } catch (error) {
          throw new Error(`${logicalId} (${resource.type}): ${(error as Error).message}`, { cause: error });
        }
      })();
      creations.set(logicalId, creation);
    }
    return creation;
  };
  // Every creation ends before a failure is reported, so that the stop that follows also stops
  // what the others started (a poller started after the stop would report a closed engine).
  const outcomes = await Promise.allSettled(order.map(create));
  // Resources come after what they depend on, so the first failure is a cause, not a consequence.
  const failure = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failure) throw failure.reason;
  return deployed;
}
