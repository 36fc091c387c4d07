/**
 * A local AWS::Serverless-2016-10-31 transform: turns the SAM resource types WIMS uses into the
 * plain CloudFormation resources SAM generates for them, with SAM's logical ids:
 *
 * - `AWS::Serverless::Function` X → `AWS::Lambda::Function` X (with `Code: { LocalPath }`),
 *   `AWS::IAM::Role` XRole (unless Role is given), `AWS::Lambda::EventSourceMapping` X<Event>
 *   per SQS event. `Globals.Function` is merged in first, as SAM merges it.
 * - `AWS::Serverless::StateMachine` X → `AWS::StepFunctions::StateMachine` X (the definition
 *   file inlined as `DefinitionString`; an inline Definition as SAM's Fn::Join of its lines),
 *   XRole, and per EventBridgeRule event an `AWS::Events::Rule` X<Event> targeting the state
 *   machine plus its role X<Event>Role.
 * - `AWS::Serverless::Api` X → `AWS::ApiGateway::RestApi` X (`Body` = DefinitionBody),
 *   `AWS::ApiGateway::Deployment` XDeployment<hash> (with SAM's extra `Stage` stage unless
 *   OpenApiVersion is set) and `AWS::ApiGateway::Stage` XStage (X<StageName>Stage when StageName
 *   is a literal); `Ref: X.Stage` / `Ref: X.Deployment` are rewritten to those ids.
 *
 * tests/local/template/sam-translator.test.ts compares this with AWS's samtranslator on
 * template.yaml and the fixtures, resource by resource.
 *
 * Generated resources inherit the SAM resource's Condition, DeletionPolicy and
 * UpdateReplacePolicy; the main one also keeps DependsOn and Metadata.
 *
 * LIMITATIONS: code and definitions must be local paths (no S3 URIs). Other SAM resource types
 * (HttpApi, SimpleTable, LayerVersion, Application, Connector, …), function events other than
 * SQS, state machine events other than EventBridgeRule/CloudWatchEvent, and the properties
 * that need more machinery (AutoPublishAlias, DeploymentPreference, FunctionUrlConfig,
 * EventInvokeConfig, Api Auth/Cors/Domain/GatewayResponses/Models, …) are rejected with an
 * error naming the property. Only a few SAM policy templates are known (see
 * POLICY_TEMPLATES). AWS managed policy names become ARNs without SAM's bundled map of every
 * managed policy: only the common `service-role/` ones get that path, so a name under another
 * path (`aws-service-role/`, `job-function/`) gets a wrong ARN (IAM is not enforced locally).
 * Globals lists concatenate, except Architectures, which the resource replaces (a function has
 * one architecture). The Deployment's hash suffix is computed here and differs from SAM's (SAM
 * hashes Python's `str()` of the definition). PropagateTags is accepted, but tags are not
 * copied to generated resources (tags have no local effect). Values the local transform needs
 * at transform time (CodeUri, DefinitionUri) may only use parameters and pseudo parameters.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { intrinsicName, isJsonObject, resolveValue, type JsonObject } from './intrinsics.js';
import { TemplateError, type Json, type Template, type TemplateResource } from './parse.js';

/** The transform name a template declares to use SAM resource types. */
export const SAM_TRANSFORM = 'AWS::Serverless-2016-10-31';

/** Inputs of the SAM transform. */
export interface SamTransformOptions {
  /** Folder that relative CodeUri / DefinitionUri paths are resolved against (the template's folder). */
  baseDir: string;
  /** `Ref` values of parameters and pseudo parameters, for the values SAM resolves at transform time. */
  parameters?: Readonly<Record<string, Json>>;
}

type Generated = Array<[string, TemplateResource]>;
type Transformer = (resource: SamResource, aliases: Record<string, string>) => Generated;

/** Properties SAM accepts in each Globals section (SAM rejects the others). */
const GLOBAL_PROPERTIES: Record<string, readonly string[]> = {
  Function: [
    'Handler', 'Runtime', 'CodeUri', 'DeadLetterQueue', 'Description', 'MemorySize', 'Timeout', 'VpcConfig',
    'Environment', 'Tags', 'PropagateTags', 'Tracing', 'KmsKeyArn', 'AutoPublishAlias', 'AutoPublishAliasAllProperties',
    'Layers', 'DeploymentPreference', 'RolePath', 'PermissionsBoundary', 'ReservedConcurrentExecutions',
    'ProvisionedConcurrencyConfig', 'AssumeRolePolicyDocument', 'EventInvokeConfig', 'FileSystemConfigs',
    'CodeSigningConfigArn', 'Architectures', 'SnapStart', 'EphemeralStorage', 'FunctionUrlConfig',
    'RuntimeManagementConfig', 'LoggingConfig', 'RecursiveLoop', 'SourceKMSKeyArn',
  ],
  Api: [
    'Auth', 'Name', 'DefinitionUri', 'CacheClusterEnabled', 'CacheClusterSize', 'MergeDefinitions', 'Variables',
    'EndpointConfiguration', 'MethodSettings', 'BinaryMediaTypes', 'MinimumCompressionSize', 'Cors',
    'GatewayResponses', 'AccessLogSetting', 'CanarySetting', 'TracingEnabled', 'OpenApiVersion', 'Domain',
    'AlwaysDeploy', 'PropagateTags',
  ],
  StateMachine: ['PropagateTags'],
};

/** Globals lists the resource's list replaces instead of extending. */
const REPLACED_GLOBAL_LISTS = new Set(['Architectures']);

/** Function properties copied unchanged onto AWS::Lambda::Function. */
const FUNCTION_COPIED = [
  'Handler', 'Runtime', 'Description', 'MemorySize', 'Timeout', 'Environment', 'VpcConfig', 'KmsKeyArn', 'Layers',
  'ReservedConcurrentExecutions', 'Architectures', 'EphemeralStorage', 'FunctionName', 'FileSystemConfigs',
  'CodeSigningConfigArn', 'LoggingConfig', 'RuntimeManagementConfig', 'SnapStart', 'RecursiveLoop',
];
const FUNCTION_PROPERTIES = [
  ...FUNCTION_COPIED, 'CodeUri', 'InlineCode', 'Role', 'Policies', 'PermissionsBoundary', 'RolePath',
  'AssumeRolePolicyDocument', 'Events', 'Tags', 'PropagateTags', 'Tracing', 'DeadLetterQueue',
];
const SQS_EVENT_COPIED = [
  'BatchSize', 'Enabled', 'FilterCriteria', 'FunctionResponseTypes', 'KmsKeyArn', 'MaximumBatchingWindowInSeconds',
  'MetricsConfig', 'ScalingConfig',
];
const STATE_MACHINE_PROPERTIES = [
  'Definition', 'DefinitionUri', 'DefinitionSubstitutions', 'Role', 'Policies', 'PermissionsBoundary', 'RolePath',
  'Name', 'Type', 'Logging', 'Tracing', 'Tags', 'PropagateTags', 'Events',
];
const RULE_EVENT_PROPERTIES = [
  'EventBusName', 'Pattern', 'RuleName', 'State', 'Input', 'InputPath', 'RetryPolicy', 'DeadLetterConfig', 'Target',
];
/** Api properties copied unchanged onto AWS::ApiGateway::RestApi / AWS::ApiGateway::Stage. */
const REST_API_COPIED = [
  'Name', 'Description', 'BinaryMediaTypes', 'MinimumCompressionSize', 'Mode', 'FailOnWarnings',
  'DisableExecuteApiEndpoint', 'ApiKeySourceType',
];
const STAGE_COPIED = ['CacheClusterEnabled', 'CacheClusterSize', 'Variables', 'MethodSettings', 'AccessLogSetting', 'TracingEnabled'];
const API_PROPERTIES = [
  ...REST_API_COPIED, ...STAGE_COPIED, 'StageName', 'DefinitionBody', 'DefinitionUri', 'EndpointConfiguration',
  'Tags', 'OpenApiVersion', 'PropagateTags', 'AlwaysDeploy',
];

/** AWS managed policies that live under the `service-role/` path. */
const SERVICE_ROLE_POLICIES = new Set([
  'AWSLambdaBasicExecutionRole', 'AWSLambdaSQSQueueExecutionRole', 'AWSLambdaVPCAccessExecutionRole',
  'AWSLambdaDynamoDBExecutionRole', 'AWSLambdaKinesisExecutionRole', 'AWSLambdaRole',
]);
/** SAM's X-Ray policy name in the `aws` partition. */
const XRAY_POLICY = 'AWSXrayWriteOnlyAccess';
const EVENT_TARGET_ID_LIMIT = 64;

/** An `arn:${AWS::Partition}:<rest>` Fn::Sub whose `${variable}`s are filled from template parameters. */
function partitionArn(rest: string, variables: Record<string, string> = {}): Json {
  const text = `arn:\${AWS::Partition}:${rest}`;
  const entries = Object.entries(variables);
  return entries.length ? { 'Fn::Sub': [text, Object.fromEntries(entries.map(([name, parameter]) => [name, { Ref: parameter }]))] } : { 'Fn::Sub': text };
}
const allow = (actions: string[], resource: Json): Json => ({ Effect: 'Allow', Action: actions, Resource: resource });
const regional = (service: string, resource: string): string => `${service}:\${AWS::Region}:\${AWS::AccountId}:${resource}`;
const tableArns = (): Json[] => [
  partitionArn(regional('dynamodb', 'table/${tableName}'), { tableName: 'TableName' }),
  partitionArn(regional('dynamodb', 'table/${tableName}/index/*'), { tableName: 'TableName' }),
];

/** The SAM policy templates this transform expands: parameter names and statements using `Ref: <parameter>`. */
const POLICY_TEMPLATES: Record<string, { parameters: string[]; statements: Json[] }> = {
  SQSPollerPolicy: {
    parameters: ['QueueName'],
    statements: [
      allow(
        ['sqs:ChangeMessageVisibility', 'sqs:ChangeMessageVisibilityBatch', 'sqs:DeleteMessage', 'sqs:DeleteMessageBatch', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage'],
        partitionArn(regional('sqs', '${queueName}'), { queueName: 'QueueName' }),
      ),
    ],
  },
  SQSSendMessagePolicy: {
    parameters: ['QueueName'],
    statements: [allow(['sqs:SendMessage*'], partitionArn(regional('sqs', '${queueName}'), { queueName: 'QueueName' }))],
  },
  SNSPublishMessagePolicy: {
    parameters: ['TopicName'],
    statements: [allow(['sns:Publish'], partitionArn(regional('sns', '${topicName}'), { topicName: 'TopicName' }))],
  },
  DynamoDBCrudPolicy: {
    parameters: ['TableName'],
    statements: [
      allow(
        ['dynamodb:GetItem', 'dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:Scan', 'dynamodb:Query', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem', 'dynamodb:BatchGetItem', 'dynamodb:DescribeTable', 'dynamodb:ConditionCheckItem'],
        tableArns(),
      ),
    ],
  },
  DynamoDBReadPolicy: {
    parameters: ['TableName'],
    statements: [allow(['dynamodb:GetItem', 'dynamodb:Scan', 'dynamodb:Query', 'dynamodb:BatchGetItem', 'dynamodb:DescribeTable'], tableArns())],
  },
  DynamoDBWritePolicy: {
    parameters: ['TableName'],
    statements: [allow(['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem'], tableArns())],
  },
  DynamoDBStreamReadPolicy: {
    parameters: ['TableName', 'StreamName'],
    statements: [
      allow(
        ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'],
        partitionArn(regional('dynamodb', 'table/${tableName}/stream/${streamName}'), { tableName: 'TableName', streamName: 'StreamName' }),
      ),
      allow(['dynamodb:ListStreams'], partitionArn(regional('dynamodb', 'table/${tableName}/stream/*'), { tableName: 'TableName' })),
    ],
  },
  LambdaInvokePolicy: {
    parameters: ['FunctionName'],
    statements: [allow(['lambda:InvokeFunction'], partitionArn(regional('lambda', 'function:${functionName}*'), { functionName: 'FunctionName' }))],
  },
  StepFunctionsExecutionPolicy: {
    parameters: ['StateMachineName'],
    statements: [allow(['states:StartExecution'], partitionArn(regional('states', 'stateMachine:${stateMachineName}'), { stateMachineName: 'StateMachineName' }))],
  },
  EventBridgePutEventsPolicy: {
    parameters: ['EventBusName'],
    statements: [allow(['events:PutEvents'], partitionArn(regional('events', 'event-bus/${eventBusName}'), { eventBusName: 'EventBusName' }))],
  },
  CloudWatchPutMetricPolicy: { parameters: [], statements: [allow(['cloudwatch:PutMetricData'], '*')] },
  SSMParameterReadPolicy: {
    parameters: ['ParameterName'],
    statements: [
      allow(['ssm:DescribeParameters'], '*'),
      allow(['ssm:GetParameters', 'ssm:GetParameter', 'ssm:GetParametersByPath'], partitionArn(regional('ssm', 'parameter/${parameterName}'), { parameterName: 'ParameterName' })),
    ],
  },
};

const TRANSFORMS: Record<string, Transformer> = {
  'AWS::Serverless::Function': transformFunction,
  'AWS::Serverless::StateMachine': transformStateMachine,
  'AWS::Serverless::Api': transformApi,
};

/**
 * Expands the SAM resource types of `template` into plain CloudFormation resources (see the
 * file header) and drops the Globals section and the SAM transform declaration. Intrinsic
 * functions are carried through unresolved. Throws a TemplateError naming the resource and
 * property of anything it cannot expand.
 */
export function applySamTransform(template: Template, options: SamTransformOptions): Template {
  const globals = parseGlobals(template.Globals);
  const resources: Record<string, TemplateResource> = {};
  const aliases: Record<string, string> = {};
  for (const [id, resource] of Object.entries(template.Resources)) {
    const transform = TRANSFORMS[resource.Type];
    if (!transform) {
      if (resource.Type.startsWith('AWS::Serverless::')) {
        throw new TemplateError(`Resources.${id}: ${resource.Type} is not supported by the local SAM transform (supported: ${Object.keys(TRANSFORMS).join(', ')})`);
      }
      resources[id] = resource;
      continue;
    }
    for (const [generatedId, generated] of transform(new SamResource(id, resource, globals, options, template), aliases)) {
      if (Object.hasOwn(resources, generatedId) || (generatedId !== id && Object.hasOwn(template.Resources, generatedId))) {
        throw new TemplateError(`Resources.${id}: the SAM transform generates ${generatedId}, which the template already defines`);
      }
      resources[generatedId] = generated;
    }
  }
  const transformed: Template = { ...template, Resources: rewriteImplicitReferences(resources, aliases) };
  if (template.Outputs) transformed.Outputs = rewriteImplicitReferences(template.Outputs, aliases);
  delete transformed.Globals;
  const transforms = [template.Transform ?? []].flat().filter((name) => name !== SAM_TRANSFORM);
  if (transforms.length) transformed.Transform = transforms;
  else delete transformed.Transform;
  return transformed;
}

/** Globals sections by resource type, checked against what SAM allows there. */
function parseGlobals(globals: Template['Globals']): Record<string, JsonObject> {
  const sections: Record<string, JsonObject> = {};
  for (const [section, properties] of Object.entries(globals ?? {})) {
    const allowed = GLOBAL_PROPERTIES[section];
    if (!allowed) throw new TemplateError(`Globals.${section}: not supported locally (supported: ${Object.keys(GLOBAL_PROPERTIES).join(', ')})`);
    if (!isJsonObject(properties)) throw new TemplateError(`Globals.${section}: must be a map of properties`);
    for (const key of Object.keys(properties)) {
      if (!allowed.includes(key)) throw new TemplateError(`Globals.${section}.${key}: SAM does not accept ${key} in Globals.${section}`);
    }
    sections[`AWS::Serverless::${section}`] = properties;
  }
  return sections;
}

/** SAM's merge: maps merge key by key, lists concatenate (globals first), anything else — intrinsics included — the resource wins. */
function mergeGlobal(global: Json, local: Json, key: string): Json {
  const kind = (value: Json): string => (Array.isArray(value) ? 'list' : isJsonObject(value) && intrinsicName(value) === undefined ? 'map' : 'scalar');
  if (kind(global) !== kind(local) || kind(local) === 'scalar') return local;
  if (Array.isArray(global) && Array.isArray(local)) return REPLACED_GLOBAL_LISTS.has(key) ? local : [...global, ...local];
  const merged: JsonObject = { ...(global as JsonObject) };
  for (const [name, value] of Object.entries(local as JsonObject)) {
    merged[name] = Object.hasOwn(merged, name) ? mergeGlobal(merged[name] as Json, value, name) : value;
  }
  return merged;
}

/** One SAM resource being expanded: its properties with Globals merged, and helpers naming its paths. */
class SamResource {
  readonly properties: JsonObject;

  constructor(
    readonly id: string,
    readonly resource: TemplateResource,
    globals: Record<string, JsonObject>,
    private readonly options: SamTransformOptions,
    private readonly template: Template,
  ) {
    const own = resource.Properties ?? {};
    if (!isJsonObject(own)) throw new TemplateError(`Resources.${id}.Properties: must be a map`);
    this.properties = mergeGlobal(this.globalsFor(globals[resource.Type] ?? {}), own, '') as JsonObject;
  }

  path(property: string): string {
    return `Resources.${this.id}.Properties.${property}`;
  }

  /** Rejects every property outside `supported`. */
  checkProperties(supported: readonly string[]): void {
    for (const key of Object.keys(this.properties)) {
      if (!supported.includes(key)) throw new TemplateError(`${this.path(key)}: ${this.resource.Type} property ${key} is not supported by the local SAM transform`);
    }
  }

  /** Resource attributes SAM passes to every generated resource. */
  passthrough(): Partial<TemplateResource> {
    const { Condition, DeletionPolicy, UpdateReplacePolicy } = this.resource;
    return withoutUndefined({ Condition, DeletionPolicy, UpdateReplacePolicy });
  }

  /** A generated resource carrying the passthrough attributes (and, for the main one, DependsOn and Metadata). */
  generate(type: string, properties: Record<string, Json | undefined>, main = false): TemplateResource {
    const extra = main ? withoutUndefined({ DependsOn: this.resource.DependsOn, Metadata: this.resource.Metadata }) : {};
    return { Type: type, Properties: withoutUndefined(properties), ...extra, ...this.passthrough() };
  }

  /** A property SAM resolves at transform time; only parameters may be referenced. */
  staticString(property: string): string | undefined {
    const value = this.properties[property];
    if (value === undefined) return undefined;
    const scope = {
      refs: this.options.parameters ?? {},
      mappings: this.template.Mappings,
      condition: (name: string, path: string): never => {
        throw new TemplateError(`${path}: condition ${name} cannot be evaluated here`);
      },
    };
    const resolved = resolveValue(value, scope, this.path(property));
    if (typeof resolved !== 'string') throw new TemplateError(`${this.path(property)}: must be a string, got ${JSON.stringify(value)}`);
    return resolved;
  }

  /** The partition SAM writes into the ARNs it generates (`aws` unless the parameters say otherwise). */
  partition(): string {
    const partition = this.options.parameters?.['AWS::Partition'];
    return typeof partition === 'string' ? partition : 'aws';
  }

  /** A local file or folder named by a property, as an absolute path. */
  localPath(property: string): string | undefined {
    const value = this.properties[property];
    if (isJsonObject(value) && intrinsicName(value) === undefined) {
      throw new TemplateError(`${this.path(property)}: S3 locations are not supported locally; give a path relative to the template`);
    }
    const uri = this.staticString(property);
    if (uri?.startsWith('s3://')) throw new TemplateError(`${this.path(property)}: S3 URI ${uri} is not supported locally; give a path relative to the template`);
    return uri === undefined ? undefined : resolve(this.options.baseDir, uri);
  }

  /** The resource's Globals, minus what its IgnoreGlobals attribute names. */
  private globalsFor(globals: JsonObject): JsonObject {
    const ignore = (this.resource as TemplateResource & { IgnoreGlobals?: Json }).IgnoreGlobals;
    if (ignore === undefined) return globals;
    if (ignore === '*') return {};
    if (!Array.isArray(ignore)) throw new TemplateError(`Resources.${this.id}.IgnoreGlobals: must be "*" or a list of property names`);
    const kept = { ...globals };
    for (const key of ignore) {
      if (typeof key !== 'string' || !Object.hasOwn(kept, key)) throw new TemplateError(`Resources.${this.id}.IgnoreGlobals: ${JSON.stringify(key)} is not a property in Globals`);
      delete kept[key];
    }
    return kept;
  }
}

function transformFunction(sam: SamResource): Generated {
  sam.checkProperties(FUNCTION_PROPERTIES);
  const p = sam.properties;
  for (const required of ['Handler', 'Runtime']) {
    if (p[required] === undefined) throw new TemplateError(`${sam.path(required)}: is required`);
  }
  const traced = p.Tracing !== undefined && p.Tracing !== 'Disabled';
  const deadLetter = functionDeadLetterQueue(p.DeadLetterQueue, sam.path('DeadLetterQueue'));
  const tags = tagList(p.Tags, sam.path('Tags'), ['lambda:createdBy', 'SAM']);
  const roleId = `${sam.id}Role`;
  const fn = sam.generate(
    'AWS::Lambda::Function',
    {
      ...pick(p, FUNCTION_COPIED),
      Code: functionCode(sam),
      Role: p.Role ?? { 'Fn::GetAtt': [roleId, 'Arn'] },
      TracingConfig: traced ? { Mode: p.Tracing as Json } : undefined,
      DeadLetterConfig: deadLetter && { TargetArn: deadLetter.targetArn },
      Tags: tags,
    },
    true,
  );
  const generated: Generated = [[sam.id, fn]];
  const eventPolicies: Json[] = [];
  forEachEvent(sam, ['SQS'], (name, properties, path) => {
    checkKeys(properties, ['Queue', ...SQS_EVENT_COPIED], path, 'SQS event');
    if (properties.Queue === undefined) throw new TemplateError(`${path}.Queue: is required`);
    const mapping = { FunctionName: { Ref: sam.id }, EventSourceArn: properties.Queue, ...pick(properties, SQS_EVENT_COPIED) };
    generated.push([`${sam.id}${name}`, sam.generate('AWS::Lambda::EventSourceMapping', mapping)]);
    eventPolicies.push(managedPolicyArn(sam, 'AWSLambdaSQSQueueExecutionRole'));
  });
  if (p.Role === undefined) {
    const managed = [managedPolicyArn(sam, 'AWSLambdaBasicExecutionRole')];
    if (traced) managed.push(managedPolicyArn(sam, XRAY_POLICY));
    if (p.VpcConfig !== undefined) managed.push(managedPolicyArn(sam, 'AWSLambdaVPCAccessExecutionRole'));
    const inline = deadLetter ? [deadLetter.policy] : [];
    const role = executionRole(sam, roleId, 'lambda.amazonaws.com', managed, inline, eventPolicies, tags);
    generated.splice(1, 0, [roleId, role]);
  }
  return generated;
}

function functionCode(sam: SamResource): Json {
  const p = sam.properties;
  if (p.CodeUri !== undefined && p.InlineCode !== undefined) throw new TemplateError(`${sam.path('InlineCode')}: give either CodeUri or InlineCode, not both`);
  if (p.InlineCode !== undefined) return { ZipFile: p.InlineCode };
  const localPath = sam.localPath('CodeUri');
  if (localPath === undefined) throw new TemplateError(`${sam.path('CodeUri')}: is required (or InlineCode)`);
  return { LocalPath: localPath };
}

/** The function's DeadLetterQueue as CloudFormation's DeadLetterConfig plus the role policy SAM adds for it. */
function functionDeadLetterQueue(value: Json | undefined, path: string): { targetArn: Json; policy: Json } | undefined {
  if (value === undefined) return undefined;
  if (!isJsonObject(value) || (value.Type !== 'SQS' && value.Type !== 'SNS') || value.TargetArn === undefined) {
    throw new TemplateError(`${path}: needs { Type: SQS | SNS, TargetArn }`);
  }
  const action = value.Type === 'SQS' ? 'sqs:SendMessage' : 'sns:Publish';
  const statement = { Action: action, Resource: value.TargetArn, Effect: 'Allow' };
  return { targetArn: value.TargetArn, policy: { PolicyName: 'DeadLetterQueuePolicy', PolicyDocument: { Version: '2012-10-17', Statement: [statement] } } };
}

function transformStateMachine(sam: SamResource): Generated {
  sam.checkProperties(STATE_MACHINE_PROPERTIES);
  const p = sam.properties;
  if (p.Role !== undefined && p.Policies !== undefined) throw new TemplateError(`${sam.path('Policies')}: give either Role or Policies, not both`);
  const { definition, substitutions } = stateMachineDefinition(sam);
  const tags = tagList(p.Tags, sam.path('Tags'), ['stateMachine:createdBy', 'SAM']);
  const roleId = `${sam.id}Role`;
  const generated: Generated = [
    [
      sam.id,
      sam.generate(
        'AWS::StepFunctions::StateMachine',
        {
          DefinitionString: definition,
          DefinitionSubstitutions: Object.keys(substitutions).length ? substitutions : undefined,
          RoleArn: p.Role ?? { 'Fn::GetAtt': [roleId, 'Arn'] },
          StateMachineName: p.Name,
          StateMachineType: p.Type,
          LoggingConfiguration: p.Logging,
          TracingConfiguration: p.Tracing,
          Tags: tags,
        },
        true,
      ),
    ],
  ];
  if (p.Role === undefined) {
    const traced = isJsonObject(p.Tracing) && p.Tracing.Enabled === true;
    generated.push([roleId, executionRole(sam, roleId, 'states.amazonaws.com', traced ? [managedPolicyArn(sam, XRAY_POLICY)] : [], [], [], tags)]);
  }
  forEachEvent(sam, ['EventBridgeRule', 'CloudWatchEvent'], (name, properties, path) => {
    generated.push(...stateMachineRule(sam, name, properties, path));
  });
  return generated;
}

/** DefinitionString from DefinitionUri (a local JSON or YAML file) or an inline Definition. */
function stateMachineDefinition(sam: SamResource): { definition: Json; substitutions: JsonObject } {
  const p = sam.properties;
  const given = p.DefinitionSubstitutions ?? {};
  if (!isJsonObject(given)) throw new TemplateError(`${sam.path('DefinitionSubstitutions')}: must be a map`);
  if (p.Definition !== undefined && p.DefinitionUri !== undefined) throw new TemplateError(`${sam.path('Definition')}: give either Definition or DefinitionUri, not both`);
  const file = sam.localPath('DefinitionUri');
  if (file !== undefined) {
    const { text, document, yaml } = readDocument(file, sam.path('DefinitionUri'));
    return { definition: yaml ? JSON.stringify(document, null, 2) : text, substitutions: given };
  }
  if (!isJsonObject(p.Definition)) throw new TemplateError(`${sam.path('DefinitionUri')}: the state machine needs DefinitionUri or a Definition map`);
  // Like SAM, intrinsics inside an inline definition become DefinitionSubstitutions.
  const extracted: JsonObject = {};
  const visit = (value: Json): Json => {
    if (intrinsicName(value) !== undefined) {
      const name = `definition_substitution_${Object.keys(extracted).length + 1}`;
      extracted[name] = value;
      return `\${${name}}`;
    }
    if (Array.isArray(value)) return value.map(visit);
    if (!isJsonObject(value)) return value;
    return Object.fromEntries(Object.keys(value).sort().map((key) => [key, visit(value[key] as Json)]));
  };
  // SAM writes an inline definition as a Fn::Join of its 4-space-indented JSON lines.
  const definition = { 'Fn::Join': ['\n', JSON.stringify(visit(p.Definition), null, 4).split('\n')] };
  return { definition, substitutions: { ...given, ...extracted } };
}

/** An EventBridgeRule/CloudWatchEvent event: the rule, the role it starts executions with, and an optional DLQ. */
function stateMachineRule(sam: SamResource, name: string, properties: JsonObject, path: string): Generated {
  checkKeys(properties, RULE_EVENT_PROPERTIES, path, 'EventBridgeRule event');
  const ruleId = `${sam.id}${name}`;
  const roleId = `${ruleId}Role`;
  const ruleArn = { 'Fn::GetAtt': [ruleId, 'Arn'] };
  const deadLetter = ruleDeadLetterQueue(sam, ruleId, ruleArn, properties.DeadLetterConfig, `${path}.DeadLetterConfig`);
  const target = withoutUndefined({
    Arn: { Ref: sam.id },
    Id: ruleTargetId(properties.Target, ruleId, `${path}.Target`),
    RoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] },
    Input: properties.Input,
    InputPath: properties.InputPath,
    DeadLetterConfig: deadLetter && { Arn: deadLetter.arn },
    RetryPolicy: properties.RetryPolicy,
  });
  const rule = sam.generate('AWS::Events::Rule', {
    EventBusName: properties.EventBusName,
    EventPattern: properties.Pattern,
    Name: properties.RuleName,
    State: properties.State,
    Targets: [target],
  });
  const startExecution = { Action: 'states:StartExecution', Effect: 'Allow', Resource: { Ref: sam.id } };
  const role = sam.generate('AWS::IAM::Role', {
    AssumeRolePolicyDocument: assumeRolePolicy('events.amazonaws.com'),
    Policies: [{ PolicyName: `${roleId}StartExecutionPolicy`, PolicyDocument: { Statement: [startExecution] } }],
    PermissionsBoundary: sam.properties.PermissionsBoundary,
  });
  return [[ruleId, rule], [roleId, role], ...(deadLetter?.resources ?? [])];
}

function ruleTargetId(target: Json | undefined, ruleId: string, path: string): Json {
  if (target === undefined) {
    const suffix = 'StepFunctionsTarget';
    return ruleId.slice(0, EVENT_TARGET_ID_LIMIT - suffix.length) + suffix;
  }
  if (!isJsonObject(target) || target.Id === undefined || Object.keys(target).length !== 1) throw new TemplateError(`${path}: must be { Id: … }`);
  return target.Id;
}

/** `DeadLetterConfig: { Arn }` is used as given; `{ Type: SQS }` makes SAM create the queue and its policy. */
function ruleDeadLetterQueue(
  sam: SamResource,
  ruleId: string,
  ruleArn: Json,
  config: Json | undefined,
  path: string,
): { arn: Json; resources: Generated } | undefined {
  if (config === undefined) return undefined;
  if (!isJsonObject(config)) throw new TemplateError(`${path}: must be { Arn } or { Type: SQS, QueueLogicalId? }`);
  if (config.Arn !== undefined) {
    if (config.Type !== undefined) throw new TemplateError(`${path}: give either Arn or Type, not both`);
    return { arn: config.Arn, resources: [] };
  }
  if (config.Type !== 'SQS') throw new TemplateError(`${path}.Type: only SQS is supported`);
  const queueId = config.QueueLogicalId ?? `${ruleId}Queue`;
  if (typeof queueId !== 'string') throw new TemplateError(`${path}.QueueLogicalId: must be a string`);
  const queueArn = { 'Fn::GetAtt': [queueId, 'Arn'] };
  const statement = {
    Action: 'sqs:SendMessage',
    Effect: 'Allow',
    Principal: { Service: 'events.amazonaws.com' },
    Resource: queueArn,
    Condition: { ArnEquals: { 'aws:SourceArn': ruleArn } },
  };
  const queue = sam.generate('AWS::SQS::Queue', {});
  const policy = sam.generate('AWS::SQS::QueuePolicy', { Queues: [{ Ref: queueId }], PolicyDocument: { Version: '2012-10-17', Statement: [statement] } });
  return { arn: queueArn, resources: [[queueId, queue], [`${ruleId}QueuePolicy`, policy]] };
}

function transformApi(sam: SamResource, aliases: Record<string, string>): Generated {
  sam.checkProperties(API_PROPERTIES);
  const p = sam.properties;
  if (p.StageName === undefined) throw new TemplateError(`${sam.path('StageName')}: is required`);
  if (p.DefinitionBody !== undefined && p.DefinitionUri !== undefined) throw new TemplateError(`${sam.path('DefinitionBody')}: give either DefinitionBody or DefinitionUri, not both`);
  const file = sam.localPath('DefinitionUri');
  const body = file === undefined ? p.DefinitionBody : readDocument(file, sam.path('DefinitionUri')).document;
  if (!isJsonObject(body)) {
    throw new TemplateError(`${sam.path('DefinitionBody')}: an OpenAPI map (or a local DefinitionUri) is required; APIs built from function events are not supported`);
  }
  const hash = createHash('sha1').update(JSON.stringify(body)).digest('hex');
  const deploymentId = `${sam.id}Deployment${hash.slice(0, 10)}`;
  const stageId = stageLogicalId(sam.id, p.StageName);
  aliases[`${sam.id}.Stage`] = stageId;
  aliases[`${sam.id}.Deployment`] = deploymentId;
  const restApi = sam.generate('AWS::ApiGateway::RestApi', { ...pick(p, REST_API_COPIED), Body: body, ...endpointConfiguration(p.EndpointConfiguration) }, true);
  const deployment = sam.generate('AWS::ApiGateway::Deployment', {
    RestApiId: { Ref: sam.id },
    Description: `RestApi deployment id: ${hash}`,
    // SAM's historical extra stage named "Stage", dropped once OpenApiVersion is set.
    StageName: p.OpenApiVersion === undefined ? 'Stage' : undefined,
  });
  const stage = sam.generate('AWS::ApiGateway::Stage', {
    RestApiId: { Ref: sam.id },
    DeploymentId: { Ref: deploymentId },
    StageName: p.StageName,
    ...pick(p, STAGE_COPIED),
    Tags: tagList(p.Tags, sam.path('Tags')),
  });
  return [[sam.id, restApi], [deploymentId, deployment], [stageId, stage]];
}

/**
 * SAM names the stage from a literal StageName only: `<Api><StageName>Stage` when it is
 * alphanumeric, `<Api>Stage<sha1 prefix>` otherwise, and `<Api>Stage` when it is an intrinsic
 * (which SAM does not resolve; the Stage keeps it).
 */
function stageLogicalId(apiId: string, stageName: Json): string {
  if (typeof stageName !== 'string' || stageName === '') return `${apiId}Stage`;
  if (/^[A-Za-z0-9]+$/.test(stageName)) return `${apiId}${stageName}Stage`;
  return `${apiId}Stage${createHash('sha1').update(stageName).digest('hex').slice(0, 10)}`;
}

/**
 * SAM's `EndpointConfiguration: REGIONAL` or `{ Type, VPCEndpointIds }` in CloudFormation's shape,
 * plus the `endpointConfigurationTypes` import parameter SAM sets with it.
 */
function endpointConfiguration(value: Json | undefined): { EndpointConfiguration?: Json; Parameters?: Json } {
  if (value === undefined) return {};
  if (isJsonObject(value) && intrinsicName(value) === undefined && value.Type !== undefined) {
    return {
      EndpointConfiguration: withoutUndefined({ Types: [value.Type], VpcEndpointIds: value.VPCEndpointIds }),
      Parameters: { endpointConfigurationTypes: value.Type },
    };
  }
  return { EndpointConfiguration: { Types: [value] }, Parameters: { endpointConfigurationTypes: value } };
}

/** Calls `handle` for each event, after checking its name, shape and that its Type is supported. */
function forEachEvent(sam: SamResource, types: readonly string[], handle: (name: string, properties: JsonObject, path: string) => void): void {
  const events = sam.properties.Events;
  if (events === undefined) return;
  if (!isJsonObject(events)) throw new TemplateError(`${sam.path('Events')}: must be a map of events`);
  for (const [name, event] of Object.entries(events)) {
    const path = `${sam.path('Events')}.${name}`;
    // SAM builds logical ids from event names, so they must be alphanumeric.
    if (!/^[A-Za-z0-9]+$/.test(name)) throw new TemplateError(`${path}: event names must be alphanumeric`);
    if (!isJsonObject(event) || typeof event.Type !== 'string') throw new TemplateError(`${path}: needs a Type and Properties`);
    if (!types.includes(event.Type)) throw new TemplateError(`${path}.Type: ${event.Type} events are not supported locally (supported: ${types.join(', ')})`);
    const properties = event.Properties ?? {};
    if (!isJsonObject(properties)) throw new TemplateError(`${path}.Properties: must be a map`);
    handle(name, properties, `${path}.Properties`);
  }
}

/** An execution role as SAM builds it: managed policies, then inline ones named `<RoleId>Policy<index>`. */
function executionRole(
  sam: SamResource,
  roleId: string,
  principal: string,
  managed: Json[],
  inline: Json[],
  eventPolicies: Json[],
  tags: Json[] | undefined,
): TemplateResource {
  const p = sam.properties;
  const policies = p.Policies === undefined ? [] : Array.isArray(p.Policies) ? p.Policies : [p.Policies];
  policies.forEach((policy, index) => {
    const path = `${sam.path('Policies')}[${index}]`;
    if (typeof policy === 'string' || intrinsicName(policy) !== undefined) {
      managed.push(typeof policy === 'string' ? managedPolicyArn(sam, policy) : policy);
    } else if (isJsonObject(policy) && policy.Statement !== undefined) {
      inline.push({ PolicyName: `${roleId}Policy${index}`, PolicyDocument: policy });
    } else {
      inline.push({ PolicyName: `${roleId}Policy${index}`, PolicyDocument: { Statement: expandPolicyTemplate(policy, path) } });
    }
  });
  managed.push(...eventPolicies);
  // SAM de-duplicates managed policies (a user may list one SAM already adds).
  const unique = managed.filter((arn, index) => managed.findIndex((other) => JSON.stringify(other) === JSON.stringify(arn)) === index);
  return sam.generate('AWS::IAM::Role', {
    AssumeRolePolicyDocument: p.AssumeRolePolicyDocument ?? assumeRolePolicy(principal),
    ManagedPolicyArns: unique,
    Policies: inline.length ? inline : undefined,
    Path: p.RolePath,
    PermissionsBoundary: p.PermissionsBoundary,
    Tags: tags,
  });
}

/** `{ SQSSendMessagePolicy: { QueueName: … } }` → the template's statements with its parameters filled in. */
function expandPolicyTemplate(policy: Json, path: string): Json {
  const entries = isJsonObject(policy) ? Object.entries(policy) : [];
  const [name, values] = entries[0] ?? [];
  const template = name === undefined ? undefined : POLICY_TEMPLATES[name];
  if (entries.length !== 1 || name === undefined || !template) {
    const shown = name === undefined || entries.length !== 1 ? JSON.stringify(policy) : `policy template ${name}`;
    throw new TemplateError(`${path}: ${shown} is not a policy document nor a supported SAM policy template (supported: ${Object.keys(POLICY_TEMPLATES).join(', ')})`);
  }
  if (!isJsonObject(values ?? null)) throw new TemplateError(`${path}.${name}: must be a map of its parameters (${template.parameters.join(', ') || 'none'})`);
  const given = values as JsonObject;
  for (const key of Object.keys(given)) {
    if (!template.parameters.includes(key)) throw new TemplateError(`${path}.${name}.${key}: ${name} has no parameter ${key}`);
  }
  for (const key of template.parameters) {
    if (given[key] === undefined) throw new TemplateError(`${path}.${name}: the ${key} parameter is required`);
  }
  const fill = (value: Json): Json => {
    if (isJsonObject(value) && typeof value.Ref === 'string' && Object.keys(value).length === 1 && template.parameters.includes(value.Ref)) {
      return given[value.Ref] as Json;
    }
    if (Array.isArray(value)) return value.map(fill);
    return isJsonObject(value) ? Object.fromEntries(Object.entries(value).map(([key, item]) => [key, fill(item)])) : value;
  };
  return template.statements.map(fill);
}

/** An AWS managed policy's ARN as SAM writes it: a literal in the region's partition (SAM resolves the partition at transform time). */
function managedPolicyArn(sam: SamResource, name: string): string {
  if (name.startsWith('arn:')) return name;
  return `arn:${sam.partition()}:iam::aws:policy/${SERVICE_ROLE_POLICIES.has(name) ? 'service-role/' : ''}${name}`;
}

function assumeRolePolicy(principal: string): Json {
  return { Version: '2012-10-17', Statement: [{ Action: ['sts:AssumeRole'], Effect: 'Allow', Principal: { Service: [principal] } }] };
}

/** SAM's `Tags: { key: value }` as CloudFormation's `[{ Key, Value }]`, SAM's own tag first. */
function tagList(tags: Json | undefined, path: string, samTag?: [string, string]): Json[] | undefined {
  if (tags !== undefined && (!isJsonObject(tags) || intrinsicName(tags) !== undefined)) throw new TemplateError(`${path}: must be a map of tag names to values`);
  const entries = [...(samTag ? [samTag] : []), ...Object.entries(tags ?? {})];
  return entries.length ? entries.map(([Key, Value]) => ({ Key, Value })) : undefined;
}

/** Reads a JSON or YAML document, keeping its text. */
function readDocument(file: string, path: string): { text: string; document: Json; yaml: boolean } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new TemplateError(`${path}: cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  const yaml = ['.yaml', '.yml'].includes(extname(file).toLowerCase());
  try {
    return { text, document: (yaml ? parseYaml(text) : JSON.parse(text)) as Json, yaml };
  } catch (error) {
    throw new TemplateError(`${path}: ${file} is not valid ${yaml ? 'YAML' : 'JSON'}: ${(error as Error).message}`, { cause: error });
  }
}

function checkKeys(properties: JsonObject, supported: readonly string[], path: string, what: string): void {
  for (const key of Object.keys(properties)) {
    if (!supported.includes(key)) throw new TemplateError(`${path}.${key}: ${what} property ${key} is not supported by the local SAM transform`);
  }
}

function pick(source: JsonObject, keys: readonly string[]): Record<string, Json | undefined> {
  return Object.fromEntries(keys.map((key) => [key, source[key]]));
}

function withoutUndefined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}

/** Rewrites SAM's `Ref: Api.Stage` / `Ref: Api.Deployment` (and `${Api.Stage}` in Fn::Sub) to the generated ids. */
function rewriteImplicitReferences<T extends Json | object>(value: T, aliases: Readonly<Record<string, string>>): T {
  if (!Object.keys(aliases).length) return value;
  const rewrite = (item: Json): Json => {
    if (Array.isArray(item)) return item.map(rewrite);
    if (!isJsonObject(item)) return item;
    if (intrinsicName(item) === 'Ref' && typeof item.Ref === 'string' && Object.hasOwn(aliases, item.Ref)) return { Ref: aliases[item.Ref] as string };
    const entries = Object.entries(item).map(([key, child]) => {
      if (key === 'Fn::Sub' && intrinsicName(item) === key) {
        const replace = (text: string): string =>
          text.replace(/\$\{([^!}][^}]*)\}/g, (match, name: string) => (Object.hasOwn(aliases, name.trim()) ? `\${${aliases[name.trim()]}}` : match));
        if (typeof child === 'string') return [key, replace(child)];
        if (Array.isArray(child) && typeof child[0] === 'string') return [key, [replace(child[0]), ...child.slice(1).map(rewrite)]];
      }
      return [key, rewrite(child)];
    });
    return Object.fromEntries(entries) as Json;
  };
  return rewrite(value as Json) as T;
}
