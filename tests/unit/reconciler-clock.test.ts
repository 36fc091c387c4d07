import { describe, expect, it } from '@jest/globals';
import { readClock, type ClockRequest } from '../../functions/reconciler-clock/handler.js';
import { loadEvent } from '../helpers/events.js';

describe('reconciler-clock', () => {
  it('gives now and now minus the deadline in epoch milliseconds, as DynamoDB number strings', () => {
    // Prepare
    const request = loadEvent<ClockRequest>('reconciler-clock/read-clock.json');

    // Act
    const reading = readClock(request, () => 1_796_358_252_023);

    // Assess
    expect(reading).toEqual({ nowMs: '1796358252023', cutoffMs: '1796357652023' });
  });

  it.each([[{}], [{ deadlineSeconds: -1 }], [{ deadlineSeconds: '600' }]])('refuses %j', (request) => {
    // Act / Assess
    expect(() => readClock(request as unknown as ClockRequest)).toThrow(expect.objectContaining({ name: 'InvalidInputError' }));
  });
});
