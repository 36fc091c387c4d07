/**
 * Schedule expressions, as EventBridge scheduled rules and EventBridge Scheduler take them:
 * `rate(value unit)`, `cron(minutes hours day-of-month month day-of-week year)` (UTC) and, for
 * Scheduler only, `at(yyyy-mm-ddThh:mm:ss)`. An expression AWS refuses is refused here with the
 * reason; {@link nextFireTime} gives when it fires next.
 *
 * LIMITATIONS: the cron wildcards `L`, `W` and `#` are valid on AWS but refused locally (not
 * supported), and so is a time zone other than UTC (Scheduler's ScheduleExpressionTimezone).
 */

/** An expression AWS would refuse, or one the local runtime cannot run. */
export class ScheduleExpressionError extends Error {
  override name = 'ValidationException';
}

/** A parsed expression. */
export type ScheduleExpression =
  | { kind: 'rate'; everyMs: number }
  | { kind: 'cron'; fields: CronFields }
  | { kind: 'at'; time: Date };

/** The allowed values of each cron field; `days` is undefined for `?` in one of the two day fields. */
interface CronFields {
  minutes: Set<number>;
  hours: Set<number>;
  daysOfMonth: Set<number> | undefined;
  months: Set<number>;
  /** 1 (Sunday) to 7 (Saturday), as AWS numbers them. */
  daysOfWeek: Set<number> | undefined;
  years: Set<number>;
}

const MINUTE_MS = 60_000;
const UNIT_MS: Record<string, number> = { minute: MINUTE_MS, hour: 60 * MINUTE_MS, day: 24 * 60 * MINUTE_MS };
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
/** Cron years AWS accepts. */
const FIRST_YEAR = 1970;
const LAST_YEAR = 2199;

/** Parses `text`; `at(...)` only when `allowAt` (Scheduler). Throws a {@link ScheduleExpressionError}. */
export function parseScheduleExpression(text: string, options: { allowAt: boolean }): ScheduleExpression {
  const match = /^(rate|cron|at)\((.*)\)$/.exec(text.trim());
  if (match === null || (match[1] === 'at' && !options.allowAt)) {
    throw new ScheduleExpressionError(`Schedule expression ${JSON.stringify(text)} is not valid: use rate(value unit) or cron(fields)${options.allowAt ? ' or at(yyyy-mm-ddThh:mm:ss)' : ''}.`);
  }
  const [, kind, body = ''] = match;
  if (kind === 'rate') return { kind: 'rate', everyMs: parseRate(text, body) };
  if (kind === 'cron') return { kind: 'cron', fields: parseCron(text, body) };
  return { kind: 'at', time: parseAt(text, body) };
}

/**
 * Calls `fire` at each time the expression gives from now on, within [startDate, endDate];
 * returns the function that stops it. Times missed while the process was down are not made up.
 */
export function startTimer(
  expression: ScheduleExpression,
  since: Date,
  fire: (time: Date) => void,
  bounds: { startDate?: Date; endDate?: Date } = {},
): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const armNext = (): void => {
    if (stopped) return;
    const after = new Date(Math.max(Date.now(), (bounds.startDate?.getTime() ?? 0) - 1));
    const time = nextFireTime(expression, after, since);
    if (time === undefined || (bounds.endDate !== undefined && time > bounds.endDate)) return;
    // Timers take at most 2^31 − 1 ms; a later time is reached in steps.
    timer = setTimeout(() => {
      if (Date.now() >= time.getTime()) fire(time);
      armNext();
    }, Math.min(time.getTime() - Date.now(), 2 ** 31 - 1));
    timer.unref();
  };
  armNext();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/** The first time after `after` the expression fires, or undefined when it never fires again. */
export function nextFireTime(expression: ScheduleExpression, after: Date, since: Date): Date | undefined {
  switch (expression.kind) {
    case 'rate': {
      // A rate counts from when the rule or schedule was created.
      const periods = Math.floor((after.getTime() - since.getTime()) / expression.everyMs) + 1;
      return new Date(since.getTime() + periods * expression.everyMs);
    }
    case 'at':
      return expression.time.getTime() > after.getTime() ? expression.time : undefined;
    case 'cron':
      return nextCronTime(expression.fields, after);
  }
}

function parseRate(text: string, body: string): number {
  const match = /^(\d+) (minute|minutes|hour|hours|day|days)$/.exec(body.trim());
  const value = Number(match?.[1]);
  const unit = match?.[2] ?? '';
  if (match === null || value < 1 || (value === 1) !== !unit.endsWith('s')) {
    throw new ScheduleExpressionError(`Schedule expression ${JSON.stringify(text)} is not valid: rate(value unit) takes a positive whole value, a singular unit for 1 and a plural one otherwise (minute, hours, …).`);
  }
  return value * (UNIT_MS[unit.replace(/s$/, '')] ?? MINUTE_MS);
}

function parseAt(text: string, body: string): Date {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/.test(body)) {
    throw new ScheduleExpressionError(`Schedule expression ${JSON.stringify(text)} is not valid: at() takes yyyy-mm-ddThh:mm:ss.`);
  }
  const time = new Date(`${body}Z`);
  if (Number.isNaN(time.getTime())) throw new ScheduleExpressionError(`Schedule expression ${JSON.stringify(text)} is not valid: no such date.`);
  return time;
}

function parseCron(text: string, body: string): CronFields {
  const parts = body.trim().split(/\s+/);
  const invalid = (reason: string): never => {
    throw new ScheduleExpressionError(`Schedule expression ${JSON.stringify(text)} is not valid: ${reason}.`);
  };
  if (parts.length !== 6) invalid('cron() takes six fields: minutes hours day-of-month month day-of-week year');
  const [minutes, hours, daysOfMonth, months, daysOfWeek, years] = parts as [string, string, string, string, string, string];
  if (/[LW#]/i.test(`${daysOfMonth} ${daysOfWeek}`)) {
    throw new ScheduleExpressionError(`Schedule expression ${JSON.stringify(text)}: the L, W and # wildcards are not supported locally.`);
  }
  if ((daysOfMonth === '?') === (daysOfWeek === '?')) invalid('one of day-of-month and day-of-week must be ?, and only one');
  return {
    minutes: parseField(minutes, 0, 59, [], invalid, 'minutes'),
    hours: parseField(hours, 0, 23, [], invalid, 'hours'),
    daysOfMonth: daysOfMonth === '?' ? undefined : parseField(daysOfMonth, 1, 31, [], invalid, 'day-of-month'),
    months: parseField(months, 1, 12, MONTHS, invalid, 'month'),
    daysOfWeek: daysOfWeek === '?' ? undefined : parseField(daysOfWeek, 1, 7, WEEKDAYS, invalid, 'day-of-week'),
    years: parseField(years, FIRST_YEAR, LAST_YEAR, [], invalid, 'year'),
  };
}

/** One cron field: `*`, values, names, ranges `a-b`, lists `a,b` and increments `a/n`, `*\/n`, `a-b/n`. */
function parseField(
  field: string, min: number, max: number, names: readonly string[], invalid: (reason: string) => never, label: string,
): Set<number> {
  const value = (token: string): number => {
    const named = names.indexOf(token.toUpperCase());
    const number = named >= 0 ? named + 1 : /^\d+$/.test(token) ? Number(token) : NaN;
    if (!(number >= min && number <= max)) invalid(`${label} takes ${min}-${max}${names.length > 0 ? ` or ${names[0]}-${names[names.length - 1]}` : ''}, not ${token}`);
    return number;
  };
  const values = new Set<number>();
  for (const item of field.split(',')) {
    const [range = '', stepText] = item.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) invalid(`${label} has an invalid increment in ${item}`);
    const [from, to] = range === '*' ? [min, max] : range.includes('-')
      ? range.split('-').map(value) as [number, number]
      : [value(range), stepText === undefined ? value(range) : max];
    if (from > to) invalid(`${label} has a backwards range in ${item}`);
    for (let next = from; next <= to; next += step) values.add(next);
  }
  return values;
}

/** The first whole minute after `after` that every field allows (UTC). */
function nextCronTime(fields: CronFields, after: Date): Date | undefined {
  const start = new Date(Math.floor(after.getTime() / MINUTE_MS) * MINUTE_MS + MINUTE_MS);
  for (let day = Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate()); ; day += UNIT_MS.day!) {
    const date = new Date(day);
    const year = date.getUTCFullYear();
    if (year > LAST_YEAR) return undefined;
    if (!fields.years.has(year) || !fields.months.has(date.getUTCMonth() + 1)) continue;
    if (fields.daysOfMonth !== undefined && !fields.daysOfMonth.has(date.getUTCDate())) continue;
    if (fields.daysOfWeek !== undefined && !fields.daysOfWeek.has(date.getUTCDay() + 1)) continue;
    for (const hour of [...fields.hours].sort((a, b) => a - b)) {
      for (const minute of [...fields.minutes].sort((a, b) => a - b)) {
        const time = day + hour * UNIT_MS.hour! + minute * MINUTE_MS;
        if (time >= start.getTime()) return new Date(time);
      }
    }
  }
}
