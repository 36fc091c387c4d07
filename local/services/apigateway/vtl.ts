/**
 * API Gateway (REST API) mapping templates: Velocity (VTL) rendered with velocityjs, plus the
 * variables API Gateway documents for data transformations — `$input`, `$util`, `$context`
 * (with the writable `$context.responseOverride`) and `$stageVariables` — and the Java
 * `String` methods templates call on strings (`replaceAll`, `endsWith`, …).
 *
 * Sources: "Variables for data transformations for API Gateway" (the mapping template
 * reference) and "Override your API's request and response parameters and status codes".
 *
 * LIMITATIONS (where this differs from API Gateway, or where API Gateway's behaviour is not
 * documented and a choice was made):
 * - Velocity semantics are velocityjs's: `#if` treats `""`, `0` and `false` as false (Velocity
 *   1.7 treats every non-null value but `false` as true); `==` is JavaScript loose equality
 *   (Velocity compares numbers numerically and otherwise `toString()`s, so `0 == ""` differs);
 *   `#set($x = $null)` assigns nothing-ness instead of leaving `$x` unchanged; a JSON `null`
 *   nested inside an object renders as `null` rather than as the reference's text.
 *   `#include`, `#parse`, `#evaluate` and `#define` are not provided. String literals keep
 *   their backslashes as in Velocity, except that velocityjs reads `\"` inside "…" and `\'`
 *   inside '…' as an escaped quote and `\$` inside "…" as a literal `$`. The line break after
 *   a directive is dropped.
 * - JSONPath (`$input.path`, `$input.json`) is a subset: `$`, `.name`, `['name']`, `["name"]`,
 *   `[n]` (negative from the end), `[*]` and `.*`; deep scan, filters, slices and unions throw.
 *   Undocumented choices: a path that selects nothing gives null from `$input.path` (so it
 *   renders as its own text) and `""` from `$input.json`; an empty body reads as no document;
 *   a body that is not JSON throws "Could not parse request body into json" (API Gateway
 *   answers 400 with that message).
 * - `$input.params(name)` answers `""` for a missing parameter (templates test `== ""`). Whether
 *   it finds a header under another case is not documented (API Gateway keeps the case an
 *   HTTP/1.1 client sent, and HTTP/2 clients send lowercase), so it matches the name exactly:
 *   a template must look through `$input.params().header` to read a header under any case.
 * - Java regular expressions are translated to JavaScript: `$` and `.` keep Java's line
 *   terminator rules, `\A` `\z` `\Z` `\Q…\E` and leading inline flags `(?ims)` are supported;
 *   possessive quantifiers, atomic groups, `\p{…}`, class intersections and mid-pattern flags
 *   throw. `\s` matches JavaScript's (Unicode) white space, Java's is ASCII only.
 * - Numbers render the JavaScript way (`1e+21`, not `1.0E21`); JSON integers beyond 2^53
 *   lose precision.
 * - Only `$context.responseOverride` is applied; a template that writes
 *   `$context.requestOverride.*` throws rather than being silently ignored.
 */
import { Compile, parse } from 'velocityjs';

/** What a mapping template sees of the request (or, for a response template, of the integration's answer). */
export interface MappingInput {
  /** The raw payload: the method request body, or the integration response body. */
  body: string;
  headers: Record<string, string>;
  queryStringParameters: Record<string, string>;
  pathParameters: Record<string, string>;
  stageVariables?: Record<string, string>;
  /** `$context`: requestId, requestTimeEpoch, stage, httpMethod, resourcePath, identity.sourceIp, … */
  context: Record<string, unknown>;
}

/** The rendered text and the overrides the template set. */
export interface MappingResult {
  output: string;
  responseOverride: { status?: number; headers: Record<string, string> };
}

/** A template API Gateway would refuse to render (it answers 4XX/5XX instead). */
export class MappingTemplateError extends Error {
  override name = 'MappingTemplateError';
}

type CompileConfig = NonNullable<ConstructorParameters<typeof Compile>[1]>;
type Asts = ConstructorParameters<typeof Compile>[0];
type MethodHandler = NonNullable<CompileConfig['customMethodHandlers']>[number];

// A runtime renders the same few templates for every request: parse each once.
const parsedTemplates = new Map<string, Asts>();

/** Renders `template` the way API Gateway renders a request or response mapping template. */
export function renderMappingTemplate(template: string, input: MappingInput): MappingResult {
  let asts = parsedTemplates.get(template);
  if (!asts) {
    try {
      asts = parse(formalizeReferencesBeforeHash(template));
    } catch (error) {
      throw new MappingTemplateError(`Invalid mapping template: ${(error as Error).message}`);
    }
    parsedTemplates.set(template, asts);
  }
  const responseOverride: MappingResult['responseOverride'] = { headers: {} };
  const requestOverride = { header: {}, path: {}, querystring: {} };
  const context = {
    ...structuredClone(input.context),
    responseOverride: responseOverrideVariable(responseOverride),
    requestOverride,
  };
  const variables = {
    input: inputVariable(input),
    util: UTIL,
    context,
    stageVariables: { ...input.stageVariables },
  };
  const output = new Compile(asts, { escape: false, customMethodHandlers: JAVA_METHODS }).render(variables, undefined, false);
  if (Object.values(requestOverride).some((overrides) => Object.keys(overrides).length > 0)) {
    throw new MappingTemplateError('$context.requestOverride is not supported by the local API Gateway');
  }
  return { output, responseOverride };
}

/**
 * velocityjs fails to lex a `#` right after a reference unless it starts a directive or a
 * comment (`$a#$b`, `"ORDER#$ts#$id"`), which Velocity reads as text. Such references are
 * rewritten to the formal `${…}` notation, whose closing brace ends the reference for velocityjs.
 * The scan follows Velocity's lexical structure just enough: comments and `#[[…]]#` are skipped,
 * single-quoted literals are not interpolated, double-quoted ones are.
 */
function formalizeReferencesBeforeHash(template: string): string {
  const insertions: Array<[at: number, text: string]> = [];
  const skipPast = (marker: string, from: number): number => {
    const end = template.indexOf(marker, from);
    return end < 0 ? template.length : end + marker.length;
  };
  const scanText = (from: number, to: number): void => {
    let at = from;
    while (at < to) {
      const char = template[at];
      if (char === '\\') at += 2;
      else if (char === '$') at = scanReference(at);
      else if (template.startsWith('##', at)) at = skipPast('\n', at);
      else if (template.startsWith('#*', at)) at = skipPast('*#', at + 2);
      else if (template.startsWith('#[[', at)) at = skipPast(']]#', at + 3);
      else {
        const directive = char === '#' ? /^#\{?[A-Za-z]\w*\}?[ ]*\(/.exec(template.slice(at)) : null;
        at = directive ? scanCode(at + directive[0].length - 1, ')') : at + 1;
      }
    }
  };
  // From an opening bracket to just past its partner.
  const scanCode = (open: number, close: string): number => {
    let at = open + 1;
    while (at < template.length && template[at] !== close) {
      const char = template[at]!;
      if (char === '(' || char === '[' || char === '{') at = scanCode(at, { '(': ')', '[': ']', '{': '}' }[char]);
      else if (char === "'") at = skipPast("'", at + 1);
      else if (char === '"') {
        const end = skipPast('"', at + 1);
        scanText(at + 1, end - 1);
        at = end;
      } else if (char === '$') at = scanReference(at);
      else at += 1;
    }
    return at + 1;
  };
  const scanReference = (start: number): number => {
    let at = start + (template[start + 1] === '!' ? 2 : 1);
    const formal = template[at] === '{';
    const name = /^[A-Za-z_][\w-]*/.exec(template.slice(formal ? at + 1 : at));
    if (!name) return at;
    const open = at;
    at += (formal ? 1 : 0) + name[0].length;
    for (;;) {
      if (template[at] === '(') at = scanCode(at, ')');
      else if (template[at] === '[') at = scanCode(at, ']');
      else if (template[at] === '.' && /^\.[A-Za-z_]/.test(template.slice(at, at + 2))) {
        at += 1 + /^[A-Za-z_][\w-]*/.exec(template.slice(at + 1))![0].length;
      } else break;
    }
    if (formal) return template[at] === '}' ? at + 1 : at;
    if (template[at] === '#' && !/^[A-Za-z{*#@[]/.test(template.slice(at + 1, at + 2))) {
      insertions.push([open, '{'], [at, '}']);
    }
    return at;
  };
  scanText(0, template.length);
  let rewritten = template;
  for (const [at, text] of insertions.sort((a, b) => b[0] - a[0])) rewritten = rewritten.slice(0, at) + text + rewritten.slice(at);
  return rewritten;
}

// ---------------------------------------------------------------------------------- $input

function inputVariable(input: MappingInput): Record<string, unknown> {
  let document: { value: unknown } | undefined;
  const select = (path: unknown): unknown => {
    document ??= { value: parseBody(input.body) };
    return selectJsonPath(document.value, String(path));
  };
  // In the order of the documented example's output.
  const allParams = {
    path: { ...input.pathParameters },
    header: { ...input.headers },
    querystring: { ...input.queryStringParameters },
  };
  return {
    body: input.body,
    json: (path: unknown) => {
      const value = select(path);
      return value === undefined ? '' : JSON.stringify(value);
    },
    path: select,
    params: (name?: unknown) => {
      if (name === undefined) return allParams;
      const key = String(name);
      const found = [input.pathParameters, input.queryStringParameters, input.headers].find((params) => Object.hasOwn(params, key));
      return found?.[key] ?? '';
    },
  };
}

function parseBody(body: string): unknown {
  if (body.trim() === '') return undefined;
  try {
    return JSON.parse(body);
  } catch (error) {
    throw new MappingTemplateError(`Could not parse request body into json: ${(error as Error).message}`);
  }
}

type PathStep = { kind: 'key'; key: string } | { kind: 'index'; index: number } | { kind: 'wildcard' };

/**
 * Evaluates the JSONPath subset described in LIMITATIONS. Like Jayway JsonPath, a path with a
 * wildcard is "indefinite" and always yields a list; a definite path yields the value or undefined.
 */
function selectJsonPath(document: unknown, path: string): unknown {
  const steps = parseJsonPath(path);
  let nodes: unknown[] = document === undefined ? [] : [document];
  for (const step of steps) nodes = nodes.flatMap((node) => applyStep(node, step));
  return steps.some((step) => step.kind === 'wildcard') ? nodes : nodes[0];
}

function applyStep(node: unknown, step: PathStep): unknown[] {
  if (step.kind === 'wildcard') {
    if (Array.isArray(node)) return node;
    return isObject(node) ? Object.values(node) : [];
  }
  if (step.kind === 'index') {
    if (!Array.isArray(node)) return [];
    const index = step.index < 0 ? node.length + step.index : step.index;
    return index >= 0 && index < node.length ? [node[index]] : [];
  }
  return isObject(node) && Object.hasOwn(node, step.key) ? [node[step.key]] : [];
}

function parseJsonPath(path: string): PathStep[] {
  const fail = (why: string): never => {
    throw new MappingTemplateError(`Unsupported JSONPath ${JSON.stringify(path)}: ${why}`);
  };
  if (!path.startsWith('$')) fail('it must start with $');
  const steps: PathStep[] = [];
  let at = 1;
  while (at < path.length) {
    if (path.startsWith('..', at)) fail('deep scan (..) is not supported');
    if (path[at] === '.') {
      const name = /^[^.[\]]+/.exec(path.slice(at + 1))?.[0] ?? fail(`expected a name at ${at + 1}`);
      steps.push(name === '*' ? { kind: 'wildcard' } : { kind: 'key', key: name });
      at += 1 + name.length;
      continue;
    }
    if (path[at] !== '[') fail(`unexpected ${JSON.stringify(path[at])} at ${at}`);
    const bracket = /^\[\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|(-?\d+)|(\*))\s*\]/.exec(path.slice(at));
    if (!bracket) fail(`only ['name'], [n] and [*] are supported at ${at}`);
    const [text, single, double, index] = bracket!;
    const quoted = single ?? double;
    if (quoted !== undefined) steps.push({ kind: 'key', key: quoted.replace(/\\(.)/g, '$1') });
    else if (index !== undefined) steps.push({ kind: 'index', index: Number(index) });
    else steps.push({ kind: 'wildcard' });
    at += text.length;
  }
  return steps;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------- $util

const UTIL = {
  escapeJavaScript: (value: unknown) => (value == null ? undefined : escapeJavaScript(javaToString(value))),
  parseJson: (text: unknown) => {
    try {
      return JSON.parse(String(text));
    } catch (error) {
      throw new MappingTemplateError(`$util.parseJson: ${(error as Error).message}`);
    }
  },
  urlEncode: (value: unknown) => urlEncode(javaToString(value)),
  urlDecode: (value: unknown) => {
    try {
      return decodeURIComponent(javaToString(value).replace(/\+/g, ' '));
    } catch (error) {
      throw new MappingTemplateError(`$util.urlDecode: ${(error as Error).message}`);
    }
  },
  base64Encode: (value: unknown) => Buffer.from(javaToString(value), 'utf8').toString('base64'),
  base64Decode: (value: unknown) => {
    const text = javaToString(value);
    // Java's decoder rejects what Node's would silently skip.
    if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
      throw new MappingTemplateError('$util.base64Decode: not a base64 string');
    }
    return Buffer.from(text, 'base64').toString('utf8');
  },
};

/**
 * Commons Lang's `StringEscapeUtils.escapeJavaScript`: `'` `"` `\` `/` get a backslash, \b \t \n
 * \f \r their escapes, other control characters and everything above U+007F a `\uXXXX`
 * (upper-case hex, one per UTF-16 unit). So `'` becomes `\'`, which JSON does not allow: the
 * documented idiom `.replaceAll("\\'", "'")` undoes it.
 */
function escapeJavaScript(text: string): string {
  let escaped = '';
  for (const char of text.split('')) {
    const code = char.charCodeAt(0);
    const named = JS_ESCAPES[char];
    if (named) escaped += named;
    else if (code < 0x20 || code > 0x7f) escaped += `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
    else escaped += char;
  }
  return escaped;
}

const JS_ESCAPES: Record<string, string> = {
  "'": "\\'", '"': '\\"', '\\': '\\\\', '/': '\\/', '\b': '\\b', '\t': '\\t', '\n': '\\n', '\f': '\\f', '\r': '\\r',
};

/** Java's `URLEncoder.encode(text, "UTF-8")`: space as `+`, only `A-Za-z0-9.-*_` left as they are. */
function urlEncode(text: string): string {
  return encodeURIComponent(text)
    .replace(/[!'()~]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+')
    .replace(/%2A/g, '*');
}

/** How Java's `toString()` shows template values (lists as `[a, b]`, maps as `{k=v}`, like velocityjs). */
function javaToString(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(javaToString).join(', ')}]`;
  if (isObject(value)) return `{${Object.entries(value).map(([k, v]) => `${k}=${javaToString(v)}`).join(', ')}}`;
  return String(value);
}

// ---------------------------------------------------------------------------------- $context.responseOverride

/**
 * The writable `$context.responseOverride`. "Overrides are final": API Gateway answers 5XX
 * when a template sets the same one twice, so that throws here.
 */
function responseOverrideVariable(result: MappingResult['responseOverride']): object {
  const once = (what: string, done: boolean): void => {
    if (done) throw new MappingTemplateError(`${what} was overridden twice (overrides are final)`);
  };
  const header = new Proxy<Record<string, unknown>>({}, {
    set(target, name, value) {
      if (typeof name !== 'string') return false;
      once(`$context.responseOverride.header.${name}`, Object.hasOwn(target, name));
      target[name] = value;
      result.headers[name] = javaToString(value);
      return true;
    },
  });
  return new Proxy<Record<string, unknown>>({ header }, {
    set(target, name, value) {
      if (name !== 'status') throw new MappingTemplateError(`$context.responseOverride.${String(name)} cannot be set`);
      once('$context.responseOverride.status', result.status !== undefined);
      const status = Number(javaToString(value));
      if (!Number.isInteger(status) || status < 100 || status > 599) {
        throw new MappingTemplateError(`$context.responseOverride.status: ${javaToString(value)} is not an HTTP status code`);
      }
      target.status = value;
      result.status = status;
      return true;
    },
  });
}

// ---------------------------------------------------------------------------------- Java methods

type JavaMethod<T> = (self: T, ...args: unknown[]) => unknown;

/** `java.lang.String` methods (the JavaScript ones of the same name often differ, e.g. `replaceAll`). */
const STRING_METHODS: Record<string, JavaMethod<string>> = {
  length: (s) => s.length,
  isEmpty: (s) => s.length === 0,
  contains: (s, part) => s.includes(javaToString(part)),
  startsWith: (s, prefix, offset) => s.startsWith(javaToString(prefix), Number(offset ?? 0)),
  endsWith: (s, suffix) => s.endsWith(javaToString(suffix)),
  equals: (s, other) => s === other,
  equalsIgnoreCase: (s, other) => typeof other === 'string' && s.toUpperCase() === other.toUpperCase(),
  indexOf: (s, part, from) => s.indexOf(javaToString(part), Number(from ?? 0)),
  lastIndexOf: (s, part, from) => s.lastIndexOf(javaToString(part), from === undefined ? Infinity : Number(from)),
  charAt: (s, index) => s.charAt(checkedIndex(s, index, s.length - 1)),
  substring: (s, begin, end) => {
    const to = checkedIndex(s, end ?? s.length, s.length);
    return s.substring(checkedIndex(s, begin, to), to);
  },
  concat: (s, other) => s + javaToString(other),
  toUpperCase: (s) => s.toUpperCase(),
  toLowerCase: (s) => s.toLowerCase(),
  // Java trims every character up to U+0020, not Unicode white space.
  trim: (s) => s.replace(/^[\x00-\x20]+|[\x00-\x20]+$/g, ''),
  toString: (s: string) => s,
  replace: (s, target, replacement) => s.replaceAll(javaToString(target), () => javaToString(replacement)),
  replaceAll: (s, regex, replacement) => javaReplace(s, javaToString(regex), javaToString(replacement), true),
  replaceFirst: (s, regex, replacement) => javaReplace(s, javaToString(regex), javaToString(replacement), false),
  matches: (s, regex) => {
    const { source, flags } = translateJavaRegex(javaToString(regex));
    return new RegExp(`^(?:${source})$`, flags).test(s);
  },
  split: (s, regex, limit) => javaSplit(s, javaToString(regex), Number(limit ?? 0)),
};

/** `java.util.Map`/`List` methods velocityjs does not provide itself (it has size, get, keySet, entrySet…). */
const COLLECTION_METHODS: Record<string, JavaMethod<unknown[] | Record<string, unknown>>> = {
  isEmpty: (c) => (Array.isArray(c) ? c.length : Object.keys(c).length) === 0,
  containsKey: (c, key) => !Array.isArray(c) && Object.hasOwn(c, javaToString(key)),
  contains: (c, item) => Array.isArray(c) && c.includes(item),
  toString: javaToString,
};

function checkedIndex(s: string, index: unknown, max: number): number {
  const value = Number(index);
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new MappingTemplateError(`String index out of range: ${javaToString(index)} (length ${s.length})`);
  }
  return value;
}

const JAVA_METHODS: MethodHandler[] = [
  {
    uid: 'java.lang.String',
    // Every method on a string: one Java lacks renders the reference as text, as in Velocity.
    match: ({ context }) => typeof context === 'string',
    resolve: ({ context, property, params }) => STRING_METHODS[property]?.(context as string, ...params),
  },
  {
    uid: 'java.util collections',
    match: ({ context, property }) => (Array.isArray(context) || isObject(context)) && Object.hasOwn(COLLECTION_METHODS, property),
    resolve: ({ context, property, params }) => COLLECTION_METHODS[property]?.(context as unknown[], ...params),
  },
];

// ---------------------------------------------------------------------------------- Java regex

const LINE_TERMINATORS = '\\n\\r\\u0085\\u2028\\u2029';
const JAVA_END_OF_INPUT = `(?=(?:\\r\\n|[${LINE_TERMINATORS}])?$)`;

/**
 * Translates a `java.util.regex.Pattern` to a JavaScript RegExp source and flags (see
 * LIMITATIONS for what is supported).
 */
function translateJavaRegex(pattern: string): { source: string; flags: string } {
  const fail = (why: string): never => {
    throw new MappingTemplateError(`Unsupported Java regex ${JSON.stringify(pattern)}: ${why}`);
  };
  let flags = '';
  let at = 0;
  const leading = /^\(\?([ims]+)\)/.exec(pattern);
  if (leading) {
    flags = leading[1]!;
    at = leading[0].length;
  }
  const multiline = flags.includes('m');
  const dotAll = flags.includes('s');
  let source = '';
  let inClass = false;
  let afterQuantifier = false;
  while (at < pattern.length) {
    const char = pattern[at]!;
    const next = pattern[at + 1];
    let quantifier = false;
    if (char === '\\') {
      if (next === undefined) fail('trailing backslash');
      if (next === 'Q') {
        const end = pattern.indexOf('\\E', at + 2);
        const literal = pattern.slice(at + 2, end < 0 ? undefined : end);
        source += literal.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
        at = end < 0 ? pattern.length : end + 2;
        continue;
      }
      if ('pPhHRXGE'.includes(next!)) fail(`\\${next} is not supported`);
      if (!inClass && next === 'A') source += '^';
      else if (!inClass && next === 'z') source += '$';
      else if (!inClass && next === 'Z') source += JAVA_END_OF_INPUT;
      else source += char + next;
      at += 2;
      afterQuantifier = false;
      continue;
    }
    if (inClass) {
      if (char === '[' || (char === '&' && next === '&')) fail('nested classes and intersections are not supported');
      if (char === ']') inClass = false;
      source += char;
    } else if (char === '[') {
      inClass = true;
      source += char;
    } else if (char === '(' && next === '?') {
      const construct = pattern.slice(at, at + 4);
      if (!/^\(\?(?::|=|!|<=|<!|<[A-Za-z])/.test(construct)) fail(`group construct ${construct} is not supported`);
      source += char;
    } else if (char === '+' && afterQuantifier) {
      fail('possessive quantifiers are not supported');
    } else if (char === '$') {
      source += multiline ? '$' : JAVA_END_OF_INPUT;
    } else if (char === '.') {
      source += dotAll ? '.' : `[^${LINE_TERMINATORS}]`;
    } else {
      quantifier = char === '*' || char === '+' || char === '?' || char === '}';
      // `??`, `*?`… are lazy quantifiers; a `+` after them is no possessive.
      if (char === '?' && afterQuantifier) quantifier = false;
      source += char;
    }
    afterQuantifier = quantifier;
    at += 1;
  }
  return { source, flags };
}

/** `String.replaceAll`/`replaceFirst`: a Java replacement takes `$n`, `${name}` and `\`-escapes. */
function javaReplace(text: string, regex: string, replacement: string, all: boolean): string {
  const { source, flags } = translateJavaRegex(regex);
  const pattern = new RegExp(source, `${flags}g`);
  const groupCount = new RegExp(`${source}|`, flags).exec('')!.length - 1;
  let result = '';
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    result += text.slice(last, match.index) + expandReplacement(replacement, match, groupCount);
    last = match.index + match[0].length;
    if (!all) break;
  }
  return result + text.slice(last);
}

function expandReplacement(replacement: string, match: RegExpExecArray | RegExpMatchArray, groupCount: number): string {
  let out = '';
  for (let at = 0; at < replacement.length; at++) {
    const char = replacement[at]!;
    if (char === '\\') {
      at += 1;
      if (at >= replacement.length) throw new MappingTemplateError('character to be escaped is missing');
      out += replacement[at];
    } else if (char === '$') {
      if (replacement[at + 1] === '{') {
        const end = replacement.indexOf('}', at);
        const name = replacement.slice(at + 2, end);
        if (end < 0 || !match.groups || !Object.hasOwn(match.groups, name)) {
          throw new MappingTemplateError(`No group with name {${name}}`);
        }
        out += match.groups[name] ?? '';
        at = end;
        continue;
      }
      // Java reads as many digits as still name an existing group.
      let digits = /^\d/.exec(replacement.slice(at + 1))?.[0];
      if (digits === undefined) throw new MappingTemplateError('Illegal group reference');
      if (Number(digits) > groupCount) throw new MappingTemplateError(`No group ${digits}`);
      while (/\d/.test(replacement[at + 1 + digits.length] ?? '') && Number(digits + replacement[at + 1 + digits.length]) <= groupCount) {
        digits += replacement[at + 1 + digits.length];
      }
      out += match[Number(digits)] ?? '';
      at += digits.length;
    } else {
      out += char;
    }
  }
  return out;
}

/** `String.split(regex, limit)`: no leading empty piece for a zero-width match at 0; limit 0 drops trailing empties. */
function javaSplit(text: string, regex: string, limit: number): string[] {
  const { source, flags } = translateJavaRegex(regex);
  const parts: string[] = [];
  let last = 0;
  for (const match of text.matchAll(new RegExp(source, `${flags}g`))) {
    if (limit > 0 && parts.length === limit - 1) break;
    const end = match.index + match[0].length;
    if (last === 0 && match.index === 0 && end === 0) continue;
    parts.push(text.slice(last, match.index));
    last = end;
  }
  if (parts.length === 0) return [text];
  parts.push(text.slice(last));
  if (limit === 0) while (parts.length > 0 && parts.at(-1) === '') parts.pop();
  return parts;
}
