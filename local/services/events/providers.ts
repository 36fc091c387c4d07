/**
 * Providers for the EventBridge resource types, on the local {@link EventBridgeService}. Ref / GetAtt values follow the CloudFormation reference:
 *
 * | type | Ref | GetAtt |
 * |---|---|---|
 * | AWS::Events::EventBus | name | Arn, Name |
 * | AWS::Events::Rule | name; `bus|name` on a custom bus | Arn |
 * | AWS::Events::Archive | archive name | Arn, ArchiveName |
 * | AWS::Events::Connection | name | Arn, SecretArn |
 * | AWS::Events::ApiDestination | name | Arn |
 * | AWS::EventSchemas::Discoverer | discoverer ARN | DiscovererArn, DiscovererId |
 *
 * A resource without a name property gets one like CloudFormation's, `<stack>-<LogicalId>-<suffix>`
 * (truncated to the type's limit), with a suffix derived from the stack and logical id so that it
 * is the same at every start (archives on disk keep their name).
 *
 * LIMITATIONS: Description, Tags, RoleArn, KmsKeyIdentifier, bus Policy/DeadLetterConfig/LogConfig
 * and a target's RoleArn are accepted and ignored; partner event sources
 * (EventSourceName), private connectivity, OAuth connections and the targets' service-specific
 * parameters (Ecs, Kinesis, Batch, RunCommand, Redshift, SageMaker, AppSync…) are rejected.
 * A rule target that is a log group ARN ending in `:*` is accepted, as CloudFormation accepts it,
 * with a warning at start: it never delivers (on AWS it deploys and silently receives nothing).
 * AWS::EventSchemas::Discoverer is accepted but no schema is discovered.
 *
 * DURABILITY: buses, rules, targets, connections and API destinations are the template's, created
 * again at each start; what they carry is in the delivery journal (./journal.ts) and the archives
 * (./archive.ts), which keep their names across restarts.
 */
import type { Json } from '../../template/parse.js';
import {
  checkProperties,
  expectArray,
  expectNumber,
  expectObject,
  expectString,
  resourceName,
  ResourcePropertyError,
  where,
} from '../cfn-properties.js';
import type { DeployedResource, ResolvedResource, ResourceProvider, RuntimeContext } from '../provider.js';
import type { ConnectionInput, ConnectionParameter, HttpParameters } from './api-destinations.js';
import type { EventBridgeService, RuleTarget } from './bus.js';
import { WILDCARD_LOG_GROUP_ARN } from '../targets/logs.js';

/** Name length limits of the CreateEventBus / PutRule / CreateArchive / CreateConnection APIs. */
const MAX_NAME = 64;
const MAX_ARCHIVE_NAME = 48;

const TARGET_KEYS = [
  'Id', 'Arn', 'Input', 'InputPath', 'InputTransformer', 'RetryPolicy', 'DeadLetterConfig', 'HttpParameters', 'SqsParameters', 'RoleArn',
];

/** One provider per EventBridge (and EventSchemas) resource type. */
export function eventsProviders(events: EventBridgeService): ResourceProvider[] {
  return [
    provider('AWS::Events::EventBus', ['Name'], ['KmsKeyIdentifier', 'Policy', 'DeadLetterConfig', 'LogConfig'], (resource) => {
      const bus = events.createEventBus(expectString(resource.properties.Name, where(resource, 'Name')));
      return { physicalId: bus.name, attributes: { Arn: bus.arn, Name: bus.name } };
    }),
    provider('AWS::Events::Rule', ['Name', 'EventBusName', 'EventPattern', 'ScheduleExpression', 'State', 'Targets'], ['RoleArn'], (resource, context) => {
      const p = resource.properties;
      const name = resourceName(resource, 'Name', context.stackName, { maxLength: MAX_NAME, uniqueId: true });
      const rule = events.putRule({
        Name: name,
        EventBusName: optionalString(resource, 'EventBusName'),
        // The pattern is an object, or JSON text when the template builds it with Fn::Sub.
        EventPattern: p.EventPattern,
        ScheduleExpression: optionalString(resource, 'ScheduleExpression'),
        State: optionalString(resource, 'State'),
      });
      const targets = p.Targets === undefined ? [] : expectArray(p.Targets, where(resource, 'Targets')).map((target, i) => ruleTarget(resource, target, `Targets[${i}]`));
      for (const target of targets) {
        const fixed = WILDCARD_LOG_GROUP_ARN.exec(target.Arn)?.[1];
        if (fixed !== undefined) {
          context.log('events', `${resource.logicalId}: WARNING: rule ${rule.name} target ${target.Id} is ${target.Arn}; ` +
            `a log group ARN ending in ":*" (GetAtt Arn) never receives events, on AWS as here: use ${fixed}`);
        }
      }
      events.putTargets({ Rule: rule.name, EventBusName: rule.busName, Targets: targets });
      return { physicalId: rule.busName === 'default' ? rule.name : `${rule.busName}|${rule.name}`, attributes: { Arn: rule.arn } };
    }),
    provider('AWS::Events::Archive', ['ArchiveName', 'SourceArn', 'EventPattern', 'RetentionDays'], ['KmsKeyIdentifier'], (resource, context) => {
      const p = resource.properties;
      const archive = events.createArchive({
        ArchiveName: resourceName(resource, 'ArchiveName', context.stackName, { maxLength: MAX_ARCHIVE_NAME, uniqueId: true }),
        EventSourceArn: expectString(p.SourceArn, where(resource, 'SourceArn')),
        EventPattern: p.EventPattern,
        RetentionDays: p.RetentionDays === undefined ? undefined : expectNumber(p.RetentionDays, where(resource, 'RetentionDays')),
      });
      return { physicalId: archive.name, attributes: { Arn: archive.arn, ArchiveName: archive.name } };
    }),
    provider('AWS::Events::Connection', ['Name', 'AuthorizationType', 'AuthParameters'], ['KmsKeyIdentifier'], (resource, context) => {
      const connection = events.apiDestinations.createConnection({
        Name: resourceName(resource, 'Name', context.stackName, { maxLength: MAX_NAME, uniqueId: true }),
        AuthorizationType: expectString(resource.properties.AuthorizationType, where(resource, 'AuthorizationType')),
        AuthParameters: authParameters(resource),
      });
      return { physicalId: connection.name, attributes: { Arn: connection.arn, SecretArn: connection.secretArn } };
    }),
    provider('AWS::Events::ApiDestination', ['Name', 'ConnectionArn', 'HttpMethod', 'InvocationEndpoint', 'InvocationRateLimitPerSecond'], [], (resource, context) => {
      const p = resource.properties;
      const destination = events.apiDestinations.createApiDestination({
        Name: resourceName(resource, 'Name', context.stackName, { maxLength: MAX_NAME, uniqueId: true }),
        ConnectionArn: expectString(p.ConnectionArn, where(resource, 'ConnectionArn')),
        HttpMethod: expectString(p.HttpMethod, where(resource, 'HttpMethod')),
        InvocationEndpoint: expectString(p.InvocationEndpoint, where(resource, 'InvocationEndpoint')),
        InvocationRateLimitPerSecond: p.InvocationRateLimitPerSecond === undefined
          ? undefined
          : expectNumber(p.InvocationRateLimitPerSecond, where(resource, 'InvocationRateLimitPerSecond')),
      });
      return { physicalId: destination.name, attributes: { Arn: destination.arn } };
    }),
    provider('AWS::EventSchemas::Discoverer', ['SourceArn'], ['CrossAccount'], (resource, context) => {
      const source = expectString(resource.properties.SourceArn, where(resource, 'SourceArn'));
      const id = `events-event-bus-${source.slice(source.lastIndexOf('/') + 1)}`;
      const arn = `arn:aws:schemas:${context.region}:${context.accountId}:discoverer/${id}`;
      context.notEmulated(resource.logicalId, ['schema discovery']);
      return { physicalId: arn, attributes: { DiscovererArn: arn, DiscovererId: id } };
    }),
  ];
}

/** A provider that checks the properties, reports ignored ones and names the resource in every error. */
function provider(
  type: string,
  supported: readonly string[],
  ignored: readonly string[],
  create: (resource: ResolvedResource, context: RuntimeContext) => DeployedResource,
): ResourceProvider {
  return {
    type,
    async create(resource, context) {
      checkProperties(resource, supported, ignored, context);
      try {
        return create(resource, context);
      } catch (error) {
        if (error instanceof ResourcePropertyError) throw error;
        throw new Error(`${resource.logicalId} (${type}): ${(error as Error).message}`, { cause: error });
      }
    },
  };
}


function optionalString(resource: ResolvedResource, property: string): string | undefined {
  const value = resource.properties[property];
  return value === undefined ? undefined : expectString(value, where(resource, property));
}

/** Reads an object and rejects keys outside `allowed`. */
function object(resource: ResolvedResource, value: Json | undefined, path: string, allowed: readonly string[]): Record<string, Json> {
  const result = expectObject(value, where(resource, path));
  for (const key of Object.keys(result)) {
    if (!allowed.includes(key)) throw new ResourcePropertyError(`${where(resource, `${path}.${key}`)} is not supported by the local runtime`);
  }
  return result;
}

function stringMap(resource: ResolvedResource, value: Json | undefined, path: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  const map = expectObject(value, where(resource, path));
  return Object.fromEntries(Object.entries(map).map(([key, element]) => [key, expectString(element, where(resource, `${path}.${key}`))]));
}

function ruleTarget(resource: ResolvedResource, value: Json, path: string): RuleTarget {
  const t = object(resource, value, path, TARGET_KEYS);
  const text = (key: string) => (t[key] === undefined ? undefined : expectString(t[key], where(resource, `${path}.${key}`)));
  const target: RuleTarget = { Id: text('Id') ?? '', Arn: text('Arn') ?? '' };
  if (target.Id === '' || target.Arn === '') throw new ResourcePropertyError(`${where(resource, path)} needs an Id and an Arn`);
  target.Input = text('Input');
  target.InputPath = text('InputPath');
  if (t.InputTransformer !== undefined) {
    const transformer = object(resource, t.InputTransformer, `${path}.InputTransformer`, ['InputPathsMap', 'InputTemplate']);
    target.InputTransformer = {
      InputPathsMap: stringMap(resource, transformer.InputPathsMap, `${path}.InputTransformer.InputPathsMap`),
      InputTemplate: expectString(transformer.InputTemplate, where(resource, `${path}.InputTransformer.InputTemplate`)),
    };
  }
  if (t.RetryPolicy !== undefined) {
    const policy = object(resource, t.RetryPolicy, `${path}.RetryPolicy`, ['MaximumRetryAttempts', 'MaximumEventAgeInSeconds']);
    const number = (key: string) => (policy[key] === undefined ? undefined : expectNumber(policy[key], where(resource, `${path}.RetryPolicy.${key}`)));
    target.RetryPolicy = { MaximumRetryAttempts: number('MaximumRetryAttempts'), MaximumEventAgeInSeconds: number('MaximumEventAgeInSeconds') };
  }
  if (t.DeadLetterConfig !== undefined) {
    const config = object(resource, t.DeadLetterConfig, `${path}.DeadLetterConfig`, ['Arn']);
    target.DeadLetterConfig = { Arn: expectString(config.Arn, where(resource, `${path}.DeadLetterConfig.Arn`)) };
  }
  if (t.HttpParameters !== undefined) target.HttpParameters = httpParameters(resource, t.HttpParameters, `${path}.HttpParameters`);
  if (t.SqsParameters !== undefined) {
    const sqs = object(resource, t.SqsParameters, `${path}.SqsParameters`, ['MessageGroupId']);
    target.SqsParameters = { MessageGroupId: expectString(sqs.MessageGroupId, where(resource, `${path}.SqsParameters.MessageGroupId`)) };
  }
  return target;
}

function httpParameters(resource: ResolvedResource, value: Json, path: string): HttpParameters {
  const http = object(resource, value, path, ['HeaderParameters', 'QueryStringParameters', 'PathParameterValues']);
  return {
    HeaderParameters: stringMap(resource, http.HeaderParameters, `${path}.HeaderParameters`),
    QueryStringParameters: stringMap(resource, http.QueryStringParameters, `${path}.QueryStringParameters`),
    PathParameterValues: http.PathParameterValues === undefined
      ? undefined
      : expectArray(http.PathParameterValues, where(resource, `${path}.PathParameterValues`)).map((element, i) =>
        expectString(element, where(resource, `${path}.PathParameterValues[${i}]`))),
  };
}

function authParameters(resource: ResolvedResource): ConnectionInput['AuthParameters'] {
  const path = 'AuthParameters';
  const auth = object(resource, resource.properties.AuthParameters, path, [
    'ApiKeyAuthParameters', 'BasicAuthParameters', 'OAuthParameters', 'InvocationHttpParameters',
  ]);
  const text = (record: Record<string, Json>, at: string, key: string) => expectString(record[key], where(resource, `${at}.${key}`));
  const result: ConnectionInput['AuthParameters'] = {};
  if (auth.ApiKeyAuthParameters !== undefined) {
    const at = `${path}.ApiKeyAuthParameters`;
    const apiKey = object(resource, auth.ApiKeyAuthParameters, at, ['ApiKeyName', 'ApiKeyValue']);
    result.ApiKeyAuthParameters = { ApiKeyName: text(apiKey, at, 'ApiKeyName'), ApiKeyValue: text(apiKey, at, 'ApiKeyValue') };
  }
  if (auth.BasicAuthParameters !== undefined) {
    const at = `${path}.BasicAuthParameters`;
    const basic = object(resource, auth.BasicAuthParameters, at, ['Username', 'Password']);
    result.BasicAuthParameters = { Username: text(basic, at, 'Username'), Password: text(basic, at, 'Password') };
  }
  if (auth.OAuthParameters !== undefined) result.OAuthParameters = auth.OAuthParameters;
  if (auth.InvocationHttpParameters !== undefined) {
    const at = `${path}.InvocationHttpParameters`;
    const invocation = object(resource, auth.InvocationHttpParameters, at, ['HeaderParameters', 'QueryStringParameters', 'BodyParameters']);
    const list = (key: string): ConnectionParameter[] | undefined => invocation[key] === undefined
      ? undefined
      : expectArray(invocation[key], where(resource, `${at}.${key}`)).map((element, i) => {
        const parameter = object(resource, element, `${at}.${key}[${i}]`, ['Key', 'Value', 'IsValueSecret']);
        return {
          Key: text(parameter, `${at}.${key}[${i}]`, 'Key'),
          Value: text(parameter, `${at}.${key}[${i}]`, 'Value'),
        };
      });
    result.InvocationHttpParameters = {
      HeaderParameters: list('HeaderParameters'),
      QueryStringParameters: list('QueryStringParameters'),
      BodyParameters: list('BodyParameters'),
    };
  }
  return result;
}
