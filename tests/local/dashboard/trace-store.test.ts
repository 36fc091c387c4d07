/**
 * The trace store correlates hops by the configured keys, wherever a payload carries them
 * (nested objects, JSON text however escaped, bytes, DynamoDB attribute values), keeps each id's latest summary
 * from change records, and stays bounded.
 */
import { describe, expect, it } from '@jest/globals';
import { TraceStore } from '../../../local/dashboard/trace-store.js';
import type { TraceHop } from '../../../local/trace.js';

let seq = 0;
const hop = (payload: unknown, extra: Partial<TraceHop> = {}): TraceHop => ({
  seq: ++seq, time: 1000 + seq, service: 'test', hop: 'Hop', resource: 'resource', payload, ...extra,
});
const changeRecord = (orderId: string, status: string) => ({ dynamodb: { NewImage: { orderId: { S: orderId }, status: { S: status } }, OldImage: { orderId: { S: orderId }, status: { S: 'PENDING' } } } });

describe('TraceStore', () => {
  it('ties hops together by the correlation key found in objects, JSON text, bytes and attribute values', () => {
    // Prepare
    const store = new TraceStore({ correlationKeys: ['orderId'], summaryKeys: ['status'] });

    // Act
    store.add(hop({ request: Buffer.from('{"customerId":"c1"}'), answer: '{"orderId":"o-1","status":"PENDING"}' }));
    store.add(hop([changeRecord('o-1', 'RESERVED'), changeRecord('o-2', 'BACKORDERED')]));
    store.add(hop({ body: JSON.stringify({ detail: { orderId: 'o-2' } }) }, { error: 'States.TaskFailed: boom', service: 'states', hop: 'Execution' }));
    store.add(hop({ unrelated: true }));
    store.add(hop({ body: JSON.stringify({ Message: JSON.stringify({ orderId: 'o-3' }) }) }));
    store.add(hop(JSON.stringify({ Item: { orderId: { S: 'o-4' } } })));

    // Assess
    expect(store.trace('o-1')?.hops.map((entry) => entry.seq)).toHaveLength(2);
    expect(store.trace('o-1')?.order.summary).toEqual({ status: 'RESERVED' });
    expect(store.trace('o-2')?.order.failure).toEqual({ service: 'states', hop: 'Execution', resource: 'resource', error: 'States.TaskFailed: boom' });
    expect(store.list('backorder').map((entry) => entry.id)).toEqual(['o-2']);
    expect(store.list().map((entry) => entry.id).sort()).toEqual(['o-1', 'o-2', 'o-3', 'o-4']);
    expect(store.trace('o-1')?.hops[0]?.payload).toEqual({ request: { customerId: 'c1' }, answer: { orderId: 'o-1', status: 'PENDING' } });
  });

  it('keeps at most its capacity of hops and its limit of ids', () => {
    // Prepare
    const store = new TraceStore({ correlationKeys: ['id'], summaryKeys: [], capacity: 10, maxIds: 5 });

    // Act
    for (let index = 0; index < 50; index++) store.add(hop({ id: `id-${index}` }));

    // Assess: only the newest ten hops were indexed, and five ids kept.
    expect(store.list().map((entry) => entry.id)).toEqual(['id-49', 'id-48', 'id-47', 'id-46', 'id-45']);
    expect(store.trace('id-30')).toBeUndefined();
  });

  it("shows only the hops still in the ring, keeping an id's failure", () => {
    // Prepare
    const store = new TraceStore({ correlationKeys: ['id'], summaryKeys: [], capacity: 10 });

    // Act: a failing first hop, then more than the ring holds, indexed as they come.
    store.add(hop({ id: 'long' }, { error: 'Boom: first' }));
    store.list();
    for (let index = 0; index < 30; index++) {
      store.add(hop({ id: 'long' }));
      store.list();
    }

    // Assess
    const trace = store.trace('long');
    expect(trace?.hops).toHaveLength(10);
    expect(trace?.order.hops).toBe(31);
    expect(trace?.order.failure?.error).toBe('Boom: first');
  });
});
