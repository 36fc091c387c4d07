/**
 * What the AWS endpoint serves, gathered from the running stack's parts: the engines it forwards
 * to, and each emulated service's operations (`services/<service>/api.ts`).
 */
import type { DeployedResource } from '../services/provider.js';
import type { EventBridgeService } from '../services/events/bus.js';
import { eventsApi } from '../services/events/api.js';
import { lambdaApi, type FunctionDescription } from '../services/lambda/api.js';
import type { LambdaInvoker } from '../services/lambda/runtime.js';
import type { LogStore } from '../services/logs/store.js';
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

export function endpointServices(parts: StackParts): EndpointServices {
  const { region, accountId } = parts.template;
  return {
    upstreams: { dynamodb: parts.dynamodbEndpoint, messaging: parts.messagingEndpoint },
    json: {
      events: eventsApi(parts.events, region, accountId),
      states: stepFunctionsApi(parts.stateMachines, parts.startedAt),
    },
    query: {},
    rest: {
      lambda: lambdaApi(parts.lambda, parts.logs, templateFunctions(parts), parts.startedAt),
    },
  };
}
