/**
 * Schedule expressions as EventBridge and Scheduler read them: a corpus of valid and invalid
 * expressions (the case says the verdict), when each valid one fires next (UTC), and the timer
 * that fires them.
 */
import { describe, expect, it } from '@jest/globals';
import { waitUntil } from '../../../local/net.js';
import { nextFireTime, parseScheduleExpression, startTimer } from '../../../local/services/scheduler/expression.js';

const AFTER = new Date('2026-12-04T13:07:30Z'); // a Friday

describe('schedule expressions', () => {
  it.each([
    ['rate(1 minute)', '2026-12-04T13:08:00Z'],
    ['rate(5 minutes)', '2026-12-04T13:10:00Z'],
    ['rate(1 hour)', '2026-12-04T14:00:00Z'],
    ['rate(2 days)', '2026-12-06T00:00:00Z'],
    ['cron(0 12 * * ? *)', '2026-12-05T12:00:00Z'],
    ['cron(0/15 * * * ? *)', '2026-12-04T13:15:00Z'],
    ['cron(10,20 13 * * ? *)', '2026-12-04T13:10:00Z'],
    ['cron(0 18 ? * MON-FRI *)', '2026-12-04T18:00:00Z'],
    ['cron(0 9 ? * 2 *)', '2026-12-07T09:00:00Z'],
    ['cron(0 8 1 * ? *)', '2027-01-01T08:00:00Z'],
    ['cron(30 6 ? JAN,FEB * 2027)', '2027-01-01T06:30:00Z'],
    ['cron(0 0 29 2 ? *)', '2028-02-29T00:00:00Z'],
  ])('%s fires next at %s', (text, expected) => {
    // Prepare: rates count from the start of the day.
    const since = new Date('2026-12-04T00:00:00Z');

    // Act
    const next = nextFireTime(parseScheduleExpression(text, { allowAt: false }), AFTER, since);

    // Assess
    expect(next?.toISOString().replace('.000Z', 'Z')).toBe(expected);
  });

  it('fires at() once, and never when its time has passed', () => {
    const at = parseScheduleExpression('at(2026-12-24T18:00:00)', { allowAt: true });
    expect(nextFireTime(at, AFTER, AFTER)?.toISOString()).toBe('2026-12-24T18:00:00.000Z');
    expect(nextFireTime(at, new Date('2026-12-25T00:00:00Z'), AFTER)).toBeUndefined();
  });

  it('never fires a cron whose years are over', () => {
    expect(nextFireTime(parseScheduleExpression('cron(0 0 1 1 ? 2020)', { allowAt: false }), AFTER, AFTER)).toBeUndefined();
  });

  it.each([
    ['a plural unit for 1', 'rate(1 minutes)', 'a singular unit for 1'],
    ['a singular unit for 5', 'rate(5 minute)', 'a singular unit for 1'],
    ['zero', 'rate(0 hours)', 'a positive whole value'],
    ['a fraction', 'rate(1.5 hours)', 'a positive whole value'],
    ['seconds', 'rate(30 seconds)', 'a positive whole value'],
    ['five fields', 'cron(0 12 * * ?)', 'six fields'],
    ['both day fields', 'cron(0 12 1 * MON *)', 'one of day-of-month and day-of-week must be ?'],
    ['neither day field a ?', 'cron(0 12 * * * *)', 'one of day-of-month and day-of-week must be ?'],
    ['minute 60', 'cron(60 12 * * ? *)', 'minutes takes 0-59'],
    ['month 13', 'cron(0 12 1 13 ? *)', 'month takes 1-12 or JAN-DEC'],
    ['a backwards range', 'cron(0 12 ? * FRI-MON *)', 'backwards range'],
    ['at() on a rule', 'at(2026-12-24T18:00:00)', 'use rate(value unit) or cron(fields).'],
    ['no expression', 'every day', 'is not valid'],
  ])('refuses %s', (_case, text, reason) => {
    expect(() => parseScheduleExpression(text, { allowAt: false })).toThrow(expect.objectContaining({ name: 'ValidationException', message: expect.stringContaining(reason) }));
  });

  it.each(['cron(0 12 L * ? *)', 'cron(0 12 ? * 6#3 *)', 'cron(0 12 15W * ? *)'])('says %s is valid on AWS but not supported locally', (text) => {
    expect(() => parseScheduleExpression(text, { allowAt: false })).toThrow('not supported locally');
  });
});

describe('the schedule timer', () => {
  /** An at() expression two to three seconds from now (at() has whole seconds). */
  const soon = () => {
    const time = new Date(Math.ceil(Date.now() / 1000) * 1000 + 2000);
    return { time, expression: parseScheduleExpression(`at(${time.toISOString().slice(0, 19)})`, { allowAt: true }) };
  };

  it('fires at the time, once', async () => {
    // Prepare
    const { time, expression } = soon();
    const fired: Date[] = [];

    // Act
    const stop = startTimer(expression, new Date(), (at) => fired.push(at));
    await waitUntil(() => fired.length > 0, { description: 'the timer', timeoutMs: 5000 });
    stop();

    // Assess
    expect(fired).toEqual([time]);
    expect(Date.now()).toBeGreaterThanOrEqual(time.getTime());
  }, 10_000);

  it('fires nothing once stopped, nor after its end date', async () => {
    // Prepare
    const stopped = soon();
    const ended = soon();
    const fired: string[] = [];

    // Act
    startTimer(stopped.expression, new Date(), () => fired.push('stopped'))();
    const stopEnded = startTimer(ended.expression, new Date(), () => fired.push('ended'), { endDate: new Date(ended.time.getTime() - 1) });
    const probe = soon();
    await new Promise<void>((resolve) => { startTimer(probe.expression, new Date(), () => resolve()); });
    stopEnded();

    // Assess: the probe fired at the same second as the other two would have.
    expect(fired).toEqual([]);
  }, 10_000);
});
