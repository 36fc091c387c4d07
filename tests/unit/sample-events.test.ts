import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import type { DynamoDBRecord } from 'aws-lambda';
import { enrichChanges } from '../../functions/cdc-enrichment/handler.js';
import { CDC_DETAIL_TYPE, CDC_SOURCE } from '../../functions/shared/events.js';
import { matchesPattern } from '../../local/services/events/pattern.js';
import { readTemplate } from '../../local/template/parse.js';
import { loadEvent } from '../helpers/events.js';

const template = readTemplate(fileURLToPath(new URL('../../template.yaml', import.meta.url)));
const LOW_STOCK_THRESHOLD = 100; // the template's default, as in the sample events

/** The event patterns of the rules the change events drive, as template.yaml writes them. */
function rulePatterns(): Record<string, object> {
  const property = (logicalId: string, ...path: string[]): unknown =>
    path.reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], template.Resources[logicalId]?.Properties);
  const lowStock = property('LowStockRule', 'EventPattern', 'Fn::Sub') as string;
  return {
    OrderCreated: property('OrdersStateMachine', 'Events', 'OrderCreated', 'Properties', 'Pattern') as object,
    ReservedAndPaid: property('FulfillmentStateMachine', 'Events', 'ReservedAndPaid', 'Properties', 'Pattern') as object,
    CustomerBackorderedRule: property('CustomerBackorderedRule', 'EventPattern') as object,
    CustomerPaymentFailedRule: property('CustomerPaymentFailedRule', 'EventPattern') as object,
    CustomerOrderFailedRule: property('CustomerOrderFailedRule', 'EventPattern') as object,
    LowStockRule: JSON.parse(lowStock.replaceAll('${LowStockThreshold}', String(LOW_STOCK_THRESHOLD))) as object,
  };
}

/** Every `$.detail…` JSONPath an ASL definition reads from its input (dotted paths only). */
function inputPaths(aslFile: string): string[] {
  const paths: string[] = [];
  JSON.parse(readFileSync(new URL(`../../statemachine/${aslFile}`, import.meta.url), 'utf8'), (key, value: unknown) => {
    if (key.endsWith('.$') && typeof value === 'string' && value.startsWith('$.detail.')) paths.push(value);
    return value;
  });
  return paths;
}

function resolvePath(event: unknown, path: string): unknown {
  return path
    .slice(2)
    .split('.')
    .reduce<unknown>((node, field) => (node as Record<string, unknown> | undefined)?.[field], event);
}

describe('sample events and the template', () => {
  it.each([
    ['cdc-enrichment/order-inserted.json', ['OrderCreated']],
    ['cdc-enrichment/order-reserved.json', []],
    ['cdc-enrichment/order-paid.json', ['ReservedAndPaid']],
    ['cdc-enrichment/inventory-low-stock.json', ['LowStockRule']],
  ])('the change event of %s matches the rules %j', (recordsFile, expected) => {
    // Prepare
    const patterns = rulePatterns();
    const [detail] = enrichChanges(loadEvent<DynamoDBRecord[]>(recordsFile), { lowStockThreshold: LOW_STOCK_THRESHOLD });
    const event = { version: '0', id: 'e-1', 'detail-type': CDC_DETAIL_TYPE, source: CDC_SOURCE, account: '123456789012', time: '2026-11-27T10:00:00Z', region: 'us-east-1', resources: [], detail };

    // Act
    const matched = Object.keys(patterns).filter((rule) => matchesPattern(patterns[rule]!, event));

    // Assess
    expect(matched).toEqual(expected);
  });

  it.each([
    ['orders.asl.json', 'orders-state-machine/order-created.json', 'OrderCreated'],
    ['fulfillment.asl.json', 'fulfillment-state-machine/reserved-and-paid.json', 'ReservedAndPaid'],
  ])('%s finds every field it reads in %s, which its rule %s matches', (aslFile, eventFile, rule) => {
    // Prepare
    const event = loadEvent<object>(eventFile);
    const paths = inputPaths(aslFile);

    // Act
    const missing = paths.filter((path) => resolvePath(event, path) === undefined);

    // Assess
    expect(paths.length).toBeGreaterThan(0);
    expect(missing).toEqual([]);
    expect(matchesPattern(rulePatterns()[rule]!, event)).toBe(true);
  });
});
