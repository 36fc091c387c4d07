import { describe, expect, it } from '@jest/globals';
import {
  evaluateConditions,
  findReferences,
  parseSub,
  pruneConditionals,
  pseudoParameters,
  resolveValue,
  type IntrinsicScope,
} from '../../../local/template/intrinsics.js';
import { parseTemplate, TemplateError, type Json } from '../../../local/template/parse.js';

const CONDITIONS: Record<string, boolean> = { IsProd: true, IsDev: false };

/** A scope with two "deployed" resources, Queue and Table, whose values are derived from their names. */
function scope(): IntrinsicScope {
  return {
    refs: {
      ...pseudoParameters({ region: 'eu-west-1', accountId: '123456789012', stackName: 'wims-test' }),
      Stage: 'prod',
      Subnets: ['subnet-a', 'subnet-b'],
      Attribute: 'Arn',
    },
    mappings: { Sizes: { prod: { Memory: 1024, Zones: ['a', 'b'] }, dev: { Memory: 128 } } },
    condition: (name, path) => {
      const value = CONDITIONS[name];
      if (value === undefined) throw new TemplateError(`${path}: condition ${name} is not defined in Conditions`);
      return value;
    },
    resources: {
      has: (id) => id === 'Queue' || id === 'Table',
      ref: (id) => `${id}-physical-id`,
      getAtt: (id, attribute) => `${id}/${attribute}`,
    },
  };
}

/** Parses one YAML value written with short-form tags (`!Sub`, `!GetAtt`, …). */
function yamlValue(text: string): Json {
  const template = parseTemplate(`Resources:\n  R:\n    Type: T\n    Properties:\n      V: ${text}\n`);
  return template.Resources.R?.Properties?.V as Json;
}

const resolve = (value: Json): Json | undefined => resolveValue(value, scope(), 'Resources.R.Properties.V');

describe('Ref', () => {
  it('returns parameter values, list parameters as lists, and resource physical ids', () => {
    // Prepare
    const value = { stage: { Ref: 'Stage' }, subnets: { Ref: 'Subnets' }, queue: { Ref: 'Queue' } };

    // Act
    const resolved = resolve(value);

    // Assess
    expect(resolved).toEqual({ stage: 'prod', subnets: ['subnet-a', 'subnet-b'], queue: 'Queue-physical-id' });
  });

  it('returns every pseudo parameter', () => {
    // Prepare
    const names = ['AWS::Region', 'AWS::AccountId', 'AWS::StackName', 'AWS::StackId', 'AWS::Partition', 'AWS::URLSuffix', 'AWS::NotificationARNs'];

    // Act
    const values = names.map((name) => resolve({ Ref: name }));

    // Assess
    expect(values.slice(0, 3)).toEqual(['eu-west-1', '123456789012', 'wims-test']);
    expect(values[3]).toMatch(/^arn:aws:cloudformation:eu-west-1:123456789012:stack\/wims-test\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(values.slice(4)).toEqual(['aws', 'amazonaws.com', []]);
  });

  it('derives the partition and URL suffix from the region', () => {
    // Prepare
    const regions = ['cn-north-1', 'us-gov-west-1'];

    // Act
    const values = regions.map((region) => pseudoParameters({ region, accountId: '1', stackName: 's' }));

    // Assess
    expect(values.map((value) => [value['AWS::Partition'], value['AWS::URLSuffix']])).toEqual([
      ['aws-cn', 'amazonaws.com.cn'],
      ['aws-us-gov', 'amazonaws.com'],
    ]);
  });

  it('AWS::NoValue removes the map key or list element, and the whole value at the top', () => {
    // Prepare
    const value = { kept: 'yes', removed: { Ref: 'AWS::NoValue' }, list: ['a', { Ref: 'AWS::NoValue' }, 'b'] };

    // Act
    const resolved = resolve(value);
    const whole = resolve({ Ref: 'AWS::NoValue' });

    // Assess
    expect(resolved).toEqual({ kept: 'yes', list: ['a', 'b'] });
    expect(whole).toBeUndefined();
  });

  it('rejects a name that is neither a parameter nor a resource', () => {
    // Prepare
    const value = { Ref: 'Missing' };

    // Act
    const act = (): unknown => resolve(value);

    // Assess
    expect(act).toThrow(new TemplateError('Resources.R.Properties.V: Ref Missing: Missing is neither a parameter nor a resource'));
  });
});

describe('Fn::GetAtt', () => {
  it('accepts the list form, the "Resource.Attribute" string form and an intrinsic attribute name', () => {
    // Prepare
    const value = [{ 'Fn::GetAtt': ['Queue', 'Arn'] }, { 'Fn::GetAtt': 'Table.StreamArn' }, { 'Fn::GetAtt': ['Queue', { Ref: 'Attribute' }] }];

    // Act
    const resolved = resolve(value);

    // Assess
    expect(resolved).toEqual(['Queue/Arn', 'Table/StreamArn', 'Queue/Arn']);
  });

  it('keeps a nested attribute whole: !GetAtt Table.Endpoint.Address', () => {
    // Prepare
    const value = yamlValue('!GetAtt Table.Endpoint.Address');

    // Act
    const resolved = resolve(value);

    // Assess
    expect(value).toEqual({ 'Fn::GetAtt': ['Table', 'Endpoint.Address'] });
    expect(resolved).toBe('Table/Endpoint.Address');
  });

  it('rejects a parameter, which has no attributes', () => {
    // Prepare
    const value = { 'Fn::GetAtt': ['Stage', 'Arn'] };

    // Act
    const act = (): unknown => resolve(value);

    // Assess
    expect(act).toThrow('Fn::GetAtt Stage.Arn: Stage is a parameter, which has no attributes');
  });
});

describe('Fn::Sub', () => {
  it('substitutes parameters, pseudo parameters, resources and attributes, and keeps ${!Literal} literal', () => {
    // Prepare
    const value = yamlValue('!Sub "${Stage}/${AWS::Region}/${Queue}/${Table.Arn}/${!Literal}/${ Stage }"');

    // Act
    const resolved = resolve(value);

    // Assess
    expect(resolved).toBe('prod/eu-west-1/Queue-physical-id/Table/Arn/${Literal}/prod');
  });

  it('takes variables from the map of the list form first, resolving their intrinsics', () => {
    // Prepare
    const value = { 'Fn::Sub': ['${Queue}:${Name}:${AWS::AccountId}', { Queue: 'from-map', Name: { 'Fn::GetAtt': ['Table', 'Name'] } }] };

    // Act
    const resolved = resolve(value);

    // Assess
    expect(resolved).toBe('from-map:Table/Name:123456789012');
  });

  it('rejects a list parameter, which is not text', () => {
    // Prepare
    const value = { 'Fn::Sub': 'subnets: ${Subnets}' };

    // Act
    const act = (): unknown => resolve(value);

    // Assess
    expect(act).toThrow('Resources.R.Properties.V: Fn::Sub ${Subnets} must be a string, got ["subnet-a","subnet-b"]');
  });

  it('parses text into literals and variables', () => {
    // Prepare
    const text = 'a${B}c${!D}e${F.G}';

    // Act
    const parts = parseSub(text, 'p');

    // Assess
    expect(parts).toEqual([{ literal: 'a' }, { variable: 'B' }, { literal: 'c${D}e' }, { variable: 'F.G' }]);
  });
});

describe('list and text functions', () => {
  it('Fn::Join joins literals, intrinsics and list parameters', () => {
    // Prepare
    const value = [{ 'Fn::Join': ['-', ['a', { Ref: 'Stage' }, 3]] }, { 'Fn::Join': [',', { Ref: 'Subnets' }] }];

    // Act
    const resolved = resolve(value);

    // Assess
    expect(resolved).toEqual(['a-prod-3', 'subnet-a,subnet-b']);
  });

  it('Fn::Select picks from a Fn::Split, and rejects an index out of range', () => {
    // Prepare
    const value = { 'Fn::Select': ['1', { 'Fn::Split': ['/', 'a/b/c'] }] };
    const outOfRange = { 'Fn::Select': [5, ['a']] };

    // Act
    const resolved = resolve(value);
    const act = (): unknown => resolve(outOfRange);

    // Assess
    expect(resolved).toBe('b');
    expect(act).toThrow('Resources.R.Properties.V: Fn::Select index 5 is outside the list of 1');
  });

  it('Fn::Base64, Fn::ToJsonString, Fn::Length and Fn::GetAZs', () => {
    // Prepare
    const value = {
      base64: { 'Fn::Base64': { 'Fn::Sub': 'stage=${Stage}' } },
      json: { 'Fn::ToJsonString': { queue: { Ref: 'Queue' }, gone: { Ref: 'AWS::NoValue' }, n: 1 } },
      length: { 'Fn::Length': { Ref: 'Subnets' } },
      zones: { 'Fn::GetAZs': '' },
      zone: { 'Fn::Select': [0, { 'Fn::GetAZs': { Ref: 'AWS::Region' } }] },
    };

    // Act
    const resolved = resolve(value);

    // Assess
    expect(resolved).toEqual({
      base64: Buffer.from('stage=prod').toString('base64'),
      json: '{"queue":"Queue-physical-id","n":1}',
      length: 2,
      zones: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'],
      zone: 'eu-west-1a',
    });
  });

  it('Fn::FindInMap looks up mappings with intrinsic keys, and falls back to DefaultValue', () => {
    // Prepare
    const value = {
      memory: { 'Fn::FindInMap': ['Sizes', { Ref: 'Stage' }, 'Memory'] },
      zones: { 'Fn::FindInMap': ['Sizes', 'prod', 'Zones'] },
      fallback: { 'Fn::FindInMap': ['Sizes', 'test', 'Memory', { DefaultValue: 64 }] },
    };

    // Act
    const resolved = resolve(value);

    // Assess
    expect(resolved).toEqual({ memory: 1024, zones: ['a', 'b'], fallback: 64 });
  });

  it('Fn::FindInMap names the missing key', () => {
    // Prepare
    const value = { 'Fn::FindInMap': ['Sizes', 'dev', 'Zones'] };

    // Act
    const act = (): unknown => resolve(value);

    // Assess
    expect(act).toThrow('Resources.R.Properties.V: Fn::FindInMap: mapping Sizes.dev has no key Zones');
  });
});

describe('conditions', () => {
  it('Fn::If chooses by condition, and its branch may be AWS::NoValue', () => {
    // Prepare
    const value = yamlValue('{ a: !If [IsProd, big, small], b: !If [IsDev, x, !Ref AWS::NoValue] }');

    // Act
    const resolved = resolve(value);

    // Assess
    expect(resolved).toEqual({ a: 'big' });
  });

  it('Fn::Equals, Fn::And, Fn::Or, Fn::Not and Condition evaluate to booleans', () => {
    // Prepare
    const value: Json = {
      equals: { 'Fn::Equals': [{ Ref: 'Stage' }, 'prod'] },
      numberAsText: { 'Fn::Equals': [3, '3'] },
      and: { 'Fn::And': [{ Condition: 'IsProd' }, { 'Fn::Equals': ['a', 'a'] }] },
      or: { 'Fn::Or': [{ Condition: 'IsDev' }, { Condition: 'IsProd' }] },
      not: { 'Fn::Not': [{ Condition: 'IsProd' }] },
    };

    // Act
    const resolved = resolve(value);

    // Assess
    expect(resolved).toEqual({ equals: true, numberAsText: true, and: true, or: true, not: false });
  });

  it('evaluates the Conditions section once, conditions using each other', () => {
    // Prepare
    const definitions: Record<string, Json> = {
      IsProd: { 'Fn::Equals': [{ Ref: 'Stage' }, 'prod'] },
      IsNotProd: { 'Fn::Not': [{ Condition: 'IsProd' }] },
      ProdInEurope: { 'Fn::And': [{ Condition: 'IsProd' }, { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'eu-west-1'] }] },
    };

    // Act
    const results = evaluateConditions(definitions, { refs: { Stage: 'prod', 'AWS::Region': 'eu-west-1' } });

    // Assess
    expect(results).toEqual({ IsProd: true, IsNotProd: false, ProdInEurope: true });
  });

  it('names a cycle between conditions, an unknown condition and a resource reference', () => {
    // Prepare
    const cycle = { A: { 'Fn::Not': [{ Condition: 'B' }] }, B: { 'Fn::Not': [{ Condition: 'A' }] } };
    const unknown = { A: { 'Fn::Not': [{ Condition: 'Nope' }] } };
    const resource = { A: { 'Fn::Equals': [{ Ref: 'Queue' }, 'x'] } };

    // Act
    const acts = [cycle, unknown, resource].map((definitions) => (): unknown => evaluateConditions(definitions, { refs: {} }));

    // Assess
    expect(acts[0]).toThrow('Conditions.A: conditions refer to each other in a cycle: A → B → A');
    expect(acts[1]).toThrow('Conditions.A.Fn::Not[0]: condition Nope is not defined in Conditions');
    expect(acts[2]).toThrow('Conditions.A.Fn::Equals[0]: Ref Queue: Queue is not a parameter (resources cannot be referenced here)');
  });

  it('pruneConditionals settles Fn::If and AWS::NoValue but keeps every other intrinsic', () => {
    // Prepare
    const value = yamlValue('{ a: !If [IsProd, !Ref Queue, !Ref Table], b: !If [IsDev, x, !Ref AWS::NoValue], c: !Join ["", [!If [IsDev, x, !Ref AWS::NoValue], !Sub "${Stage}"]] }');

    // Act
    const pruned = pruneConditionals(value, CONDITIONS, 'Resources.R.Properties.V');

    // Assess
    expect(pruned).toEqual({ a: { Ref: 'Queue' }, c: { 'Fn::Join': ['', [{ 'Fn::Sub': '${Stage}' }]] } });
  });
});

describe('unsupported functions', () => {
  it('names the path and the function', () => {
    // Prepare
    const body = { paths: { '/orders': { post: { uri: { 'Fn::Foo': 'x' } } } } };

    // Act
    const act = (): unknown => resolveValue(body, scope(), 'Resources.OrdersApi.Properties.Body');
    const actPruning = (): unknown => pruneConditionals(body, CONDITIONS, 'Resources.OrdersApi.Properties.Body');

    // Assess
    expect(act).toThrow(new TemplateError('Resources.OrdersApi.Properties.Body.paths./orders.post.uri: Fn::Foo is not supported'));
    expect(actPruning).toThrow('Resources.OrdersApi.Properties.Body.paths./orders.post.uri: Fn::Foo is not supported');
  });

  it('explains why Fn::ImportValue cannot work locally', () => {
    // Prepare
    const value = { 'Fn::ImportValue': 'other-stack-export' };

    // Act
    const act = (): unknown => resolve(value);

    // Assess
    expect(act).toThrow('Resources.R.Properties.V: Fn::ImportValue is not supported (there are no other stacks to import from locally)');
  });
});

describe('findReferences', () => {
  it('finds Ref, Fn::GetAtt and Fn::Sub names, but not Sub map variables or ${!Literal}', () => {
    // Prepare
    const value = yamlValue(
      '{ a: !Ref Queue, b: !GetAtt Table.StreamArn, c: !Sub ["${Own}-${Stage}-${Bus.Arn}-${!Skip}", { Own: !Ref Topic }], d: [!Ref AWS::NoValue] }',
    );

    // Act
    const references = findReferences(value, 'p');

    // Assess
    expect(references).toEqual([
      { name: 'Queue', via: 'Ref', path: 'p.a' },
      { name: 'Table', attribute: 'StreamArn', via: 'Fn::GetAtt', path: 'p.b' },
      { name: 'Stage', via: 'Fn::Sub', path: 'p.c' },
      { name: 'Bus', attribute: 'Arn', via: 'Fn::Sub', path: 'p.c' },
      { name: 'Topic', via: 'Ref', path: 'p.c.Fn::Sub[1].Own' },
    ]);
  });
});
