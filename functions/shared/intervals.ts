/**
 * ISO 8601 time intervals, as configuration spells them: a comma-separated list of
 * `start/end`, `start/duration` or `start/..` (ISO 8601-2's open end: until forever; a bare
 * `start/` reads the same). Instants must carry their offset (`Z` or `±hh:mm`), so a list means
 * the same instants on Lambda (UTC) and on a laptop in any time zone. Durations are days, hours,
 * minutes and seconds (`PT60S`, `PT1M30S`, `P1DT12H`): years and months have no fixed length.
 * The forms `duration/end` and repeating intervals are not accepted.
 */
import { InvalidInputError } from './errors.js';

/** A half-open interval [start, end) in epoch milliseconds; `end` is Infinity when open. */
export interface TimeInterval {
  start: number;
  end: number;
}

const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})$/;
const DURATION = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;
const OPEN_ENDS = new Set(['..', '']);

/** Days in `month` (1-12) of `year`, Gregorian. */
function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * An instant such as `2026-11-27T10:00:00Z` or `2026-11-27T11:00+01:00`, in epoch milliseconds
 * (fractions below a millisecond are dropped).
 *
 * @throws InvalidInputError when it is not one, or names a day or time that does not exist.
 */
export function parseInstant(text: string): number {
  const match = INSTANT.exec(text);
  if (match === null) throw new InvalidInputError(`"${text}" is not an ISO 8601 date-time with an offset, such as 2026-11-27T10:00:00Z`);
  const [, year, month, day, hour, minute, second = '0', fraction = '', offset = 'Z'] = match;
  const [y, mo, d, h, mi, s] = [year, month, day, hour, minute, second].map(Number) as [number, number, number, number, number, number];
  const offsetMinutes = offset === 'Z' ? 0 : (offset.startsWith('-') ? -1 : 1) * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6)));
  if (mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 || s > 59 || Math.abs(offsetMinutes) > 18 * 60) {
    throw new InvalidInputError(`"${text}" names a date or time that does not exist`);
  }
  const milliseconds = Number(fraction.padEnd(3, '0').slice(0, 3));
  return Date.UTC(y, mo - 1, d, h, mi, s, milliseconds) - offsetMinutes * 60_000;
}

/**
 * A duration such as `PT60S`, `PT1M30S`, `PT0.5S` or `P1DT12H`, in milliseconds.
 *
 * @throws InvalidInputError when it is not one, uses years or months, or is zero.
 */
export function parseDuration(text: string): number {
  const match = DURATION.exec(text);
  if (match === null || text === 'P' || text.endsWith('T')) {
    const hint = /^P[^T]*[YM]/.test(text) ? ' (years and months have no fixed length: use days)' : '';
    throw new InvalidInputError(`"${text}" is not an ISO 8601 duration of days, hours, minutes and seconds, such as PT60S${hint}`);
  }
  const [, days = '0', hours = '0', minutes = '0', seconds = '0'] = match;
  const milliseconds = Math.round(((Number(days) * 24 + Number(hours)) * 60 + Number(minutes)) * 60_000 + Number(seconds) * 1000);
  if (milliseconds <= 0) throw new InvalidInputError(`"${text}" is an empty duration`);
  return milliseconds;
}

/**
 * A comma-separated list of intervals (see the module header); blank text is an empty list.
 *
 * @throws InvalidInputError naming the first interval that is malformed, or ends before it starts.
 */
export function parseIntervals(text: string): TimeInterval[] {
  if (text.trim() === '') return [];
  return text.split(',').map((item, index) => {
    const interval = item.trim();
    const where = `interval ${index + 1} ("${interval}")`;
    const parts = interval.split('/');
    if (parts.length !== 2) throw new InvalidInputError(`${where} must be start/end, start/duration or start/.. (open end)`);
    const [startText, endText] = parts as [string, string];
    try {
      const start = parseInstant(startText);
      if (OPEN_ENDS.has(endText)) return { start, end: Infinity };
      const end = endText.startsWith('P') ? start + parseDuration(endText) : parseInstant(endText);
      if (end <= start) throw new InvalidInputError('it ends before it starts');
      return { start, end };
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
      throw new InvalidInputError(`${where}: ${error.message}`);
    }
  });
}

/** Whether `time` (epoch ms) falls in one of `intervals`. */
export function inIntervals(intervals: readonly TimeInterval[], time: number): boolean {
  return intervals.some(({ start, end }) => time >= start && time < end);
}
