import { describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTemplate, prepareTemplate, type LoadedTemplate, type LoadOptions } from '../../../local/template/loader.js';
import { parseTemplate, TemplateError } from '../../../local/template/parse.js';
import type { DeployedResource } from '../../../local/services/provider.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const FIXTURE = join(FIXTURES, 'sam-app.yaml');

/** Loads a template given as YAML text. */
function load(text: string, options: LoadOptions = {}): LoadedTemplate {
  return prepareTemplate(parseTemplate(text), { ...options, baseDir: FIXTURES });
}

/** Pretends to deploy every resource in order: physical id `<id>-id`, attributes Arn and Name. */
function deployAll(loaded: LoadedTemplate): Map<string, DeployedResource> {
  const deployed = new Map<string, DeployedResource>();
  for (const id of loaded.deploymentOrder()) {
    deployed.set(id, { physicalId: `${id}-id`, attributes: { Arn: `arn:aws:test:us-east-1:000000000000:${id}`, QueueName: `${id}-name` } });
  }
  return deployed;
}

describe('loadTemplate', () => {
  it('orders every resource after the resources it references', () => {
    // Prepare
    const loaded = loadTemplate(FIXTURE);

    // Act
    const order = loaded.deploymentOrder();

    // Assess
    expect([...order].sort()).toEqual(Object.keys(loaded.template.Resources).sort());
    for (const id of order) {
      for (const dependency of loaded.dependenciesOf(id)) expect(order.indexOf(dependency)).toBeLessThan(order.indexOf(id));
    }
    expect(loaded.dependenciesOf('IntakeFunctionIntake')).toEqual(['OrdersQueue', 'IntakeFunction']);
    expect(loaded.dependenciesOf('OrdersApiStage')).toEqual(['OrdersApi', expect.stringMatching(/^OrdersApiDeployment/)]);
  });

  it('drops resources and outputs whose Condition is false, and keeps them when it holds', () => {
    // Prepare
    const overrides = { Stage: 'prod' };

    // Act
    const dev = loadTemplate(FIXTURE);
    const prod = loadTemplate(FIXTURE, { parameterOverrides: overrides });

    // Assess
    expect(dev.conditions).toEqual({ IsProd: false });
    expect(dev.template.Resources.ProdAlarm).toBeUndefined();
    expect(dev.template.Outputs?.AlarmName).toBeUndefined();
    expect(prod.conditions).toEqual({ IsProd: true });
    expect(prod.resourcesOfType('AWS::CloudWatch::Alarm')).toEqual(['ProdAlarm']);
    expect(prod.resourcesOfType('AWS::ApiGateway::Stage')).toEqual(['OrdersApiStage']);
  });

  it('resolves a resource against what its dependencies returned when deployed', () => {
    // Prepare
    const loaded = loadTemplate(FIXTURE, { region: 'eu-west-1', accountId: '123456789012', stackName: 'orders' });
    const deployed = deployAll(loaded);

    // Act
    const fn = loaded.resolveResource('IntakeFunction', deployed);
    const bus = loaded.resolveResource('OrderEventBus', deployed);

    // Assess
    expect(fn.type).toBe('AWS::Lambda::Function');
    expect(fn.metadata).toEqual({ BuildMethod: 'esbuild', BuildProperties: { EntryPoints: ['index.ts'] } });
    expect(fn.properties.Code).toEqual({ LocalPath: join(FIXTURES, 'src/intake') });
    expect(fn.properties.Role).toBe('arn:aws:test:us-east-1:000000000000:IntakeFunctionRole');
    expect(fn.properties.Environment).toEqual({
      Variables: { STAGE: 'dev', TABLE_NAME: 'OrdersTable-id', EVENT_BUS: 'OrderEventBus-id', API_TOKEN: 'local-token' },
    });
    expect(bus).toEqual({ logicalId: 'OrderEventBus', type: 'AWS::Events::EventBus', properties: { Name: 'orders-orders' }, metadata: {} });
    expect(loaded.parameters.ApiToken).toEqual({ type: 'String', value: 'local-token', noEcho: true });
  });

  it('resolves the outputs, including SAM implicit references', () => {
    // Prepare
    const loaded = loadTemplate(FIXTURE);
    const deployed = deployAll(loaded);

    // Act
    const outputs = loaded.resolveOutputs(deployed);

    // Assess
    expect(outputs).toEqual({
      ApiUrl: 'https://OrdersApi-id.execute-api.us-east-1.amazonaws.com/OrdersApiStage-id',
      StateMachineArn: 'FulfilmentStateMachine-id',
    });
  });

  it('names the resource and its dependency when the dependency is not deployed, or lacks an attribute', () => {
    // Prepare
    const loaded = loadTemplate(FIXTURE);
    const deployed = deployAll(loaded);
    const withoutTable = new Map(deployed);
    withoutTable.delete('OrdersTable');
    const queueWithoutArn = new Map(deployed).set('OrdersQueue', { physicalId: 'q', attributes: { QueueUrl: 'http://q' } });

    // Act
    const notDeployed = (): unknown => loaded.resolveResource('IntakeFunction', withoutTable);
    const noAttribute = (): unknown => loaded.resolveResource('IntakeFunctionIntake', queueWithoutArn);

    // Assess
    expect(notDeployed).toThrow(
      new TemplateError('Resources.IntakeFunction.Properties.Environment.Variables.TABLE_NAME: Ref refers to OrdersTable, which is not deployed yet'),
    );
    expect(noAttribute).toThrow(
      new TemplateError(
        'Resources.IntakeFunctionIntake.Properties.EventSourceArn: Fn::GetAtt OrdersQueue.Arn: the AWS::SQS::Queue provider returned no attribute Arn (returned: QueueUrl)',
      ),
    );
  });

  it('applies the conditions to properties: Fn::If settles and AWS::NoValue removes the key', () => {
    // Prepare
    const text = [
      'Parameters: { Stage: { Type: String, Default: dev } }',
      'Conditions: { IsProd: !Equals [!Ref Stage, prod] }',
      'Resources:',
      '  Queue:',
      '    Type: AWS::SQS::Queue',
      '    Properties:',
      '      DelaySeconds: !If [IsProd, 0, 5]',
      '      KmsMasterKeyId: !If [IsProd, alias/prod, !Ref AWS::NoValue]',
      '      Tags: [{ Key: stage, Value: !Ref Stage }, !If [IsProd, { Key: tier, Value: gold }, !Ref AWS::NoValue]]',
    ].join('\n');

    // Act
    const loaded = load(text);

    // Assess
    expect(loaded.template.Resources.Queue?.Properties).toEqual({ DelaySeconds: 5, Tags: [{ Key: 'stage', Value: { Ref: 'Stage' } }] });
    expect(loaded.resolveResource('Queue', new Map()).properties).toEqual({ DelaySeconds: 5, Tags: [{ Key: 'stage', Value: 'dev' }] });
  });

  it('names a dependency cycle and the references that make it', () => {
    // Prepare
    const text = [
      'Resources:',
      '  A: { Type: AWS::SQS::Queue, Properties: { QueueName: !GetAtt B.QueueName } }',
      '  B: { Type: AWS::SQS::Queue, Properties: { QueueName: !Sub "${C}-b" } }',
      '  C: { Type: AWS::SQS::Queue, DependsOn: A }',
      '  D: { Type: AWS::SQS::Queue }',
    ].join('\n');
    const loaded = load(text);

    // Act
    const act = (): unknown => loaded.deploymentOrder();

    // Assess
    expect(act).toThrow(
      new TemplateError(
        'Resources form a dependency cycle: A → B → C → A (A → B at Resources.A.Properties.QueueName; B → C at Resources.B.Properties.QueueName; C → A at Resources.C.DependsOn)',
      ),
    );
    expect(loaded.dependenciesOf('D')).toEqual([]);
  });

  it('rejects references to unknown names and to resources whose Condition is false', () => {
    // Prepare
    const base = 'Conditions: { Never: !Equals [a, b] }\nResources:\n  Off: { Type: AWS::SQS::Queue, Condition: Never }\n';
    const unknown = `${base}  Q: { Type: AWS::SQS::Queue, Properties: { QueueName: !Ref Missing } }\n`;
    const conditional = `${base}  Q: { Type: AWS::SQS::Queue, Properties: { QueueName: !GetAtt Off.QueueName } }\n`;
    const dependsOn = `${base}  Q: { Type: AWS::SQS::Queue, DependsOn: [Off] }\n`;

    // Act
    const acts = [unknown, conditional, dependsOn].map((text) => (): unknown => load(text));

    // Assess
    expect(acts[0]).toThrow('Resources.Q.Properties.QueueName: Ref Missing: Missing is neither a parameter nor a resource');
    expect(acts[1]).toThrow('Resources.Q.Properties.QueueName: Fn::GetAtt Off.QueueName: Off is not created: its Condition Never is false');
    expect(acts[2]).toThrow('Resources.Q.DependsOn: Off is not created: its Condition Never is false');
  });

  it('rejects templates it cannot honour, naming where', () => {
    // Prepare
    const cases: Array<[string, string]> = [
      ['Resources:\n  Fn: { Type: AWS::Serverless::Function }\n', 'Resources.Fn: AWS::Serverless::Function needs "Transform: AWS::Serverless-2016-10-31"'],
      ['Transform: AWS::Include\nResources: {}\n', 'Transform: AWS::Include is not supported locally'],
      ['Parameters: { Q: { Type: String, Default: x } }\nResources:\n  Q: { Type: AWS::SQS::Queue }\n', 'Parameters.Q: a resource has the same logical id'],
      ['Resources:\n  Q: { Type: AWS::SQS::Queue, Condition: Nope }\n', 'Resources.Q.Condition: condition Nope is not defined in Conditions'],
      ['Rules: {}\nResources: {}\n', 'Rules: template rules are not evaluated locally'],
      ['Resources:\n  Q: { Type: AWS::SQS::Queue, Properties: { QueueName: !ImportValue shared } }\n', 'Resources.Q.Properties.QueueName: Fn::ImportValue is not supported'],
    ];

    // Act
    const acts = cases.map(([text]) => (): unknown => load(text));

    // Assess
    acts.forEach((act, index) => expect(act).toThrow((cases[index] as [string, string])[1]));
  });

  it('answers type questions about the transformed template', () => {
    // Prepare
    const text = [
      'Resources:',
      '  Hook: { Type: Custom::Seed, Properties: { ServiceToken: x } }',
      '  Other: { Type: AWS::CloudFormation::CustomResource, Properties: { ServiceToken: x } }',
      '  Again: { Type: Custom::Seed, Properties: { ServiceToken: x } }',
    ].join('\n');

    // Act
    const loaded = load(text);

    // Assess
    expect(loaded.typeOf('Hook')).toBe('Custom::Seed');
    expect(loaded.customResourceTypes()).toEqual(['Custom::Seed', 'AWS::CloudFormation::CustomResource']);
    expect(loaded.resourcesOfType('Custom::Seed')).toEqual(['Hook', 'Again']);
    expect(() => loaded.typeOf('Nope')).toThrow('Resources.Nope: no such resource');
    expect({ region: loaded.region, accountId: loaded.accountId, stackName: loaded.stackName }).toEqual({
      region: 'us-east-1',
      accountId: '000000000000',
      stackName: 'wims-local',
    });
  });
});
