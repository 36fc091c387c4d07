import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTemplate, readTemplate, TemplateError, type Template, type TemplateResource } from '../../../local/template/parse.js';
import { applySamTransform } from '../../../local/template/sam.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
// SAM writes managed policy ARNs as literals in the region's partition.
const BASIC_ROLE = 'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole';
const XRAY = 'arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess';
const SQS_EXECUTION_ROLE = 'arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole';

function transformFixture(): Template {
  return applySamTransform(readTemplate(join(FIXTURES, 'sam-app.yaml')), { baseDir: FIXTURES, parameters: { Stage: 'dev' } });
}

/** Transforms a SAM template given as YAML text whose Resources section is `resources`. */
function transform(resources: string, extra = ''): Template {
  const text = `Transform: AWS::Serverless-2016-10-31\n${extra}Resources:\n${resources}`;
  return applySamTransform(parseTemplate(text), { baseDir: FIXTURES });
}

function resource(template: Template, id: string): TemplateResource {
  const found = template.Resources[id];
  if (!found) throw new Error(`no resource ${id} in ${Object.keys(template.Resources).join(', ')}`);
  return found;
}

describe('AWS::Serverless::Function', () => {
  it('becomes a Lambda function with Globals merged, local code and its Metadata', () => {
    // Prepare
    const expectedCode = { LocalPath: join(FIXTURES, 'src/intake') };

    // Act
    const template = transformFixture();

    // Assess
    const fn = resource(template, 'IntakeFunction');
    expect(fn.Type).toBe('AWS::Lambda::Function');
    expect(fn.Metadata).toEqual({ BuildMethod: 'esbuild', BuildProperties: { EntryPoints: ['index.ts'] } });
    expect(fn.Properties).toEqual({
      Handler: 'index.handler',
      Runtime: 'nodejs22.x',
      MemorySize: 256,
      Timeout: 30,
      Environment: {
        Variables: { STAGE: { Ref: 'Stage' }, TABLE_NAME: { Ref: 'OrdersTable' }, EVENT_BUS: { Ref: 'OrderEventBus' }, API_TOKEN: { Ref: 'ApiToken' } },
      },
      Layers: ['arn:aws:lambda:us-east-1:123456789012:layer:shared:1', 'arn:aws:lambda:us-east-1:123456789012:layer:extra:2'],
      Architectures: ['arm64'],
      Code: expectedCode,
      Role: { 'Fn::GetAtt': ['IntakeFunctionRole', 'Arn'] },
      TracingConfig: { Mode: 'Active' },
      Tags: [{ Key: 'lambda:createdBy', Value: 'SAM' }],
    });
    expect(template.Globals).toBeUndefined();
    expect(template.Transform).toBeUndefined();
  });

  it('generates the execution role with SAM policy templates expanded and managed policies de-duplicated', () => {
    // Prepare
    const queueArn = 'arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${queueName}';

    // Act
    const role = resource(transformFixture(), 'IntakeFunctionRole');

    // Assess
    expect(role.Type).toBe('AWS::IAM::Role');
    const properties = role.Properties ?? {};
    expect(properties.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [{ Action: ['sts:AssumeRole'], Effect: 'Allow', Principal: { Service: ['lambda.amazonaws.com'] } }],
    });
    expect(properties.ManagedPolicyArns).toEqual([BASIC_ROLE, XRAY, SQS_EXECUTION_ROLE]);
    const policies = properties.Policies as Array<{ PolicyName: string; PolicyDocument: { Statement: unknown[] } }>;
    expect(policies.map((policy) => policy.PolicyName)).toEqual(['IntakeFunctionRolePolicy0', 'IntakeFunctionRolePolicy1', 'IntakeFunctionRolePolicy2']);
    expect(policies[0]?.PolicyDocument).toEqual({
      Statement: [{ Effect: 'Allow', Action: ['sqs:SendMessage*'], Resource: { 'Fn::Sub': [queueArn, { queueName: { 'Fn::GetAtt': ['OrdersQueue', 'QueueName'] } }] } }],
    });
    expect(policies[1]?.PolicyDocument.Statement[0]).toMatchObject({ Action: expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:Query']) });
    expect(policies[2]?.PolicyDocument).toEqual({
      Statement: [{ Effect: 'Allow', Action: 'events:PutEvents', Resource: { 'Fn::GetAtt': ['OrderEventBus', 'Arn'] } }],
    });
  });

  it('turns an SQS event into an event source mapping named <Function><Event>', () => {
    // Prepare
    const fixture = readTemplate(join(FIXTURES, 'sam-app.yaml'));

    // Act
    const template = applySamTransform(fixture, { baseDir: FIXTURES, parameters: { Stage: 'dev' } });

    // Assess
    expect(resource(template, 'IntakeFunctionIntake')).toEqual({
      Type: 'AWS::Lambda::EventSourceMapping',
      Properties: {
        FunctionName: { Ref: 'IntakeFunction' },
        EventSourceArn: { 'Fn::GetAtt': ['OrdersQueue', 'Arn'] },
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      },
    });
  });

  it('merges Globals like SAM: maps by key, lists appended, scalars and intrinsics replaced, IgnoreGlobals honoured', () => {
    // Prepare
    const globals = [
      'Globals:',
      '  Function:',
      '    Runtime: nodejs22.x',
      '    Handler: index.handler',
      '    CodeUri: src',
      '    Timeout: 3',
      '    Environment: { Variables: { A: global, B: global } }',
      '    VpcConfig: { SecurityGroupIds: [sg-global], SubnetIds: !Ref Subnets }',
      '',
    ].join('\n');
    const resources = [
      '  Merged:',
      '    Type: AWS::Serverless::Function',
      '    Properties:',
      '      Timeout: 9',
      '      Environment: { Variables: { B: local, C: local } }',
      '      VpcConfig: { SecurityGroupIds: [sg-local], SubnetIds: [subnet-local] }',
      '  Ignoring:',
      '    Type: AWS::Serverless::Function',
      '    IgnoreGlobals: [Environment, VpcConfig]',
      '    Properties: { Role: arn:aws:iam::123456789012:role/given }',
      '',
    ].join('\n');

    // Act
    const template = transform(resources, globals);

    // Assess
    const merged = resource(template, 'Merged').Properties ?? {};
    expect(merged.Timeout).toBe(9);
    expect(merged.Environment).toEqual({ Variables: { A: 'global', B: 'local', C: 'local' } });
    expect(merged.VpcConfig).toEqual({ SecurityGroupIds: ['sg-global', 'sg-local'], SubnetIds: ['subnet-local'] });
    expect(resource(template, 'MergedRole').Properties?.ManagedPolicyArns).toContainEqual('arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole');
    const ignoring = resource(template, 'Ignoring').Properties ?? {};
    expect(ignoring.Environment).toBeUndefined();
    expect(ignoring.Timeout).toBe(3);
    expect(ignoring.Role).toBe('arn:aws:iam::123456789012:role/given');
    expect(template.Resources.IgnoringRole).toBeUndefined();
  });

  it('gives generated resources the Condition and the main one its DependsOn', () => {
    // Prepare
    const resources = [
      '  Worker:',
      '    Type: AWS::Serverless::Function',
      '    Condition: WithWorker',
      '    DependsOn: Other',
      '    Properties:',
      '      { Runtime: nodejs22.x, Handler: index.handler, CodeUri: src, Events: { Jobs: { Type: SQS, Properties: { Queue: !GetAtt Q.Arn } } } }',
      '',
    ].join('\n');

    // Act
    const template = transform(resources);

    // Assess
    expect(resource(template, 'Worker')).toMatchObject({ Condition: 'WithWorker', DependsOn: 'Other' });
    expect(resource(template, 'WorkerRole')).toMatchObject({ Condition: 'WithWorker' });
    expect(resource(template, 'WorkerRole').DependsOn).toBeUndefined();
    expect(resource(template, 'WorkerJobs')).toMatchObject({ Condition: 'WithWorker' });
  });
});

describe('AWS::Serverless::StateMachine', () => {
  it('inlines the DefinitionUri file as DefinitionString and keeps DefinitionSubstitutions', () => {
    // Prepare
    const definition = readFileSync(join(FIXTURES, 'fulfilment.asl.json'), 'utf8');

    // Act
    const template = transformFixture();

    // Assess
    expect(resource(template, 'FulfilmentStateMachine').Properties).toEqual({
      DefinitionString: definition,
      DefinitionSubstitutions: { TableName: { Ref: 'OrdersTable' } },
      RoleArn: { 'Fn::GetAtt': ['FulfilmentStateMachineRole', 'Arn'] },
      StateMachineType: 'EXPRESS',
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: true,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': ['FulfilmentLogs', 'Arn'] } } }],
      },
      TracingConfiguration: { Enabled: true },
      Tags: [{ Key: 'stateMachine:createdBy', Value: 'SAM' }],
    });
    expect(resource(template, 'FulfilmentStateMachineRole').Properties).toMatchObject({
      ManagedPolicyArns: [XRAY],
      Policies: [{ PolicyName: 'FulfilmentStateMachineRolePolicy0' }],
    });
  });

  it('turns an EventBridgeRule event into a rule targeting the state machine, with a role allowed to start it', () => {
    // Prepare
    const ruleRole = 'FulfilmentStateMachineOrderPlacedRole';

    // Act
    const template = transformFixture();

    // Assess
    expect(resource(template, 'FulfilmentStateMachineOrderPlaced')).toEqual({
      Type: 'AWS::Events::Rule',
      Properties: {
        EventBusName: { Ref: 'OrderEventBus' },
        EventPattern: { source: ['wims.orders'], 'detail-type': ['OrderPlaced'] },
        Targets: [
          {
            Arn: { Ref: 'FulfilmentStateMachine' },
            Id: 'FulfilmentTarget',
            RoleArn: { 'Fn::GetAtt': [ruleRole, 'Arn'] },
            InputPath: '$.detail',
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['OrdersDlq', 'Arn'] } },
            RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 600 },
          },
        ],
      },
    });
    expect(resource(template, ruleRole).Properties).toEqual({
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: ['sts:AssumeRole'], Effect: 'Allow', Principal: { Service: ['events.amazonaws.com'] } }],
      },
      Policies: [
        {
          PolicyName: `${ruleRole}StartExecutionPolicy`,
          PolicyDocument: { Statement: [{ Action: 'states:StartExecution', Effect: 'Allow', Resource: { Ref: 'FulfilmentStateMachine' } }] },
        },
      ],
    });
  });

  it('defaults the target id, creates the SQS dead-letter queue SAM creates, and moves inline-definition intrinsics into substitutions', () => {
    // Prepare
    const resources = [
      '  Flow:',
      '    Type: AWS::Serverless::StateMachine',
      '    Properties:',
      '      Definition:',
      '        StartAt: Put',
      '        States: { Put: { Type: Task, Resource: arn:aws:states:::sqs:sendMessage, Parameters: { QueueUrl: !Ref Q }, End: true } }',
      '      Events:',
      '        Nightly:',
      '          Type: EventBridgeRule',
      '          Properties: { Pattern: { source: [x] }, DeadLetterConfig: { Type: SQS } }',
      '',
    ].join('\n');

    // Act
    const template = transform(resources);

    // Assess
    const machine = resource(template, 'Flow').Properties ?? {};
    const [separator, lines] = (machine.DefinitionString as { 'Fn::Join': [string, string[]] })['Fn::Join'];
    expect(JSON.parse(lines.join(separator))).toEqual({
      StartAt: 'Put',
      States: { Put: { End: true, Parameters: { QueueUrl: '${definition_substitution_1}' }, Resource: 'arn:aws:states:::sqs:sendMessage', Type: 'Task' } },
    });
    expect(machine.DefinitionSubstitutions).toEqual({ definition_substitution_1: { Ref: 'Q' } });
    expect(resource(template, 'FlowNightly').Properties?.Targets).toEqual([
      {
        Arn: { Ref: 'Flow' },
        Id: 'FlowNightlyStepFunctionsTarget',
        RoleArn: { 'Fn::GetAtt': ['FlowNightlyRole', 'Arn'] },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['FlowNightlyQueue', 'Arn'] } },
      },
    ]);
    expect(resource(template, 'FlowNightlyQueue').Type).toBe('AWS::SQS::Queue');
    expect(resource(template, 'FlowNightlyQueuePolicy').Properties).toMatchObject({
      Queues: [{ Ref: 'FlowNightlyQueue' }],
      PolicyDocument: { Statement: [{ Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': ['FlowNightly', 'Arn'] } } } }] },
    });
  });
});

describe('AWS::Serverless::Api', () => {
  it('becomes a RestApi with the DefinitionBody, a Deployment and a <Api>Stage (its StageName is an intrinsic)', () => {
    // Prepare
    const fixture = readTemplate(join(FIXTURES, 'sam-app.yaml'));
    const definitionBody = fixture.Resources.OrdersApi?.Properties?.DefinitionBody;

    // Act
    const template = applySamTransform(fixture, { baseDir: FIXTURES, parameters: { Stage: 'dev' } });

    // Assess
    expect(resource(template, 'OrdersApi')).toEqual({ Type: 'AWS::ApiGateway::RestApi', Properties: { Body: definitionBody } });
    const deploymentId = Object.keys(template.Resources).find((id) => id.startsWith('OrdersApiDeployment'));
    expect(deploymentId).toMatch(/^OrdersApiDeployment[0-9a-f]{10}$/);
    expect(resource(template, deploymentId as string).Properties).toMatchObject({ RestApiId: { Ref: 'OrdersApi' }, StageName: 'Stage' });
    expect(resource(template, 'OrdersApiStage')).toEqual({
      Type: 'AWS::ApiGateway::Stage',
      Properties: {
        RestApiId: { Ref: 'OrdersApi' },
        DeploymentId: { Ref: deploymentId },
        StageName: { Ref: 'Stage' },
        MethodSettings: [{ ResourcePath: '/*', HttpMethod: '*', ThrottlingBurstLimit: 10, ThrottlingRateLimit: 5 }],
        TracingEnabled: true,
      },
    });
  });

  it('rewrites SAM implicit references such as ${Api.Stage} and Ref Api.Deployment', () => {
    // Prepare
    const resources = [
      '  Api:',
      '    Type: AWS::Serverless::Api',
      '    Properties: { StageName: v1, OpenApiVersion: "3.0.1", DefinitionBody: { openapi: "3.0.1", paths: {} } }',
      '  Mapping:',
      '    Type: AWS::ApiGateway::BasePathMapping',
      '    Properties: { Stage: !Ref Api.Stage, Note: !Sub "${Api.Deployment}/${!Api.Stage}" }',
      '',
    ].join('\n');

    // Act
    const template = transform(resources);

    // Assess
    const deploymentId = Object.keys(template.Resources).find((id) => id.startsWith('ApiDeployment')) as string;
    expect(resource(template, deploymentId).Properties?.StageName).toBeUndefined();
    expect(resource(template, 'Mapping').Properties).toEqual({ Stage: { Ref: 'Apiv1Stage' }, Note: { 'Fn::Sub': `\${${deploymentId}}/\${!Api.Stage}` } });
  });
});

describe('unsupported SAM features', () => {
  const fn = (properties: string): string => `  Fn:\n    Type: AWS::Serverless::Function\n    Properties: { Runtime: nodejs22.x, Handler: index.handler, CodeUri: src, ${properties} }\n`;

  it.each([
    ['a function event type', fn('Events: { Web: { Type: Api, Properties: { Path: /, Method: get } } }'), 'Resources.Fn.Properties.Events.Web.Type: Api events are not supported locally (supported: SQS)'],
    ['a function property', fn('AutoPublishAlias: live'), 'Resources.Fn.Properties.AutoPublishAlias: AWS::Serverless::Function property AutoPublishAlias is not supported by the local SAM transform'],
    [
      'a policy template',
      fn('Policies: [{ SESCrudPolicy: { IdentityName: x } }]'),
      'Resources.Fn.Properties.Policies[0]: policy template SESCrudPolicy is not a policy document nor a supported SAM policy template (supported: SQSPollerPolicy,',
    ],
    ['a policy template parameter', fn('Policies: [{ SQSSendMessagePolicy: { Queue: x } }]'), 'Resources.Fn.Properties.Policies[0].SQSSendMessagePolicy.Queue: SQSSendMessagePolicy has no parameter Queue'],
    ['an S3 CodeUri', fn('Description: x').replace('CodeUri: src', 'CodeUri: s3://bucket/code.zip'), 'Resources.Fn.Properties.CodeUri: S3 URI s3://bucket/code.zip is not supported locally'],
    ['a SAM resource type', '  Http:\n    Type: AWS::Serverless::HttpApi\n', 'Resources.Http: AWS::Serverless::HttpApi is not supported by the local SAM transform'],
    [
      'an Api property',
      '  Api:\n    Type: AWS::Serverless::Api\n    Properties: { StageName: v1, DefinitionBody: {}, Auth: {} }\n',
      'Resources.Api.Properties.Auth: AWS::Serverless::Api property Auth is not supported by the local SAM transform',
    ],
    [
      'a missing definition file',
      '  Flow:\n    Type: AWS::Serverless::StateMachine\n    Properties: { DefinitionUri: missing.asl.json }\n',
      `Resources.Flow.Properties.DefinitionUri: cannot read ${join(FIXTURES, 'missing.asl.json')}`,
    ],
    ['a generated id the template already uses', `${fn('Description: x')}  FnRole:\n    Type: AWS::IAM::Role\n`, 'Resources.Fn: the SAM transform generates FnRole, which the template already defines'],
  ])('names the resource and property of %s', (_what, resources, message) => {
    // Prepare
    const template = resources;

    // Act
    const act = (): unknown => transform(template);

    // Assess
    expect(act).toThrow(TemplateError);
    expect(act).toThrow(message);
  });

  it('rejects a Globals property SAM does not allow there', () => {
    // Prepare
    const globals = 'Globals:\n  Function:\n    Policies: [AWSLambdaExecute]\n';

    // Act
    const act = (): unknown => transform(fn('Description: x'), globals);

    // Assess
    expect(act).toThrow('Globals.Function.Policies: SAM does not accept Policies in Globals.Function');
  });

  it('rejects a transform-time value that references a resource', () => {
    // Prepare
    const resources = '  Flow:\n    Type: AWS::Serverless::StateMachine\n    Properties: { DefinitionUri: !Ref Bucket }\n';

    // Act
    const act = (): unknown => transform(resources);

    // Assess
    expect(act).toThrow('Resources.Flow.Properties.DefinitionUri: Ref Bucket: Bucket is not a parameter (resources cannot be referenced here)');
  });
});
