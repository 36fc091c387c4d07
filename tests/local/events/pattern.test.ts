/**
 * EventBridge event-pattern matcher, driven by the case corpus in pattern-cases.json (examples from
 * the EventBridge user guide plus positive and negative cases for every operator, and invalid
 * patterns with the reason AWS gives).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import {
  compilePattern,
  InvalidEventPatternError,
  matchesPattern,
  validatePattern,
} from '../../../local/services/events/pattern.js';

interface MatchCase {
  name: string;
  pattern: object | string;
  event: object;
  matches: boolean;
}

interface InvalidCase {
  name: string;
  pattern: unknown;
  invalid: true;
  /** A fragment of the expected reason. */
  error?: string;
}

type PatternCase = MatchCase | InvalidCase;

const corpus = JSON.parse(
  readFileSync(new URL('./pattern-cases.json', import.meta.url), 'utf8'),
) as PatternCase[];

describe('EventBridge event patterns (corpus)', () => {
  test.each(corpus.map((entry) => [entry.name, entry] as const))('%s', (_name, entry) => {
    if ('invalid' in entry) {
      expect(() => validatePattern(entry.pattern)).toThrow(InvalidEventPatternError);
      expect(() => compilePattern(entry.pattern)).toThrow(entry.error ?? 'Event pattern is not valid');
      return;
    }
    expect(() => validatePattern(entry.pattern)).not.toThrow();
    expect(compilePattern(entry.pattern)(entry.event)).toBe(entry.matches);
    if (typeof entry.pattern === 'object') expect(matchesPattern(entry.pattern, entry.event)).toBe(entry.matches);
  });
});

describe('EventBridge event patterns (API)', () => {
  test('the corpus covers every operator with a match, a non-match and an invalid form', () => {
    const operators = ['prefix', 'suffix', 'equals-ignore-case', 'wildcard', 'anything-but', 'numeric', 'cidr', 'exists', '$or'];
    for (const operator of operators) {
      const uses = corpus.filter((entry) => JSON.stringify(entry.pattern).includes(`"${operator}"`));
      expect([operator, uses.some((entry) => 'matches' in entry && entry.matches)]).toEqual([operator, true]);
      expect([operator, uses.some((entry) => 'matches' in entry && !entry.matches)]).toEqual([operator, true]);
      expect([operator, uses.some((entry) => 'invalid' in entry)]).toEqual([operator, true]);
    }
  });

  test('errors are InvalidEventPatternError naming the field and the reason', () => {
    let error: unknown;
    try {
      validatePattern({ detail: { state: [{ prefix: 5 }] } });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidEventPatternError);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('InvalidEventPatternError');
    expect((error as Error).message).toBe(
      'Event pattern is not valid. Reason: prefix match pattern must be a string (at "detail.state")',
    );
  });

  test('a compiled pattern is reusable across events', () => {
    const matches = compilePattern({ source: ['orders'], detail: { total: [{ numeric: ['>=', 100] }] } });
    expect(matches({ source: 'orders', detail: { total: 150 } })).toBe(true);
    expect(matches({ source: 'orders', detail: { total: 50 } })).toBe(false);
    expect(matches({ source: 'payments', detail: { total: 150 } })).toBe(false);
  });

  test('inherited object properties are not event fields', () => {
    expect(matchesPattern({ toString: [{ exists: true }] }, {})).toBe(false);
    expect(matchesPattern({ constructor: [{ exists: false }] }, {})).toBe(true);
  });
});
