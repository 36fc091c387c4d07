/**
 * The OpenOrders index stays sparse on open orders: POST /orders writes its keys, and every ASL
 * write that moves an order to a terminal status removes them in the same write.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

const TERMINAL = ['READY_FOR_FULFILLMENT', 'BACKORDERED', 'FAILED'];
const dir = fileURLToPath(new URL('../../statemachine/', import.meta.url));

/** Every Update (optimized updateItem parameters or a TransactItems entry) of every ASL file, with the terminal status it sets. */
function terminalWrites(): Array<{ file: string; status: string; update: { UpdateExpression: string } }> {
  const writes: Array<{ file: string; status: string; update: { UpdateExpression: string } }> = [];
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.asl.json'))) {
    JSON.parse(readFileSync(`${dir}${file}`, 'utf8'), (_key, value: unknown) => {
      const update = value as { UpdateExpression?: string; ExpressionAttributeValues?: Record<string, { S?: string }> };
      if (typeof update?.UpdateExpression === 'string' && /#status = :\w+/.test(update.UpdateExpression)) {
        const placeholder = /#status = (:\w+)/.exec(update.UpdateExpression)![1]!;
        const status = update.ExpressionAttributeValues?.[placeholder]?.S;
        if (status !== undefined && TERMINAL.includes(status)) writes.push({ file, status, update: update as { UpdateExpression: string } });
      }
      return value;
    });
  }
  return writes;
}

describe('the OpenOrders index', () => {
  it('loses an order in every write that makes it terminal', () => {
    // Act
    const writes = terminalWrites();

    // Assess: the orders workflow (failed twice, backordered), fulfillment (ready), the reconciler (failed twice).
    expect(writes.map(({ file, status }) => `${file} ${status}`).sort()).toEqual([
      'fulfillment.asl.json READY_FOR_FULFILLMENT',
      'orders.asl.json BACKORDERED',
      'orders.asl.json FAILED',
      'orders.asl.json FAILED',
      'reconciler.asl.json FAILED',
      'reconciler.asl.json FAILED',
    ]);
    for (const { update } of writes) expect(update.UpdateExpression).toMatch(/ REMOVE openShard, openSince$/);
  });
});
