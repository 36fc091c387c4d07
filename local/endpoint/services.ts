/**
 * What the AWS endpoint serves, gathered from the running stack's parts: the engines it forwards
 * to, and each emulated service's operations (`services/<service>/api.ts`).
 */
import type { EndpointServices } from './server.js';

/** The parts of a running stack the endpoint's services read. */
export interface StackParts {
  /** DynamoDB Local, behind its metering proxy (so what callers do is billed as on AWS). */
  dynamodbEndpoint: string;
  /** fauxqs (SQS and SNS). */
  messagingEndpoint: string;
}

export function endpointServices(parts: StackParts): EndpointServices {
  return {
    upstreams: { dynamodb: parts.dynamodbEndpoint, messaging: parts.messagingEndpoint },
    json: {},
    query: {},
    rest: {},
  };
}
