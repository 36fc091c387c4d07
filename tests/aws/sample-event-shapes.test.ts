/**
 * Our sample events (events/) carry every field of the events SAM CLI generates for the same
 * sources (`sam local generate-event`), so a handler tried on them meets what AWS delivers.
 * Field names are compared, not values; maps of user data (headers, query strings, item
 * attributes, resource properties) are compared as present, not key by key, and a field that
 * ours sets to null (an absent query string, say) counts as present.
 */
import { expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { awsToolPath, describeWithAwsTools, PROJECT_ROOT } from '../helpers/aws-tools.js';
import { loadEvent } from '../helpers/events.js';

/** Fields whose members are the caller's data, not the event's shape. */
const USER_DATA = new Set([
  'headers', 'multiValueHeaders', 'queryStringParameters', 'multiValueQueryStringParameters', 'pathParameters',
  'stageVariables', 'Keys', 'NewImage', 'OldImage', 'ResourceProperties', 'OldResourceProperties', 'messageAttributes',
]);

function generateEvent(service: string, event: string): unknown {
  const result = spawnSync(awsToolPath('sam'), ['local', 'generate-event', service, event], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, SAM_CLI_TELEMETRY: '0' },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`sam local generate-event ${service} ${event} failed:\n${result.stderr}`);
  return JSON.parse(result.stdout);
}

/** The dotted paths of `generated` that `ours` lacks. */
function missingFields(generated: unknown, ours: unknown, path = ''): string[] {
  if (generated === null || typeof generated !== 'object' || Array.isArray(generated)) return [];
  if (ours === null) return [];
  if (typeof ours !== 'object' || Array.isArray(ours)) return [path || '(the event)'];
  return Object.entries(generated).flatMap(([field, value]) => {
    const fieldPath = path ? `${path}.${field}` : field;
    if (!(field in ours)) return [fieldPath];
    if (USER_DATA.has(field)) return [];
    return missingFields(value, (ours as Record<string, unknown>)[field], fieldPath);
  });
}

/** The records of an event: a Lambda batch's `Records`, or a Pipe's array as it is. */
function records(event: unknown): unknown[] {
  return Array.isArray(event) ? event : (event as { Records: unknown[] }).Records;
}

describeWithAwsTools('the sample events against sam local generate-event', ['sam'], () => {
  it.each([
    ['cdc-enrichment/order-inserted.json'],
    ['cdc-enrichment/order-reserved.json'],
    ['cdc-enrichment/order-paid.json'],
    ['cdc-enrichment/inventory-low-stock.json'],
  ])('%s carries every field of a DynamoDB stream record of its kind (dynamodb update)', (file) => {
    // Prepare: the generated INSERT, MODIFY and REMOVE records (an INSERT has no OldImage, a REMOVE no NewImage).
    const generated = records(generateEvent('dynamodb', 'update')) as Array<{ eventName: string }>;

    // Act
    const missing = (records(loadEvent(file)) as Array<{ eventName: string }>).flatMap((record) => {
      const sameKind = generated.filter((sample) => sample.eventName === record.eventName);
      expect(sameKind).not.toHaveLength(0);
      return sameKind.flatMap((sample) => missingFields(sample, record));
    });

    // Assess
    expect([...new Set(missing)]).toEqual([]);
  }, 30_000);

  it.each([
    ['payments-enrichment/payment-queued.json'],
    ['payment-failed/payments-dead-lettered.json'],
    ['payment-failed/malformed-message.json'],
  ])('%s carries every field of an SQS message (sqs receive-message)', (file) => {
    // Prepare
    const [generated] = records(generateEvent('sqs', 'receive-message'));

    // Act
    const missing = records(loadEvent(file)).flatMap((record) => missingFields(generated, record));

    // Assess
    expect([...new Set(missing)]).toEqual([]);
  }, 30_000);

  it.each([
    ['payment-webhook/payment-confirmed.json'],
    ['payment-webhook/bad-signature.json'],
    ['payments-provider/charge-requested.json'],
  ])('%s carries every field of an API Gateway proxy request (apigateway aws-proxy)', (file) => {
    // Act
    const missing = missingFields(generateEvent('apigateway', 'aws-proxy'), loadEvent(file));

    // Assess
    expect(missing).toEqual([]);
  }, 30_000);

  it.each([
    ['seed-inventory/create.json'],
    ['seed-inventory/update.json'],
    ['seed-inventory/delete.json'],
  ])('%s carries every field of a custom resource request (cloudformation create-request)', (file) => {
    // Act
    const missing = missingFields(generateEvent('cloudformation', 'create-request'), loadEvent(file));

    // Assess
    expect(missing).toEqual([]);
  }, 30_000);
});
