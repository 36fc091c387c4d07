/**
 * EventBridge event patterns for the local runtime: validation with InvalidEventPatternException-style
 * messages, and a matcher that implements the documented content-filtering spec (exact values, prefix,
 * suffix, equals-ignore-case, wildcard, anything-but in all its forms, numeric, cidr, exists, `$or`,
 * null and empty-string matching, arrays in events).
 *
 * A pattern is compiled once into a tree of closures; matching an event walks that tree without
 * building intermediate values (no flattening, no per-event strings except for regex tests).
 *
 * Semantics follow the AWS EventBridge user guide ("Creating event patterns", "Comparison operators",
 * "Arrays", "Null values and empty strings"); where the guide is silent (exact limits, error wording,
 * anything-but on non-strings, CIDR ranges) they follow the behaviour of AWS's open-source matcher
 * (aws/event-ruler) that EventBridge documents as its engine.
 *
 * LIMITATIONS (differences from AWS):
 * - Wildcard "rule is too complex" rejection is not reproduced: AWS refuses some patterns with many
 *   wildcards (e.g. `*:*:*:*:*:event-bus/*`); they are accepted and matched correctly here.
 * - Events arrive parsed, so `300`, `300.0` and `3.0e2` are the same number; they compare equal
 *   (which is also what AWS does in practice, although the guide says numbers match by their text).
 * - Event numbers with more than six decimal places are rounded to six before numeric comparison.
 * - The dot-joined key quirk (a pattern key `"a.b"` also matching nested `{"a": {"b": …}}`) is not
 *   reproduced; keys match the event's own structure only.
 * - Exact string values that are IP literals are compared as strings, not as addresses.
 * - Within an event array of objects each element is matched on its own (AWS's array-consistent
 *   matching), and that includes `exists: false`: it holds when some element lacks the field.
 * - Case-insensitive operators use JavaScript's Unicode case folding, which may differ from AWS for
 *   a few non-ASCII characters.
 * - AWS limits on pattern size and on `$or` combinations are not enforced.
 */

/** Thrown for a pattern AWS would reject with `InvalidEventPatternException`. */
export class InvalidEventPatternError extends Error {
  override readonly name = 'InvalidEventPatternError';

  constructor(reason: string, path: readonly string[]) {
    const where = path.length > 0 ? ` (at "${path.join('.')}")` : '';
    super(`Event pattern is not valid. Reason: ${reason}${where}`);
  }
}

/** A compiled pattern: true when the event matches. */
export type EventMatcher = (event: unknown) => boolean;

type Scalar = string | number | boolean | null;
type ValueTest = (value: Scalar) => boolean;

/** A pattern field whose value is a list of match values (OR). */
interface LeafNode {
  test: ValueTest | undefined;
  existsTrue: boolean;
  existsFalse: boolean;
}

/** A pattern object: every field must match (AND) and each `$or` group needs one matching branch. */
interface ObjectNode {
  fields: FieldNode[];
  ors: ObjectNode[][];
  /** Whether the node matches where the event has no object here (precomputed: it never changes). */
  matchesAbsent: boolean;
}

type FieldNode =
  | { key: string; leaf: LeafNode; child?: undefined }
  | { key: string; leaf?: undefined; child: ObjectNode };

/** Numeric matching is limited to ±5e9 with six decimal places (the guide's documented range). */
const NUMERIC_LIMIT = 5_000_000_000;
const MAX_DECIMALS = 6;
const MICROS = 1_000_000;

const OPERATORS = new Set([
  'prefix',
  'suffix',
  'equals-ignore-case',
  'wildcard',
  'anything-but',
  'numeric',
  'cidr',
  'exists',
]);

const hasOwn = Object.prototype.hasOwnProperty;

/**
 * Throws {@link InvalidEventPatternError} unless `pattern` (an object, or its JSON text) is a valid
 * EventBridge event pattern.
 */
export function validatePattern(pattern: unknown): void {
  compileRoot(pattern);
}

/**
 * Compiles `pattern` (an object, or its JSON text) once into a matcher to run against many events.
 * Throws {@link InvalidEventPatternError} for an invalid pattern.
 */
export function compilePattern(pattern: unknown): EventMatcher {
  const root = compileRoot(pattern);
  return (event) => matchObject(root, event);
}

/**
 * Whether `event` matches `pattern`. Compiles the pattern on every call: use {@link compilePattern}
 * to match one pattern against many events.
 */
export function matchesPattern(pattern: object, event: object): boolean {
  return compilePattern(pattern)(event);
}

// ---------------------------------------------------------------------------------------------
// Compilation
// ---------------------------------------------------------------------------------------------

function fail(reason: string, path: readonly string[]): never {
  throw new InvalidEventPatternError(reason, path);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function compileRoot(pattern: unknown): ObjectNode {
  let parsed = pattern;
  if (typeof pattern === 'string') {
    try {
      parsed = JSON.parse(pattern);
    } catch (error) {
      fail((error as Error).message, []);
    }
  }
  if (!isRecord(parsed)) fail('Filter is not an object', []);
  return compileObject(parsed, [], false);
}

function compileObject(
  pattern: Record<string, unknown>,
  path: readonly string[],
  insideOr: boolean,
): ObjectNode {
  const keys = Object.keys(pattern);
  if (keys.length === 0) fail('Empty objects are not allowed', path);
  const fields: FieldNode[] = [];
  const ors: ObjectNode[][] = [];
  for (const key of keys) {
    const value = pattern[key];
    if (key === '$or') {
      ors.push(compileOr(value, path));
      continue;
    }
    // Inside $or an operator name as a field is almost certainly a misplaced match expression.
    if (insideOr && OPERATORS.has(key)) {
      fail(`${key} is Ruler reserved fieldName which cannot be used inside $or.`, path);
    }
    const fieldPath = [...path, key];
    if (Array.isArray(value)) fields.push({ key, leaf: compileLeaf(value, fieldPath) });
    else if (isRecord(value)) fields.push({ key, child: compileObject(value, fieldPath, insideOr) });
    else fail(`"${key}" must be an object or an array`, path);
  }
  const matchesAbsent =
    fields.every((field) => (field.leaf ? field.leaf.existsFalse : field.child.matchesAbsent)) &&
    ors.every((group) => group.some((branch) => branch.matchesAbsent));
  return { fields, ors, matchesAbsent };
}

function compileOr(value: unknown, path: readonly string[]): ObjectNode[] {
  if (!Array.isArray(value)) fail('It must be an Array followed with $or.', path);
  const branches = value.map((branch) => {
    if (!isRecord(branch)) fail('Only JSON object is allowed in array of $or relationship.', path);
    return compileObject(branch, path, true);
  });
  if (branches.length < 2) fail('There must have at least 2 Objects in $or relationship.', path);
  return branches;
}

function compileLeaf(values: unknown[], path: readonly string[]): LeafNode {
  if (values.length === 0) fail('Empty arrays are not allowed', path);
  const strings = new Set<string>();
  const numbers = new Set<number>();
  let matchTrue = false;
  let matchFalse = false;
  let matchNull = false;
  const tests: ValueTest[] = [];
  let existsTrue = false;
  let existsFalse = false;
  for (const value of values) {
    if (typeof value === 'string') strings.add(value);
    else if (typeof value === 'number') numbers.add(value);
    else if (value === true) matchTrue = true;
    else if (value === false) matchFalse = true;
    else if (value === null) matchNull = true;
    else if (isRecord(value)) {
      const compiled = compileExpression(value, path);
      if (compiled === true) existsTrue = true;
      else if (compiled === false) existsFalse = true;
      else tests.push(compiled);
    } else fail('Match value must be String, number, true, false, or null', path);
  }
  if (strings.size + numbers.size > 0 || matchTrue || matchFalse || matchNull) {
    // Exact values go through sets so long value lists cost one lookup per event value.
    tests.unshift((value) => {
      if (typeof value === 'string') return strings.has(value);
      if (typeof value === 'number') return numbers.has(value);
      if (value === null) return matchNull;
      return value ? matchTrue : matchFalse;
    });
  }
  return { test: anyOf(tests), existsTrue, existsFalse };
}

function anyOf(tests: ValueTest[]): ValueTest | undefined {
  if (tests.length <= 1) return tests[0];
  return (value) => {
    for (const test of tests) if (test(value)) return true;
    return false;
  };
}

/** Compiles one `{ "operator": argument }` object; `exists` yields its boolean instead of a test. */
function compileExpression(expression: Record<string, unknown>, path: readonly string[]): ValueTest | boolean {
  const [operator, ...extra] = Object.keys(expression);
  if (operator === undefined) fail('Match expression name not found', path);
  if (extra.length > 0) fail('Only one key allowed in match expression', path);
  const argument = expression[operator];
  switch (operator) {
    case 'prefix':
      return compileAffix('prefix', argument, path);
    case 'suffix':
      return compileAffix('suffix', argument, path);
    case 'equals-ignore-case': {
      if (typeof argument !== 'string') fail('equals-ignore-case match pattern must be a string', path);
      const regex = ignoreCaseRegex([argument], '^', '$');
      return (value) => typeof value === 'string' && regex.test(value);
    }
    case 'wildcard': {
      if (typeof argument !== 'string') fail('wildcard match pattern must be a string', path);
      const matches = compileWildcard(argument, path);
      return (value) => typeof value === 'string' && matches(value);
    }
    case 'anything-but':
      return compileAnythingBut(argument, path);
    case 'numeric':
      return compileNumeric(argument, path);
    case 'cidr': {
      if (typeof argument !== 'string') fail('cidr match pattern must be a string', path);
      return compileCidr(argument, path);
    }
    case 'exists':
      if (typeof argument !== 'boolean') fail('exists match pattern must be either true or false.', path);
      return argument;
    default:
      return fail(`Unrecognized match type ${operator}`, path);
  }
}

function compileAffix(kind: 'prefix' | 'suffix', argument: unknown, path: readonly string[]): ValueTest {
  if (typeof argument === 'string') {
    return kind === 'prefix'
      ? (value) => typeof value === 'string' && value.startsWith(argument)
      : (value) => typeof value === 'string' && value.endsWith(argument);
  }
  if (!isRecord(argument)) fail(`${kind} match pattern must be a string`, path);
  const [option, ...extra] = Object.keys(argument);
  if (option === undefined) fail(`${capitalize(kind)} expression name not found`, path);
  if (option !== 'equals-ignore-case') fail(`Unsupported ${kind} pattern: ${option}`, path);
  if (extra.length > 0) fail('Only one key allowed in match expression', path);
  const text = argument[option];
  if (typeof text !== 'string') fail('equals-ignore-case match pattern must be a string', path);
  const regex = kind === 'prefix' ? ignoreCaseRegex([text], '^', '') : ignoreCaseRegex([text], '', '$');
  return (value) => typeof value === 'string' && regex.test(value);
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** A case-insensitive regex matching any of `texts` literally, anchored as asked. */
function ignoreCaseRegex(texts: readonly string[], start: '^' | '', end: '$' | ''): RegExp {
  const alternatives = texts.map((text) => text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&'));
  return new RegExp(`${start}(?:${alternatives.join('|')})${end}`, 'iu');
}

function compileAnythingBut(argument: unknown, path: readonly string[]): ValueTest {
  if (isRecord(argument)) return compileAnythingButOperator(argument, path);
  if (typeof argument === 'string') return (value) => value !== argument;
  if (typeof argument === 'number') {
    const micros = toMicros(argument, path);
    return (value) => typeof value !== 'number' || eventMicros(value) !== micros;
  }
  if (!Array.isArray(argument)) {
    fail('Value of anything-but must be an array or single string/number value.', path);
  }
  const strings = new Set<string>();
  const micros = new Set<number>();
  for (const item of argument) {
    if (typeof item === 'string') strings.add(item);
    else if (typeof item === 'number') micros.add(toMicros(item, path));
    else fail('Inside anything but list, start|null|boolean is not supported.', path);
  }
  if ((strings.size > 0) === (micros.size > 0)) {
    fail('Inside anything but list, either all values are number or string, mixed type is not supported', path);
  }
  if (strings.size > 0) return (value) => typeof value !== 'string' || !strings.has(value);
  return (value) => {
    if (typeof value !== 'number') return true;
    const valueMicros = eventMicros(value);
    return valueMicros === undefined || !micros.has(valueMicros);
  };
}

/** `{"anything-but": {"prefix" | "suffix" | "equals-ignore-case" | "wildcard": text or [texts]}}`. */
function compileAnythingButOperator(argument: Record<string, unknown>, path: readonly string[]): ValueTest {
  const [operator, ...extra] = Object.keys(argument);
  if (operator === undefined) fail('Anything-But expression name not found', path);
  if (
    operator !== 'prefix' &&
    operator !== 'suffix' &&
    operator !== 'equals-ignore-case' &&
    operator !== 'wildcard'
  ) {
    fail(`Unsupported anything-but pattern: ${operator}`, path);
  }
  if (extra.length > 0) fail('Only one key allowed in match expression', path);
  const operand = argument[operator];
  if (typeof operand !== 'string' && typeof operand !== 'number' && !Array.isArray(operand)) {
    fail('Value of anything-but must be an array or single string/number value.', path);
  }
  const texts: string[] = [];
  for (const item of Array.isArray(operand) ? operand : [operand]) {
    if (typeof item !== 'string') {
      if (operator === 'equals-ignore-case') {
        fail('Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.', path);
      }
      if (operator === 'wildcard') fail('wildcard match pattern must be a string', path);
      fail('prefix/suffix match pattern must be a string', path);
    }
    if ((operator === 'prefix' || operator === 'suffix') && item === '') {
      fail('Null prefix/suffix not allowed', path);
    }
    texts.push(item);
  }
  // An empty list excludes nothing.
  if (texts.length === 0) return () => true;
  switch (operator) {
    case 'prefix':
      return (value) => typeof value !== 'string' || !texts.some((text) => value.startsWith(text));
    case 'suffix':
      return (value) => typeof value !== 'string' || !texts.some((text) => value.endsWith(text));
    case 'equals-ignore-case': {
      const regex = ignoreCaseRegex(texts, '^', '$');
      return (value) => typeof value !== 'string' || !regex.test(value);
    }
    case 'wildcard': {
      const matchers = texts.map((text) => compileWildcard(text, path));
      return (value) => typeof value !== 'string' || !matchers.some((matches) => matches(value));
    }
  }
}

/**
 * Compiles a wildcard pattern: `*` matches any run of characters, `\*` a literal `*`, `\\` a literal
 * backslash; `**` and other escapes are invalid. Positions in errors count like AWS's (which counts
 * the opening quote of the JSON string).
 */
function compileWildcard(pattern: string, path: readonly string[]): (value: string) => boolean {
  const segments: string[] = [];
  let current = '';
  for (let index = 0; index < pattern.length; index++) {
    const char = pattern[index];
    if (char === '*') {
      if (pattern[index + 1] === '*') fail(`Consecutive wildcard characters at pos ${index + 1}`, path);
      segments.push(current);
      current = '';
    } else if (char === '\\') {
      const next = pattern[index + 1];
      if (next !== '*' && next !== '\\') fail(`Invalid escape character at pos ${index + 1}`, path);
      current += next;
      index++;
    } else {
      current += char;
    }
  }
  segments.push(current);
  const first = segments[0] ?? '';
  if (segments.length === 1) return (value) => value === first;
  const last = segments[segments.length - 1] ?? '';
  const middle = segments.slice(1, -1);
  // Literal segments between stars can be matched greedily left to right: no backtracking needed.
  return (value) => {
    const end = value.length - last.length;
    if (end < first.length || !value.startsWith(first) || !value.endsWith(last)) return false;
    let position = first.length;
    for (const segment of middle) {
      const found = value.indexOf(segment, position);
      if (found < 0 || found + segment.length > end) return false;
      position = found + segment.length;
    }
    return true;
  };
}

function compileNumeric(argument: unknown, path: readonly string[]): ValueTest {
  if (!Array.isArray(argument)) fail('Value of numeric must be an array.', path);
  const [operator, operand, upperOperator, upperOperand] = argument;
  if (typeof operator !== 'string') fail(`Invalid member in numeric match: ${String(operator)}`, path);
  const numberAt = (op: string, value: unknown): number => {
    if (typeof value !== 'number') fail(`Value of ${op} must be numeric`, path);
    return toMicros(value, path);
  };
  const single = (): void => {
    if (argument.length > 2) fail('Too many elements in numeric expression', path);
  };
  let low = -NUMERIC_LIMIT * MICROS;
  let lowOpen = false;
  let high = NUMERIC_LIMIT * MICROS;
  let highOpen = false;
  switch (operator) {
    case '=': {
      const target = numberAt(operator, operand);
      single();
      return (value) => typeof value === 'number' && eventMicros(value) === target;
    }
    case '<':
    case '<=':
      high = numberAt(operator, operand);
      highOpen = operator === '<';
      single();
      break;
    case '>':
    case '>=':
      low = numberAt(operator, operand);
      lowOpen = operator === '>';
      if (argument.length > 2) {
        // A range is a lower bound followed by an upper bound, nothing else.
        if (typeof upperOperator !== 'string') {
          fail(`Bad value in numeric range: ${String(upperOperator)}`, path);
        }
        if (upperOperator !== '<' && upperOperator !== '<=') {
          fail(`Bad numeric range operator: ${upperOperator}`, path);
        }
        high = numberAt(upperOperator, upperOperand);
        highOpen = upperOperator === '<';
        if (argument.length > 4) fail('Too many terms in numeric range expression', path);
        if (low >= high) fail('Bottom must be less than top', path);
      }
      break;
    default:
      fail(`Unrecognized numeric range operator: ${operator}`, path);
  }
  return (value) => {
    if (typeof value !== 'number') return false;
    const micros = eventMicros(value);
    if (micros === undefined) return false;
    return (lowOpen ? micros > low : micros >= low) && (highOpen ? micros < high : micros <= high);
  };
}

/** A pattern number in millionths; rejects what AWS rejects (outside ±5e9, over six decimals). */
function toMicros(value: number, path: readonly string[]): number {
  if (decimalPlaces(value) > MAX_DECIMALS) fail('Only values upto 6 decimals are supported', path);
  if (Math.abs(value) > NUMERIC_LIMIT) {
    fail(`Value must be between -${NUMERIC_LIMIT} and ${NUMERIC_LIMIT}, inclusive`, path);
  }
  return Math.round(value * MICROS);
}

/** An event number in millionths, or undefined when it is outside the comparable range. */
function eventMicros(value: number): number | undefined {
  if (!(Math.abs(value) <= NUMERIC_LIMIT)) return undefined;
  return Math.round(value * MICROS);
}

function decimalPlaces(value: number): number {
  const match = /^-?\d+(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(value));
  if (match === null) return Infinity;
  return Math.max(0, (match[1]?.length ?? 0) - Number(match[2] ?? 0));
}

// ---------------------------------------------------------------------------------------------
// IP addresses
// ---------------------------------------------------------------------------------------------

/** Parse target reused by every CIDR test, so matching allocates nothing. */
const scratchAddress = new Uint16Array(8);

function compileCidr(cidr: string, path: readonly string[]): ValueTest {
  const parts = cidr.split('/');
  const [address, bits] = parts;
  if (parts.length !== 2 || address === undefined || bits === undefined) {
    fail("Malformed CIDR, one '/' required", path);
  }
  if (!/^[+-]?\d+$/.test(bits)) fail('Malformed CIDR, mask bits must be an integer', path);
  const maskBits = Number(bits);
  if (maskBits < 0) fail('Malformed CIDR, mask bits must not be negative', path);
  const family = parseIp(address, scratchAddress);
  if (family === 0) fail(`Nonstandard IP address: ${address}`, path);
  if (family === 4 && maskBits > 31) fail('IPv4 mask bits must be < 32', path);
  if (family === 6 && maskBits > 127) fail('IPv6 mask bits must be < 128', path);
  const groups = family === 4 ? 2 : 8;
  // AWS takes the range from the address as written up to all host bits set (host bits are not cleared).
  const bottom = scratchAddress.slice(0, groups);
  const top = bottom.slice();
  for (let group = 0; group < groups; group++) {
    const networkBits = Math.min(16, Math.max(0, maskBits - group * 16));
    top[group] = (top[group] ?? 0) | (0xffff >>> networkBits);
  }
  return (value) => {
    if (typeof value !== 'string' || parseIp(value, scratchAddress) !== family) return false;
    return compareGroups(scratchAddress, bottom, groups) >= 0 && compareGroups(scratchAddress, top, groups) <= 0;
  };
}

function compareGroups(left: Uint16Array, right: Uint16Array, groups: number): number {
  for (let group = 0; group < groups; group++) {
    const difference = (left[group] ?? 0) - (right[group] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

/**
 * Parses an IP literal into 16-bit groups (IPv4 uses the first two). Returns the family, or 0 when
 * `text` is not an IP address. IPv4-mapped IPv6 addresses count as IPv4, as Java's resolver has it.
 */
function parseIp(text: string, out: Uint16Array): 0 | 4 | 6 {
  if (parseIpv4(text, 0, out, 0)) return 4;
  if (!parseIpv6(text, out)) return 0;
  if (out[0] === 0 && out[1] === 0 && out[2] === 0 && out[3] === 0 && out[4] === 0 && out[5] === 0xffff) {
    out[0] = out[6] ?? 0;
    out[1] = out[7] ?? 0;
    return 4;
  }
  return 6;
}

/** Parses dotted-quad `text[start..]` into two groups at `out[at]`. */
function parseIpv4(text: string, start: number, out: Uint16Array, at: number): boolean {
  let octet = 0;
  let digits = 0;
  let octets = 0;
  let high = 0;
  for (let index = start; index <= text.length; index++) {
    const code = index < text.length ? text.charCodeAt(index) : 46; // end acts as a final '.'
    if (code >= 48 && code <= 57) {
      octet = octet * 10 + code - 48;
      if (++digits > 3 || octet > 255) return false;
    } else if (code === 46 && digits > 0) {
      if (octets % 2 === 0) high = octet;
      else out[at + (octets >> 1)] = (high << 8) | octet;
      octets++;
      octet = 0;
      digits = 0;
    } else {
      return false;
    }
  }
  return octets === 4;
}

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  if (code >= 65 && code <= 70) return code - 55;
  return -1;
}

function parseIpv6(text: string, out: Uint16Array): boolean {
  const length = text.length;
  let count = 0;
  let gap = -1;
  let index = 0;
  if (text.startsWith('::')) {
    gap = 0;
    index = 2;
  }
  while (index < length) {
    let value = 0;
    let end = index;
    for (let digit = hexValue(text.charCodeAt(end)); digit >= 0; digit = hexValue(text.charCodeAt(end))) {
      value = value * 16 + digit;
      end++;
    }
    if (end < length && text.charCodeAt(end) === 46) {
      // An embedded IPv4 address ends the literal and fills two groups.
      if (count > 6 || !parseIpv4(text, index, out, count)) return false;
      count += 2;
      break;
    }
    if (end === index || end - index > 4 || count === 8) return false;
    out[count++] = value;
    index = end;
    if (index === length) break;
    if (text.charCodeAt(index) !== 58) return false;
    index++;
    if (text.charCodeAt(index) === 58) {
      if (gap >= 0) return false;
      gap = count;
      index++;
    } else if (index === length) {
      return false;
    }
  }
  if (gap < 0) return count === 8;
  if (count > 7) return false;
  // Move the groups after '::' to the end and zero the gap.
  const tail = count - gap;
  out.copyWithin(8 - tail, gap, count);
  out.fill(0, gap, 8 - tail);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------------------------

function matchObject(node: ObjectNode, value: unknown): boolean {
  if (!isRecord(value)) return node.matchesAbsent;
  for (const field of node.fields) {
    const fieldValue = hasOwn.call(value, field.key) ? value[field.key] : undefined;
    if (field.leaf ? !matchLeaf(field.leaf, fieldValue) : !matchChild(field.child, fieldValue)) return false;
  }
  for (const group of node.ors) {
    let matched = false;
    for (const branch of group) {
      if (matchObject(branch, value)) {
        matched = true;
        break;
      }
    }
    if (!matched) return false;
  }
  return true;
}

/** A nested pattern object against an event value; arrays match when one element does. */
function matchChild(node: ObjectNode, value: unknown): boolean {
  if (!Array.isArray(value)) return matchObject(node, value);
  if (value.length === 0) return node.matchesAbsent;
  for (const element of value) if (matchChild(node, element)) return true;
  return false;
}

function matchLeaf(leaf: LeafNode, value: unknown): boolean {
  if (leaf.test !== undefined && anyScalar(leaf.test, value)) return true;
  if (leaf.existsTrue || leaf.existsFalse) return hasScalar(value) ? leaf.existsTrue : leaf.existsFalse;
  return false;
}

/** Whether `test` accepts the value, or any scalar inside it when it is an array. */
function anyScalar(test: ValueTest, value: unknown): boolean {
  if (Array.isArray(value)) {
    for (const element of value) if (anyScalar(test, element)) return true;
    return false;
  }
  if (value === undefined || (typeof value === 'object' && value !== null)) return false;
  return test(value as Scalar);
}

/** Whether the field is a leaf in the event: objects and empty arrays do not count. */
function hasScalar(value: unknown): boolean {
  if (Array.isArray(value)) {
    for (const element of value) if (hasScalar(element)) return true;
    return false;
  }
  return value !== undefined && (typeof value !== 'object' || value === null);
}
