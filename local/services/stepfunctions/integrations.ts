/**
 * Task state integrations: turns a Task state's `Resource` into a function of the state's
 * effective parameters that calls the local engine as Step Functions calls the AWS service,
 * returns the result shape AWS returns, and fails with the error names AWS uses (see errors.ts).
 * Resources that cannot run locally are refused when the state machine is created.
 */
import { randomUUID } from 'node:crypto';
import * as DynamoDB from '@aws-sdk/client-dynamodb';
import { PublishCommand } from '@aws-sdk/client-sns';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Json } from '../../template/parse.js';
import type { EventBusIngress, PutEventsEntry, PutEventsResult } from '../events/model.js';
import type { InvokeResult, LambdaInvoker } from '../lambda/runtime.js';
import {
  DYNAMODB_OPTIMIZED, DYNAMODB_SDK, EVENTBRIDGE, LAMBDA, SNS_OPTIMIZED, SQS_OPTIMIZED, TaskFailure, toTaskFailure,
  type ErrorStyle,
} from './errors.js';

/** Anything with an AWS SDK v3 client's `send`: a real client, or a test double wrapping one. */
export interface SdkSender {
  send(command: object): Promise<unknown>;
}

/** The local services Task states may call; a Task needing a missing one is refused at create time. */
export interface IntegrationServices {
  dynamodb?: SdkSender;
  sqs?: SdkSender;
  sns?: SdkSender;
  lambda?: LambdaInvoker;
  buses?: EventBusIngress;
}

/** The execution a task runs in (events:putEvents names it in each event's Resources, as AWS does). */
export interface TaskExecution {
  executionArn: string;
  stateMachineArn: string;
}

/** A Task state's resource, bound: effective parameters in, task result out. */
export type Integration = (parameters: Json, execution: TaskExecution) => Promise<Json>;

/** A Task resource the local runtime cannot run; raised when the state machine is created. */
export class UnsupportedResourceError extends Error {
  override name = 'UnsupportedResourceError';
}

type CommandClass = new (input: Record<string, Json>) => object;

// arn:aws:states:::sqs:sendMessage, arn:aws:states:::aws-sdk:dynamodb:transactWriteItems, optional .sync / .sync:2 / .waitForTaskToken
const SERVICE_RESOURCE = /^arn:[\w-]+:states:::(aws-sdk:)?([a-z0-9-]+):(\w+)(\.\w+(?::\d+)?)?$/;
const LAMBDA_FUNCTION = /^arn:[\w-]+:lambda:[\w-]*:[^:]*:function:[^:]+(:[^:]+)?$/;
const SUPPORTED =
  'arn:aws:states:::dynamodb:getItem|putItem|updateItem|deleteItem, arn:aws:states:::aws-sdk:dynamodb:<action>, ' +
  'arn:aws:states:::sqs:sendMessage, arn:aws:states:::sns:publish, arn:aws:states:::events:putEvents, ' +
  'arn:aws:states:::lambda:invoke and Lambda function ARNs';

/** Binds one Task `Resource`; throws {@link UnsupportedResourceError} when it cannot run locally. */
export function integrationFor(resource: string, services: IntegrationServices): Integration {
  if (LAMBDA_FUNCTION.test(resource)) {
    const lambda = required(services.lambda, 'the local Lambda (option lambda)', resource);
    return async (parameters) => (await invokeFunction(lambda, resource, parameters)).payload;
  }
  const match = SERVICE_RESOURCE.exec(resource);
  if (!match) throw unknownResource(resource);
  const [, sdk, service, action = '', pattern] = match;
  if (pattern) {
    throw new UnsupportedResourceError(
      `"${resource}" uses the ${pattern} integration pattern, which is not supported locally (only request-response is; Express workflows do not support ${pattern} on AWS either)`,
    );
  }
  if (sdk) {
    if (service !== 'dynamodb') throw new UnsupportedResourceError(`AWS SDK integration "${resource}" is not supported locally; the local runtime supports ${SUPPORTED}`);
    const dynamodb = required(services.dynamodb, 'DynamoDB (option dynamodbEndpoint or clients.dynamodb)', resource);
    return sdkCall(dynamodb, dynamodbCommand(action, resource), DYNAMODB_SDK, plainJson);
  }
  switch (`${service}:${action}`) {
    case 'dynamodb:getItem':
    case 'dynamodb:putItem':
    case 'dynamodb:updateItem':
    case 'dynamodb:deleteItem': {
      const dynamodb = required(services.dynamodb, 'DynamoDB (option dynamodbEndpoint or clients.dynamodb)', resource);
      return sdkCall(dynamodb, dynamodbCommand(action, resource), DYNAMODB_OPTIMIZED, withSdkMetadata);
    }
    case 'sqs:sendMessage': {
      const sqs = required(services.sqs, 'an SQS endpoint (option sqsEndpoint or clients.sqs)', resource);
      const call = sdkCall(sqs, SendMessageCommand as unknown as CommandClass, SQS_OPTIMIZED, withSdkMetadata);
      return (parameters, execution) => call(stringifyField(parameters, 'MessageBody'), execution);
    }
    case 'sns:publish': {
      const sns = required(services.sns, 'an SNS endpoint (option snsEndpoint or clients.sns)', resource);
      const call = sdkCall(sns, PublishCommand as unknown as CommandClass, SNS_OPTIMIZED, withSdkMetadata);
      return (parameters, execution) => call(stringifyField(parameters, 'Message'), execution);
    }
    case 'events:putEvents':
      return putEventsIntegration(required(services.buses, 'the local EventBridge (option buses)', resource));
    case 'lambda:invoke':
      return lambdaInvokeIntegration(required(services.lambda, 'the local Lambda (option lambda)', resource));
    default:
      throw unknownResource(resource);
  }
}

function unknownResource(resource: string): UnsupportedResourceError {
  return new UnsupportedResourceError(`unknown Task resource "${resource}"; the local runtime supports ${SUPPORTED}`);
}

function required<T>(service: T | undefined, what: string, resource: string): T {
  if (service === undefined) throw new UnsupportedResourceError(`"${resource}" needs ${what}, which the Step Functions provider was not given`);
  return service;
}

/** `transactWriteItems` → the client's `TransactWriteItemsCommand`, so any DynamoDB action works. */
function dynamodbCommand(action: string, resource: string): CommandClass {
  const commands = DynamoDB as unknown as Record<string, CommandClass | undefined>;
  const command = commands[`${action.charAt(0).toUpperCase()}${action.slice(1)}Command`];
  if (typeof command !== 'function') throw new UnsupportedResourceError(`"${resource}": DynamoDB has no action "${action}"`);
  return command;
}

/** Calls `Command` with the parameters as its (PascalCase) request; the API's request and response are Step Functions'. */
function sdkCall(client: SdkSender, Command: CommandClass, style: ErrorStyle, shape: (response: unknown) => Json): Integration {
  return async (parameters) => {
    const request = requestObject(parameters, style);
    let response: unknown;
    try {
      response = await client.send(new Command(request));
    } catch (error) {
      throw toTaskFailure(error, style);
    }
    return shape(response);
  };
}

function requestObject(parameters: Json, style: ErrorStyle): Record<string, Json> {
  if (parameters !== null && typeof parameters === 'object' && !Array.isArray(parameters)) return parameters;
  throw new TaskFailure('States.Runtime', `The ${style.prefix} integration needs an object of parameters, got ${JSON.stringify(parameters)}`);
}

/** Optimized integrations send a non-string message as its JSON text, as AWS does. */
function stringifyField(parameters: Json, field: string): Json {
  if (parameters === null || typeof parameters !== 'object' || Array.isArray(parameters)) return parameters;
  const value = parameters[field];
  return value === undefined || typeof value === 'string' ? parameters : { ...parameters, [field]: JSON.stringify(value) };
}

/**
 * An SDK response as JSON: without the SDK's `$metadata`, binary values as base64 (as Step
 * Functions shows them) and dates as ISO strings.
 */
function plainJson(value: unknown): Json {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(plainJson);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).filter(([key, field]) => key !== '$metadata' && field !== undefined).map(([key, field]) => [key, plainJson(field)]),
    );
  }
  return value === undefined ? null : (value as Json);
}

/** Optimized integrations answer the API's response plus the Java SDK's HTTP and request metadata. */
function withSdkMetadata(response: unknown): Json {
  const { $metadata } = response as { $metadata?: { httpStatusCode?: number; requestId?: string } };
  return {
    ...(plainJson(response) as Record<string, Json>),
    SdkHttpMetadata: { HttpStatusCode: $metadata?.httpStatusCode ?? 200 },
    SdkResponseMetadata: { RequestId: $metadata?.requestId ?? randomUUID() },
  };
}

/** Invokes and turns a function error into the task failure AWS reports (error = the function's errorType). */
async function invokeFunction(lambda: LambdaInvoker, functionName: string, payload: unknown): Promise<{ payload: Json }> {
  let result: InvokeResult;
  try {
    result = await lambda.invoke(functionName, payload);
  } catch (error) {
    throw toTaskFailure(error, LAMBDA);
  }
  if (!result.ok) {
    const { errorType, errorMessage } = result;
    throw new TaskFailure(errorType || 'Lambda.Unknown', JSON.stringify({ errorType, errorMessage }));
  }
  return { payload: plainJson(result.payload) };
}

function lambdaInvokeIntegration(lambda: LambdaInvoker): Integration {
  return async (parameters) => {
    const { FunctionName, Payload } = requestObject(parameters, LAMBDA);
    if (typeof FunctionName !== 'string') throw new TaskFailure('States.Runtime', 'lambda:invoke needs a FunctionName string');
    const { payload } = await invokeFunction(lambda, FunctionName, Payload ?? {});
    return {
      ExecutedVersion: '$LATEST',
      Payload: payload,
      SdkHttpMetadata: { HttpStatusCode: 200 },
      SdkResponseMetadata: { RequestId: randomUUID() },
      StatusCode: 200,
    };
  };
}

function putEventsIntegration(buses: EventBusIngress): Integration {
  return async (parameters, execution) => {
    const { Entries } = requestObject(parameters, EVENTBRIDGE);
    if (!Array.isArray(Entries)) throw new TaskFailure('States.Runtime', 'events:putEvents needs an Entries list');
    // As on AWS: an object Detail is sent as its JSON text, and each event names the state machine and execution.
    const entries = Entries.map((entry) => {
      const { Detail, Resources, ...rest } = requestObject(entry, EVENTBRIDGE);
      return {
        ...rest,
        ...(Detail === undefined ? {} : { Detail: typeof Detail === 'string' ? Detail : JSON.stringify(Detail) }),
        Resources: [...(Array.isArray(Resources) ? Resources.map(String) : []), execution.stateMachineArn, execution.executionArn],
      } as PutEventsEntry;
    });
    let result: PutEventsResult;
    try {
      result = buses.putEvents(entries);
    } catch (error) {
      throw toTaskFailure(error, EVENTBRIDGE);
    }
    const response = plainJson(result);
    if (result.FailedEntryCount > 0) throw new TaskFailure('EventBridge.FailedEntry', JSON.stringify(response));
    return response;
  };
}
