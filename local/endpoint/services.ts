/**
 * What the AWS endpoint serves, gathered from the running stack's parts: the engines it forwards
 * to, and each emulated service's operations (`services/<service>/api.ts`).
 */
import type { DeployedResource } from '../services/provider.js';
import { cloudFormationApi } from '../services/cloudformation/api.js';
import { cloudWatchApi, stateMachineMetrics, type AlarmDefinition } from '../services/cloudwatch/api.js';
import { apiGatewayApi, type ServedRestApi } from '../services/apigateway/api.js';
import type { ApiGatewayThread } from '../services/apigateway/thread.js';
import type { EventBridgeService } from '../services/events/bus.js';
import { eventsApi } from '../services/events/api.js';
import { lambdaApi, type FunctionDescription } from '../services/lambda/api.js';
import type { LambdaInvoker } from '../services/lambda/runtime.js';
import type { LogStore } from '../services/logs/store.js';
import { logsApi, type DeclaredLogGroup } from '../services/logs/api.js';
import { pipesApi } from '../services/pipes/api.js';
import type { Pipe } from '../services/pipes/pipe.js';
import { stepFunctionsApi } from '../services/stepfunctions/api.js';
import type { StateMachineRegistry } from '../services/stepfunctions/registry.js';
import type { LoadedTemplate } from '../template/loader.js';
import type { EndpointServices } from './server.js';

/** The parts of a running stack the endpoint's services read. */
export interface StackParts {
  template: LoadedTemplate;
  resources: Map<string, DeployedResource>;
  /** When the stack was created: what the APIs give as the resources' creation time. */
  startedAt: Date;
  /** DynamoDB Local, behind its metering proxy (so what callers do is billed as on AWS). */
  dynamodbEndpoint: string;
  /** fauxqs (SQS and SNS). */
  messagingEndpoint: string;
  events: EventBridgeService;
  stateMachines: StateMachineRegistry;
  lambda: LambdaInvoker;
  logs: LogStore;
  pipes: ReadonlyMap<string, Pipe>;
  apiGateway: Pick<ApiGatewayThread, 'urls'>;
  outputs: Readonly<Record<string, string>>;
}

/** The template's functions with their resolved properties (resolved once, on first use). */
function templateFunctions(parts: StackParts): () => FunctionDescription[] {
  let functions: FunctionDescription[] | undefined;
  return () => {
    functions ??= parts.template.resourcesOfType('AWS::Lambda::Function').map((logicalId) => {
      const deployed = parts.resources.get(logicalId)!;
      const { properties } = parts.template.resolveResource(logicalId, parts.resources);
      return { name: deployed.physicalId, arn: deployed.attributes.Arn ?? deployed.physicalId, properties };
    });
    return functions;
  };
}

/**
 * The template's log groups, which exist (and are listed) before their first line, and each
 * function's `/aws/lambda/<name>`: Lambda creates it at the first invocation, whose START, END
 * and REPORT lines the local sandboxes do not write, so a quiet function would otherwise have none.
 */
function templateLogGroups(parts: StackParts, functions: () => FunctionDescription[]): () => DeclaredLogGroup[] {
  let groups: DeclaredLogGroup[] | undefined;
  return () => {
    groups ??= [
      ...parts.template.resourcesOfType('AWS::Logs::LogGroup').map((logicalId) => {
        const { RetentionInDays } = parts.template.resolveResource(logicalId, parts.resources).properties;
        return { name: parts.resources.get(logicalId)!.physicalId, ...(typeof RetentionInDays === 'number' ? { retentionInDays: RetentionInDays } : {}) };
      }),
      ...functions().map((fn) => ({ name: `/aws/lambda/${fn.name}` })),
    ];
    return groups;
  };
}

/** The template's alarms with their resolved properties. */
function templateAlarms(parts: StackParts): () => AlarmDefinition[] {
  let alarms: AlarmDefinition[] | undefined;
  return () => {
    alarms ??= parts.template.resourcesOfType('AWS::CloudWatch::Alarm').map((logicalId) => ({
      name: parts.resources.get(logicalId)!.physicalId,
      properties: parts.template.resolveResource(logicalId, parts.resources).properties,
    }));
    return alarms;
  };
}

/** The served REST APIs, by id, with the template's Name and Description. */
function servedApis(parts: StackParts): () => ServedRestApi[] {
  return () => {
    const apis = new Map<string, ServedRestApi>();
    for (const { logicalId, apiId, stage } of parts.apiGateway.urls()) {
      const known = apis.get(apiId);
      if (known !== undefined) {
        known.stages.push(stage);
        continue;
      }
      const { Name, Description } = parts.template.resolveResource(logicalId, parts.resources).properties;
      apis.set(apiId, { id: apiId, name: typeof Name === 'string' ? Name : logicalId, ...(typeof Description === 'string' ? { description: Description } : {}), stages: [stage] });
    }
    return [...apis.values()];
  };
}

export function endpointServices(parts: StackParts): EndpointServices {
  const { region, accountId } = parts.template;
  const functions = templateFunctions(parts);
  return {
    upstreams: { dynamodb: parts.dynamodbEndpoint, messaging: parts.messagingEndpoint },
    json: {
      events: eventsApi(parts.events, region, accountId),
      states: stepFunctionsApi(parts.stateMachines, parts.startedAt),
      logs: logsApi(parts.logs, templateLogGroups(parts, functions), region, accountId, parts.startedAt),
      monitoring: cloudWatchApi(
        () => [...parts.logs.metricData(), ...stateMachineMetrics(parts.stateMachines.executions())],
        templateAlarms(parts),
        region,
        accountId,
      ),
    },
    query: {
      cloudformation: {
        namespace: 'http://cloudformation.amazonaws.com/doc/2010-05-15/',
        operations: cloudFormationApi({ template: parts.template, resources: parts.resources, outputs: parts.outputs, createdAt: parts.startedAt }),
      },
    },
    rest: {
      lambda: lambdaApi(parts.lambda, parts.logs, functions, parts.startedAt),
      pipes: pipesApi(parts.pipes),
      apigateway: apiGatewayApi(servedApis(parts), parts.startedAt),
    },
  };
}
