/**
 * EventBridge rule target input shaping: default event, Input, InputPath and InputTransformer,
 * with the examples from the guide's "Transforming target input" page.
 */
import { describe, expect, test } from '@jest/globals';
import { shapeTargetInput } from '../../../local/services/events/input.js';

/** The EC2 event the guide's input transformer examples use. */
const ec2Event = {
  version: '0',
  id: '7bf73129-1428-4cd3-a780-95db273d1602',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '123456789012',
  time: '2015-11-11T21:29:54Z',
  region: 'us-east-1',
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111'],
  detail: { 'instance-id': 'i-0123456789', state: 'RUNNING' },
};

const ec2Paths = { timestamp: '$.time', instance: '$.detail.instance-id', state: '$.detail.state' };

const rule = {
  ruleName: 'example',
  ruleArn: 'arn:aws:events:us-east-2:123456789012:rule/example',
  ingestionTime: new Date('2015-11-11T21:29:55.123Z'),
};

function transform(template: string, paths: Record<string, string> = ec2Paths, event: object = ec2Event): string {
  return shapeTargetInput({ InputTransformer: { InputPathsMap: paths, InputTemplate: template } }, event, rule);
}

describe('default, Input and InputPath', () => {
  test('without input settings the whole event is delivered as JSON', () => {
    expect(JSON.parse(shapeTargetInput({}, ec2Event))).toEqual(ec2Event);
  });

  test('Input delivers the constant JSON text as given', () => {
    expect(shapeTargetInput({ Input: '{"action": "sync", "full": true}' }, ec2Event)).toBe(
      '{"action": "sync", "full": true}',
    );
  });

  test('InputPath $ delivers the whole event', () => {
    expect(JSON.parse(shapeTargetInput({ InputPath: '$' }, ec2Event))).toEqual(ec2Event);
  });

  test('InputPath with a dotted path delivers that object', () => {
    expect(JSON.parse(shapeTargetInput({ InputPath: '$.detail' }, ec2Event))).toEqual(ec2Event.detail);
  });

  test('InputPath to a string delivers it as a JSON string', () => {
    expect(shapeTargetInput({ InputPath: '$.detail.state' }, ec2Event)).toBe('"RUNNING"');
  });

  test('InputPath accepts dashed names, bracket-quoted keys and array indexes', () => {
    expect(shapeTargetInput({ InputPath: '$.detail-type' }, ec2Event)).toBe('"EC2 Instance State-change Notification"');
    expect(shapeTargetInput({ InputPath: "$['detail'][\"instance-id\"]" }, ec2Event)).toBe('"i-0123456789"');
    expect(shapeTargetInput({ InputPath: '$.resources[0]' }, ec2Event)).toBe(
      '"arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"',
    );
    expect(shapeTargetInput({ InputPath: "$['a.b']" }, { 'a.b': 1 })).toBe('1');
  });

  test('InputPath that finds nothing delivers null', () => {
    expect(shapeTargetInput({ InputPath: '$.detail.missing' }, ec2Event)).toBe('null');
    expect(shapeTargetInput({ InputPath: '$.resources[5]' }, ec2Event)).toBe('null');
  });

  test('a malformed JSONPath is rejected', () => {
    expect(() => shapeTargetInput({ InputPath: 'detail' }, ec2Event)).toThrow('Invalid JSON path');
    expect(() => shapeTargetInput({ InputPath: '$.resources[x]' }, ec2Event)).toThrow('Invalid JSON path');
    expect(() => shapeTargetInput({ InputPath: '$..detail' }, ec2Event)).toThrow('Invalid JSON path');
  });

  test('only one of Input, InputPath and InputTransformer may be set', () => {
    expect(() => shapeTargetInput({ Input: '{}', InputPath: '$' }, ec2Event)).toThrow(
      'Only one of Input, InputPath, or InputTransformer must be provided.',
    );
  });
});

describe('InputTransformer (guide examples)', () => {
  test('simple string', () => {
    expect(transform('"instance <instance> is in <state>"')).toBe('"instance i-0123456789 is in RUNNING"');
  });

  test('string with escaped quotes', () => {
    expect(transform('"instance \\"<instance>\\" is in <state>"')).toBe(
      '"instance \\"i-0123456789\\" is in RUNNING"',
    );
  });

  test('simple JSON: unquoted string variables gain quotes', () => {
    expect(transform('{\n  "instance" : <instance>,\n  "state": <state>\n}')).toBe(
      '{\n  "instance" : "i-0123456789",\n  "state": "RUNNING"\n}',
    );
  });

  test('JSON with strings and variables', () => {
    const output = transform(
      '{"instance" : <instance>, "state": "<state>", "instanceStatus": "instance \\"<instance>\\" is in <state>"}',
    );
    expect(JSON.parse(output)).toEqual({
      instance: 'i-0123456789',
      state: 'RUNNING',
      instanceStatus: 'instance "i-0123456789" is in RUNNING',
    });
  });

  test('JSON with a mix of variables and static information', () => {
    const output = transform('{"instance" : <instance>, "state": [ 9, <state>, true ], "Transformed" : "Yes"}');
    expect(JSON.parse(output)).toEqual({ instance: 'i-0123456789', state: [9, 'RUNNING', true], Transformed: 'Yes' });
  });

  test('reserved variables in JSON', () => {
    const output = transform(
      '{"instance" : <instance>, "ruleArn" : <aws.events.rule-arn>, "ruleName" : <aws.events.rule-name>, "originalEvent" : <aws.events.event.json>}',
    );
    expect(JSON.parse(output)).toEqual({
      instance: 'i-0123456789',
      ruleArn: 'arn:aws:events:us-east-2:123456789012:rule/example',
      ruleName: 'example',
      originalEvent: ec2Event,
    });
  });

  test('reserved variables in a string', () => {
    expect(transform('"<aws.events.rule-name> triggered"', {})).toBe('"example triggered"');
  });

  test('aws.events.event is the event without detail; ingestion time is ISO 8601 to the second', () => {
    const output = JSON.parse(
      transform('{"event": <aws.events.event>, "at": <aws.events.event.ingestion-time>}', {}),
    ) as { event: Record<string, unknown>; at: string };
    const { detail: _detail, ...envelope } = ec2Event;
    expect(output.event).toEqual(envelope);
    expect(output.at).toBe('2015-11-11T21:29:55Z');
  });
});

describe('InputTransformer values', () => {
  const order = {
    source: 'shop',
    detail: { sku: 'ABC-1', qty: 3, note: 'He said "ship it" \\ now', address: { city: 'Köln' }, tags: ['a'] },
  };
  const orderPaths = {
    sku: '$.detail.sku',
    qty: '$.detail.qty',
    note: '$.detail.note',
    address: '$.detail.address',
    tags: '$.detail.tags',
    missing: '$.detail.nothing',
  };

  test('plain-text template (SNS e-mail) gets raw values', () => {
    expect(transform('Stock of <sku> is down to <qty>', orderPaths, order)).toBe('Stock of ABC-1 is down to 3');
  });

  test('plain text keeps quotes and other characters around placeholders', () => {
    expect(transform('Order "<sku>" <missing>has <qty> < 5 items', orderPaths, order)).toBe(
      'Order "ABC-1" has 3 < 5 items',
    );
  });

  test('a value containing quotes inserted inside a quoted JSON string keeps the JSON valid', () => {
    const output = transform('{"message": "Note: <note>", "sku": "<sku>"}', orderPaths, order);
    expect(JSON.parse(output)).toEqual({ message: 'Note: He said "ship it" \\ now', sku: 'ABC-1' });
  });

  test('a value containing quotes inserted outside quotes is JSON-encoded', () => {
    expect(JSON.parse(transform('{"note": <note>}', orderPaths, order))).toEqual({ note: order.detail.note });
  });

  test('numbers, objects and arrays outside quotes are inserted as JSON', () => {
    expect(JSON.parse(transform('{"qty": <qty>, "address": <address>, "tags": <tags>}', orderPaths, order))).toEqual({
      qty: 3,
      address: { city: 'Köln' },
      tags: ['a'],
    });
  });

  test('an object inside quotes loses its internal quotes', () => {
    expect(JSON.parse(transform('{"text": "Address is <address>, qty <qty>"}', orderPaths, order))).toEqual({
      text: 'Address is {city:Köln}, qty 3',
    });
  });

  test('a path missing from the event leaves its placeholder empty, inside or outside quotes', () => {
    expect(JSON.parse(transform('{"b": "x<missing>y"}', orderPaths, order))).toEqual({ b: 'xy' });
    expect(transform('"Value: <missing>"', orderPaths, order)).toBe('"Value: "');
  });

  test('a JSON template whose output is not valid JSON is refused, as its target could not parse it', () => {
    expect(() => transform('{"a": <missing>, "b": 1}', orderPaths, order)).toThrow(
      'InputTemplate output is not valid JSON (a path missing from the event leaves its placeholder empty): {"a": , "b": 1}',
    );
  });

  test('a template that is a lone placeholder delivers the JSON value', () => {
    expect(JSON.parse(transform('<address>', orderPaths, order))).toEqual({ city: 'Köln' });
  });

  test('a placeholder naming no variable is rejected', () => {
    expect(() => transform('"Event of <unknown>"', orderPaths, order)).toThrow(
      'InputTemplate contains invalid placeholder unknown.',
    );
  });

  test('InputPathsMap cannot redefine a reserved variable', () => {
    expect(() => transform('<aws.events.rule-name>', { 'aws.events.rule-name': '$.source' }, order)).toThrow(
      'reserved variable aws.events.rule-name',
    );
  });

  test('without a rule context the rule variables are empty', () => {
    const output = shapeTargetInput(
      { InputTransformer: { InputTemplate: '{"rule": <aws.events.rule-name>}' } },
      order,
    );
    expect(JSON.parse(output)).toEqual({ rule: '' });
  });
});
