/** Shared builders for the Step Functions provider tests. */
import { readFileSync } from 'node:fs';
import type { Json } from '../../../local/template/parse.js';
import type { ResolvedResource, RuntimeContext } from '../../../local/services/provider.js';
import { testRuntimeContext } from '../../helpers/runtime-context.js';

export const REGION = 'us-east-1';
export const ACCOUNT = '123456789012';

/** A runtime context whose clean-up steps the test runs with `stop()`; `logged` collects its log lines. */
export function testContext(): RuntimeContext & { stop(): Promise<void>; logged: string[] } {
  return testRuntimeContext({ region: REGION, accountId: ACCOUNT });
}

/** An `AWS::StepFunctions::StateMachine` as the SAM transform hands it over. */
export function stateMachineResource(
  logicalId: string,
  definition: string | Record<string, Json>,
  properties: Record<string, Json> = {},
): ResolvedResource {
  return {
    logicalId,
    type: 'AWS::StepFunctions::StateMachine',
    properties: {
      DefinitionString: typeof definition === 'string' ? definition : JSON.stringify(definition),
      StateMachineType: 'EXPRESS',
      ...properties,
    },
    metadata: {},
  };
}

/** The text of one of the project's ASL files. */
export function aslFile(name: 'orders' | 'fulfillment'): string {
  return readFileSync(new URL(`../../../statemachine/${name}.asl.json`, import.meta.url), 'utf8');
}

/** An order as the intake API writes it (plain JSON, as the CDC enrichment unmarshals it). */
export interface Order {
  customerId: string;
  orderId: string;
  quantity: number;
  sku?: string;
}

/** The table keys of an order. */
export function orderKey(order: Order): { pk: string; sk: string } {
  return { pk: `CUSTOMER#${order.customerId}`, sk: `ORDER#${order.orderId}` };
}

/** The EventBridge event the CDC pipe puts on the bus for a change to an order. */
export function cdcEvent(eventType: 'INSERT' | 'UPDATE', order: Order, changes: Record<string, Json> = {}): Record<string, Json> {
  const sku = order.sku ?? 'MACGUFFIN-LX';
  const { pk, sk } = orderKey(order);
  const newImage = {
    pk, sk, orderId: order.orderId, customerId: order.customerId, sku,
    product: sku.replace(/-.*$/, ''), model: sku.replace(/^[^-]*-/, ''),
    quantity: order.quantity, status: 'PENDING', createdAt: 1_700_000_000_000, ...changes,
  };
  return {
    version: '0', id: `event-${order.orderId}`, source: 'wims.cdc', 'detail-type': 'cdcEvent',
    account: ACCOUNT, region: REGION, time: '2026-01-01T00:00:00Z', resources: [],
    detail: { data: { eventType, pk, sk, NewImage: newImage } },
  };
}
