import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { checkTemplate, type CheckName, type Finding } from '../../local/check/index.js';

const SLOW = 120_000; // loading the resource specification and asl-validator's schemas takes seconds

const directories: string[] = [];
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

/** Writes a template (and the files it names) into a fresh folder and checks it. */
function check(template: string, files: Record<string, string> = {}): Finding[] {
  const directory = mkdtempSync(join(tmpdir(), 'wims-check-'));
  directories.push(directory);
  for (const [name, text] of Object.entries({ 'template.yaml': template, ...files })) {
    mkdirSync(dirname(join(directory, name)), { recursive: true });
    writeFileSync(join(directory, name), text);
  }
  return checkTemplate(join(directory, 'template.yaml'));
}

const of = (findings: Finding[], name: CheckName): Array<Pick<Finding, 'severity' | 'where'>> =>
  findings.filter((finding) => finding.check === name).map(({ severity, where }) => ({ severity, where }));
const error = (where: string): Pick<Finding, 'severity' | 'where'> => ({ severity: 'error', where });

const SAM = "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\n";
const ESBUILD = `
    Metadata:
      BuildMethod: esbuild
      BuildProperties:
        Format: esm
        Minify: true
        EntryPoints: [src/handler.ts]`;

describe('template.yaml', () => {
  let findings: Finding[];
  beforeAll(() => {
    findings = checkTemplate('template.yaml');
  }, SLOW);

  it('passes every check', () => {
    expect(findings.map(({ severity, check: name, where, message }) => `${severity} [${name}] ${where}: ${message}`)).toEqual([]);
  });
});

describe('(a) resource properties against the CloudFormation specification', () => {
  it('reports unknown and missing properties and plainly wrong kinds, in nested types too, and in SAM resources as transformed', () => {
    const findings = check(`${SAM}
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: [30]
      Colour: blue
      DelaySeconds: '5'
      RedrivePolicy: { deadLetterTargetArn: x, maxReceiveCount: 3 }
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{ AttributeName: pk, AttributeType: S }]
  Rule:
    Type: AWS::Events::Rule
    Properties:
      EventPattern: { source: [x] }
      Targets:
        - Arn: !GetAtt Queue.Arn
          RetryPolicy: { MaximumRetryAttempts: many, Often: true }
  Bogus:
    Type: AWS::Nope::Thing
  Seed:
    Type: Custom::Seed
    Properties:
      ServiceToken: !GetAtt Fn.Arn
      Anything: goes
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: handler.handler
      Runtime: nodejs22.x
      MemorySize: lots
      Timeout: !Ref AWS::NoValue
${ESBUILD}
`, { 'src/src/handler.ts': '' });
    expect(of(findings, 'spec')).toEqual([
      error('Resources.Queue.Properties.VisibilityTimeout'),
      error('Resources.Queue.Properties.Colour'),
      error('Resources.Table.Properties.KeySchema'),
      error('Resources.Rule.Properties.Targets[0].Id'),
      error('Resources.Rule.Properties.Targets[0].RetryPolicy.MaximumRetryAttempts'),
      error('Resources.Rule.Properties.Targets[0].RetryPolicy.Often'),
      error('Resources.Bogus.Type'),
      error('Resources.Fn.Properties.MemorySize'),
    ]);
    expect(findings.find((finding) => finding.where === 'Resources.Fn.Properties.MemorySize')?.message).toMatch(/expected an integer.*SAM transform makes of Resources\.Fn/);
  }, SLOW);
});

describe('(b) references', () => {
  it('reports names that do not exist and attributes a type does not have; SAM-generated names exist', () => {
    const findings = check(`${SAM}
Parameters:
  Stage: { Type: String, Default: dev }
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub \${AWS::StackName}-\${Stage}
  Bus:
    Type: AWS::Events::EventBus
    Properties:
      Name: !Sub \${AWS::StackName}-bus
  Machine:
    Type: AWS::Serverless::StateMachine
    Properties:
      Definition: { StartAt: Done, States: { Done: { Type: Succeed } } }
      Policies: []
      Events:
        OrderCreated:
          Type: EventBridgeRule
          Properties:
            EventBusName: !Ref Bus
            Pattern: { source: [x] }
  Policy:
    Type: AWS::SQS::QueuePolicy
    Properties:
      Queues: [!Ref Queue, !Ref Missing]
      PolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: { Service: events.amazonaws.com }
            Action: sqs:SendMessage
            Resource: [!GetAtt Queue.Arn, !GetAtt Queue.Nope, !Sub '\${Queue.QueueName}-\${Gone}-\${Stage.Attr}']
            Condition:
              ArnEquals:
                aws:SourceArn: [!GetAtt MachineOrderCreated.Arn, !GetAtt Machine.Arn]
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: dev
      DefinitionBody: { openapi: 3.0.1, info: { title: t, version: '1' }, paths: {} }
Outputs:
  Url:
    Value: !Ref Nowhere
  Stage:
    Value: !Ref Api.Stage
`);
    expect(of(findings, 'references')).toEqual([
      error('Resources.Policy.Properties.Queues[1]'),
      error('Resources.Policy.Properties.PolicyDocument.Statement[0].Resource[1]'),
      error('Resources.Policy.Properties.PolicyDocument.Statement[0].Resource[2]'),
      error('Resources.Policy.Properties.PolicyDocument.Statement[0].Resource[2]'),
      error('Outputs.Url.Value'),
    ]);
    const messages = findings.filter((finding) => finding.check === 'references').map((finding) => finding.message);
    expect(messages).toEqual([
      expect.stringMatching(/Ref Missing: there is no parameter, pseudo parameter or resource Missing/),
      expect.stringMatching(/Fn::GetAtt Queue\.Nope: AWS::SQS::Queue has no attribute Nope \(it has Arn, QueueName, QueueUrl\)/),
      expect.stringMatching(/Fn::Sub Gone: there is no/),
      expect.stringMatching(/Fn::Sub Stage\.Attr: Stage is a parameter/),
      expect.stringMatching(/Ref Nowhere/),
    ]);
  }, SLOW);
});

describe('(c) state machine definition substitutions and (d) Amazon States Language', () => {
  const machine = (uri: string, substitutions: string): string => `
  Machine${uri.replace(/\W/g, '')}:
    Type: AWS::Serverless::StateMachine
    Properties:
      DefinitionUri: ${uri}
      DefinitionSubstitutions: { ${substitutions} }
      Policies: []`;

  it('reports placeholders without a substitution, unused substitutions, invalid ASL and invalid JSON', () => {
    const findings = check(`${SAM}
Resources:${machine('sm/good.json', 'Table: t')}${machine('sm/subs.json', 'Table: t, Unused: u')}${machine('sm/asl.json', '')}${machine('sm/broken.json', '')}
`, {
      'sm/good.json': JSON.stringify({ StartAt: 'Put', States: { Put: { Type: 'Task', Resource: 'arn:aws:states:::dynamodb:putItem', Parameters: { TableName: '${Table}' }, End: true } } }),
      'sm/subs.json': JSON.stringify({ StartAt: 'Put', States: { Put: { Type: 'Task', Resource: 'arn:aws:states:::dynamodb:putItem', Parameters: { TableName: '${Table}', Key: '${Missing}' }, End: true } } }),
      'sm/asl.json': JSON.stringify({ StartAt: 'A', States: { A: { Type: 'Pass', Next: 'Nowhere' } } }),
      'sm/broken.json': '{ "StartAt": ',
    });
    expect(of(findings, 'substitutions')).toEqual([
      error('Resources.Machinesmsubsjson.Properties.DefinitionUri'),
      error('Resources.Machinesmsubsjson.Properties.DefinitionSubstitutions.Unused'),
    ]);
    expect(findings.find((finding) => finding.check === 'substitutions')?.message).toBe('${Missing} in sm/subs.json is not one of the DefinitionSubstitutions');
    expect(of(findings, 'asl')).toEqual([
      error('Resources.Machinesmasljson.Properties.DefinitionUri'),
      error('Resources.Machinesmasljson.Properties.DefinitionUri'),
      error('Resources.Machinesmbrokenjson.Properties.DefinitionUri'),
    ]);
    expect(findings.filter((finding) => finding.check === 'asl').map((finding) => finding.message)).toEqual([
      expect.stringMatching(/MISSING_TRANSITION_TARGET/),
      expect.stringMatching(/MISSING_TERMINAL_STATE/),
      expect.stringMatching(/sm\/broken\.json is not JSON/),
    ]);
  }, SLOW);
});

describe('(e) esbuild build Metadata', () => {
  const fn = (name: string, metadata: string): string => `
  ${name}:
    Type: AWS::Serverless::Function
    Properties: { CodeUri: ./, Handler: handler.handler, Runtime: nodejs22.x }${metadata}`;

  it('reports Metadata that differs from the shared one (EntryPoints aside), missing Metadata and missing entry points', () => {
    const findings = check(`${SAM}
Resources:${fn('One', ESBUILD)}${fn('Two', ESBUILD.replace('src/handler.ts', 'src/two.ts'))}${fn('Three', ESBUILD.replace('Minify: true', 'Minify: false'))}${fn('Four', ESBUILD.replace('src/handler.ts', 'src/gone.ts'))}${fn('Five', '')}
`, { 'src/handler.ts': '', 'src/two.ts': '' });
    expect(of(findings, 'build')).toEqual([
      error('Resources.Three.Metadata'),
      error('Resources.Four.Metadata.BuildProperties.EntryPoints[0]'),
      error('Resources.Five.Metadata'),
    ]);
    expect(findings.find((finding) => finding.where === 'Resources.Three.Metadata')?.message).toMatch(/^BuildProperties\.Minify differ .* \(see One\)/);
  }, SLOW);
});

describe('(f) hard-coded physical names', () => {
  it('reports own names not built from ${AWS::StackName}, in SAM resources too; stage names are scoped to their API', () => {
    const findings = check(`${SAM}
Parameters:
  TableNameParameter: { Type: String, Default: orders }
Resources:
  Fixed:
    Type: AWS::SQS::Queue
    Properties: { QueueName: orders-queue }
  FromStack:
    Type: AWS::SQS::Queue
    Properties: { QueueName: !Sub '\${AWS::StackName}-queue' }
  Joined:
    Type: AWS::SNS::Topic
    Properties: { TopicName: !Join ['-', [!Ref AWS::StackName, topic]] }
  FromParameter:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Ref TableNameParameter
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{ AttributeName: pk, AttributeType: S }]
      KeySchema: [{ AttributeName: pk, KeyType: HASH }]
  Machine:
    Type: AWS::Serverless::StateMachine
    Properties:
      Name: fixed-machine
      Definition: { StartAt: Done, States: { Done: { Type: Succeed } } }
      Policies: []
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: prod
      DefinitionBody: { openapi: 3.0.1, info: { title: t, version: '1' }, paths: {} }
`);
    expect(of(findings, 'names')).toEqual([
      error('Resources.Fixed.Properties.QueueName'),
      error('Resources.FromParameter.Properties.TableName'),
      error('Resources.Machine.Properties.StateMachineName'),
    ]);
  }, SLOW);
});

describe('(g) IAM policies', () => {
  it('reports wildcard actions, NotAction, and Resource "*" except for actions that take no resource', () => {
    const findings = check(`${SAM}
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement: [{ Effect: Allow, Principal: { Service: states.amazonaws.com }, Action: sts:AssumeRole }]
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement:
              - { Effect: Allow, Action: ['s3:*'], Resource: arn:aws:s3:::bucket/* }
              - { Effect: Allow, Action: [dynamodb:GetItem, dynamodb:ListStreams], Resource: '*' }
              - { Effect: Allow, Action: [logs:CreateLogDelivery, logs:DescribeLogGroups, dynamodb:ListStreams, xray:PutTraceSegments], Resource: '*' }
              - { Effect: Allow, NotAction: iam:*, Resource: arn:aws:s3:::bucket }
              - { Effect: Deny, Action: '*', Resource: '*' }
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      InlineCode: exports.handler = async () => {}
      Handler: index.handler
      Runtime: nodejs22.x
      Policies:
        - Statement:
            - Effect: Allow
              Action: sqs:Send*
              Resource: '*'
  LogsPolicy:
    Type: AWS::Logs::ResourcePolicy
    Properties:
      PolicyName: !Sub \${AWS::StackName}-logs
      PolicyDocument: !Sub |
        {"Statement": [{"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "logs:*", "Resource": "arn:aws:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:x"}]}
`);
    expect(of(findings, 'iam')).toEqual([
      error('Resources.Role.Properties.Policies[0].PolicyDocument.Statement[0].Action'),
      error('Resources.Role.Properties.Policies[0].PolicyDocument.Statement[1].Resource'),
      error('Resources.Role.Properties.Policies[0].PolicyDocument.Statement[3].NotAction'),
      error('Resources.Fn.Properties.Policies[0].Statement[0].Action'),
      error('Resources.Fn.Properties.Policies[0].Statement[0].Resource'),
      error('Resources.LogsPolicy.Properties.PolicyDocument.Statement[0].Action'),
    ]);
    expect(findings.find((finding) => finding.where.endsWith('Statement[1].Resource'))?.message).toBe(
      'Resource "*" for actions that can be scoped to a resource: dynamodb:GetItem',
    );
  }, SLOW);
});

describe('(h) EventBridge patterns', () => {
  it('validates rule patterns, SAM EventBridgeRule patterns and patterns given as JSON text', () => {
    const findings = check(`${SAM}
Parameters:
  Threshold: { Type: Number, Default: 10 }
Resources:
  Good:
    Type: AWS::Events::Rule
    Properties:
      EventPattern: !Sub '{"detail": {"n": [{"numeric": [">", \${Threshold}]}]}, "source": [{"prefix": "x"}]}'
  BadOperator:
    Type: AWS::Events::Rule
    Properties:
      EventPattern: { source: [{ startsWith: x }] }
  BadText:
    Type: AWS::Events::Rule
    Properties:
      EventPattern: '{"source": ["x"'
  Machine:
    Type: AWS::Serverless::StateMachine
    Properties:
      Definition: { StartAt: Done, States: { Done: { Type: Succeed } } }
      Policies: []
      Events:
        Bad:
          Type: EventBridgeRule
          Properties:
            Pattern: { detail: { n: [{ numeric: ['>>', 1] }] } }
`);
    expect(of(findings, 'patterns')).toEqual([
      error('Resources.BadOperator.Properties.EventPattern'),
      error('Resources.BadText.Properties.EventPattern'),
      error('Resources.Machine.Properties.Events.Bad.Properties.Pattern'),
    ]);
  }, SLOW);
});

describe('(i) API Gateway mapping templates (generic check)', () => {
  const api = (requestTemplate: string, errorTemplate: string): string => `${SAM}
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{ AttributeName: pk, AttributeType: S }]
      KeySchema: [{ AttributeName: pk, KeyType: HASH }]
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement: [{ Effect: Allow, Principal: { Service: apigateway.amazonaws.com }, Action: sts:AssumeRole }]
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: dev
      DefinitionBody:
        openapi: 3.0.1
        info: { title: t, version: '1' }
        paths:
          /notes:
            post:
              requestBody:
                content:
                  application/json:
                    schema: { type: object, required: [text], properties: { text: { type: string, maxLength: 200 } } }
              x-amazon-apigateway-integration:
                type: aws
                httpMethod: POST
                uri: !Sub arn:\${AWS::Partition}:apigateway:\${AWS::Region}:dynamodb:action/PutItem
                credentials: !GetAtt Role.Arn
                requestTemplates:
                  application/json: !Sub |
                    ${requestTemplate}
                responses:
                  '2\\d{2}':
                    statusCode: '201'
                  '4\\d{2}':
                    statusCode: '400'
                    responseTemplates:
                      application/json: |
                        ${errorTemplate}
                  '5\\d{2}':
                    statusCode: '503'
`;
  const escaped = '{"TableName": "${Table}", "Item": {"pk": {"S": "$util.escapeJavaScript($input.path(\'$.text\')).replaceAll("\\\\\'", "\'")"}}}';

  it('accepts a template that escapes what it copies, and whose answers are JSON', () => {
    const findings = check(api(escaped, '{"error": "$input.path(\'$.__type\')"}'));
    expect(of(findings, 'mapping-templates')).toEqual([]);
  }, SLOW);

  it('reports output that is not JSON, values that do not survive, and attribute values that are not DynamoDB JSON', () => {
    const raw = '{"TableName": "${Table}", "Item": {"pk": {"S": "$input.path(\'$.text\')"}, "n": {"N": "many"}, "two": {"S": "a", "N": "1"}}}';
    const unquoted = "{\"TableName\": \"${Table}\", \"Item\": {\"pk\": {\"S\": \"$util.escapeJavaScript($input.path('$.text'))\"}}}";
    const rawFindings = check(api(raw, '{"error": $input.path(\'$.message\')}')).filter((finding) => finding.check === 'mapping-templates');
    const where = 'Resources.Api.Properties.DefinitionBody.paths./notes.post.x-amazon-apigateway-integration';
    expect(rawFindings.some((finding) => finding.where === `${where}.requestTemplates.application/json` && /the output is not JSON/.test(finding.message))).toBe(true);
    expect(rawFindings.some((finding) => /Item\.n\.N: expected a number as a string/.test(finding.message))).toBe(true);
    expect(rawFindings.some((finding) => /Item\.two: an attribute value is a map with exactly one type/.test(finding.message))).toBe(true);
    expect(rawFindings.some((finding) => finding.where === `${where}.responses.4\\d{2}.responseTemplates.application/json` && /400 ConditionalCheckFailedException: the output is not JSON/.test(finding.message))).toBe(true);
    // escapeJavaScript without the documented replaceAll leaves \' in the output, which JSON rejects.
    const unquotedFindings = check(api(unquoted, '{}')).filter((finding) => finding.check === 'mapping-templates');
    expect(unquotedFindings.length).toBeGreaterThan(0);
    expect(unquotedFindings.every((finding) => /hostile .*the output is not JSON/.test(finding.message))).toBe(true);
  }, SLOW);
});

describe('the template itself', () => {
  it('is reported when it cannot be read or transformed', () => {
    expect(check('Resources: [')).toEqual([expect.objectContaining({ severity: 'error', check: 'template' })]);
    const findings = check(`${SAM}\nResources:\n  X:\n    Type: AWS::Serverless::SimpleTable\n`);
    expect(findings).toEqual([expect.objectContaining({ severity: 'error', check: 'template', where: 'Resources.X' })]);
  }, SLOW);
});

describe('npm run check', () => {
  it('prints one finding per line and exits 1 on an error', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'wims-check-'));
    directories.push(directory);
    writeFileSync(join(directory, 'template.yaml'), 'Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties: { QueueName: fixed }\n');
    const run = promisify(execFile)('node_modules/.bin/tsx', ['scripts/check-template.ts', join(directory, 'template.yaml')]);
    await expect(run).rejects.toMatchObject({
      code: 1,
      stdout: expect.stringMatching(/^error \[names\] Resources\.Q\.Properties\.QueueName: hard-coded physical name.*\n.*1 error\(s\), 0 warning\(s\)\n$/),
    });
  }, SLOW);
});
