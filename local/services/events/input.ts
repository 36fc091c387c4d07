/**
 * EventBridge rule target input shaping for the local runtime: turns a matched event into the body
 * EventBridge delivers to a target, following "Transforming target input" in the EventBridge guide.
 *
 * - No input settings: the whole event as JSON.
 * - `Input`: the constant JSON text, as given.
 * - `InputPath`: the JSON value at a JSONPath (`$`, `.name`, `['name']`, `[index]`).
 * - `InputTransformer`: each InputPathsMap path is resolved, then `<name>` placeholders in the
 *   InputTemplate are replaced. When the template is JSON (a string literal, object or array once its
 *   placeholders are filled), a value outside quotes is inserted as JSON (strings gain quotes, objects
 *   and arrays stay JSON) and a value inside quotes is inserted as string content; an object or array
 *   inside quotes loses its internal quotes, as the guide documents. Any other template is plain text
 *   (e.g. an SNS e-mail body) and gets the raw values.
 *
 * A path that is not in the event creates no variable, so its placeholder is replaced by nothing
 * ("Common Issues with Transforming Input": the variable "isn't created and won't appear in the
 * output"). A JSON template whose output is then not valid JSON (e.g. `{"a": <missing>}`) fails the
 * delivery: the target could not parse it, and the guide's JSON templates are JSON by contract.
 * Where the guide is silent this follows what AWS does: `<aws.events.event>` is the event without its `detail`, while
 * `<aws.events.event.json>` is the whole event; a placeholder that names no variable is an error.
 * One deliberate difference: the guide notes that EventBridge does not escape extracted values, so a
 * value containing `"` can break the JSON it is inserted into; here such values are escaped so the
 * body stays valid JSON.
 */

/** How a rule target shapes its input (the PutTargets / AWS::Events::Rule Target properties). */
export interface TargetInputSettings {
  Input?: string;
  InputPath?: string;
  InputTransformer?: { InputPathsMap?: Record<string, string>; InputTemplate: string };
}

/** The rule and delivery facts behind the reserved `<aws.events.…>` template variables. */
export interface TargetInputContext {
  ruleName?: string;
  ruleArn?: string;
  /** When EventBridge received the event; defaults to now. */
  ingestionTime?: Date;
}

export type PathSegment = string | number;

type TemplatePart = { text: string } | { variable: string; quoted: boolean };

const RULE_ARN = 'aws.events.rule-arn';
const RULE_NAME = 'aws.events.rule-name';
const EVENT = 'aws.events.event';
const EVENT_JSON = 'aws.events.event.json';
const INGESTION_TIME = 'aws.events.event.ingestion-time';
const RESERVED_VARIABLES = new Set([RULE_ARN, RULE_NAME, EVENT, EVENT_JSON, INGESTION_TIME]);

/** `<name>` where name is what InputPathsMap keys and the reserved variables are made of. */
const PLACEHOLDER = /<([A-Za-z0-9_.-]+)>/y;

/**
 * Returns the body EventBridge delivers to `target` for `event`. `context` supplies the rule name,
 * ARN and ingestion time for the reserved template variables. Throws for settings AWS would refuse
 * (more than one input option, an unknown placeholder, a reserved InputPathsMap key, a bad JSONPath).
 */
export function shapeTargetInput(
  target: TargetInputSettings,
  event: object,
  context: TargetInputContext = {},
): string {
  const { Input, InputPath, InputTransformer } = target;
  const options = [Input, InputPath, InputTransformer].filter((option) => option !== undefined);
  if (options.length > 1) throw new Error('Only one of Input, InputPath, or InputTransformer must be provided.');
  if (Input !== undefined) return Input;
  // An InputPath that finds nothing delivers JSON null rather than an empty (invalid JSON) body.
  if (InputPath !== undefined) return JSON.stringify(resolvePath(event, parseJsonPath(InputPath)) ?? null);
  if (InputTransformer === undefined) return JSON.stringify(event);
  return transform(InputTransformer.InputTemplate, InputTransformer.InputPathsMap ?? {}, event, context);
}

function transform(
  template: string,
  pathsMap: Record<string, string>,
  event: object,
  context: TargetInputContext,
): string {
  const values = new Map<string, unknown>();
  for (const [name, path] of Object.entries(pathsMap)) {
    if (RESERVED_VARIABLES.has(name)) throw new Error(`InputPathsMap cannot redefine the reserved variable ${name}.`);
    values.set(name, resolvePath(event, parseJsonPath(path)));
  }
  const parts = parseTemplate(template);
  for (const part of parts) {
    if ('variable' in part && !values.has(part.variable) && !RESERVED_VARIABLES.has(part.variable)) {
      throw new Error(`InputTemplate contains invalid placeholder ${part.variable}.`);
    }
  }
  const lookup = (name: string): unknown => (values.has(name) ? values.get(name) : reserved(name, event, context));
  const json = isJsonTemplate(parts);
  const output = parts
    .map((part) => ('text' in part ? part.text : render(lookup(part.variable), json, part.quoted)))
    .join('');
  if (json) assertJson(output);
  return output;
}

function assertJson(output: string): void {
  try {
    JSON.parse(output);
  } catch {
    const missing = output.length > 200 ? `${output.slice(0, 200)}…` : output;
    throw new Error(`InputTemplate output is not valid JSON (a path missing from the event leaves its placeholder empty): ${missing}`);
  }
}

function reserved(name: string, event: object, context: TargetInputContext): unknown {
  switch (name) {
    // Outside a rule (a pipe's template) the rule variables exist but are empty.
    case RULE_ARN:
      return context.ruleArn ?? '';
    case RULE_NAME:
      return context.ruleName ?? '';
    case INGESTION_TIME:
      // EventBridge times are ISO 8601 to the second, like the event's own `time`.
      return (context.ingestionTime ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    case EVENT: {
      const { detail: _detail, ...envelope } = event as Record<string, unknown>;
      return envelope;
    }
    default: // aws.events.event.json, the whole event
      return event;
  }
}

/** Splits a template into text and placeholders, noting which placeholders sit inside a JSON string. */
function parseTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let text = '';
  let quoted = false;
  for (let index = 0; index < template.length; index++) {
    const char = template[index];
    if (char === '<') {
      PLACEHOLDER.lastIndex = index;
      const match = PLACEHOLDER.exec(template);
      if (match?.[1] !== undefined) {
        if (text !== '') parts.push({ text });
        text = '';
        parts.push({ variable: match[1], quoted });
        index += match[0].length - 1;
        continue;
      }
    }
    if (quoted && char === '\\') {
      text += char + (template[index + 1] ?? '');
      index++;
      continue;
    }
    if (char === '"') quoted = !quoted;
    text += char;
  }
  if (text !== '') parts.push({ text });
  return parts;
}

/**
 * The placeholders of a JSON InputTemplate that stand outside a JSON string: an event that lacks
 * their path leaves them empty, and the output is not JSON.
 */
export function unquotedJsonPlaceholders(template: string): string[] {
  const parts = parseTemplate(template);
  if (!isJsonTemplate(parts)) return [];
  return parts.flatMap((part) => ('variable' in part && !part.quoted ? [part.variable] : []));
}

/** A template is JSON when it parses with its placeholders stood in for by neutral values. */
function isJsonTemplate(parts: readonly TemplatePart[]): boolean {
  const probe = parts.map((part) => ('text' in part ? part.text : part.quoted ? '' : 'null')).join('');
  try {
    JSON.parse(probe);
    return true;
  } catch {
    return false;
  }
}

function render(value: unknown, json: boolean, quoted: boolean): string {
  if (!json) {
    if (value === undefined) return '';
    return typeof value === 'string' ? value : JSON.stringify(value);
  }
  if (!quoted) return value === undefined ? '' : JSON.stringify(value);
  if (value === undefined) return '';
  if (typeof value === 'string') return escapeForJsonString(value);
  if (typeof value === 'object' && value !== null) {
    return escapeForJsonString(JSON.stringify(value).replaceAll('"', ''));
  }
  return JSON.stringify(value);
}

function escapeForJsonString(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

/** Parses the JSONPath subset EventBridge uses: `$`, `.name`, `['name']` / `["name"]`, `[index]`. */
export function parseJsonPath(path: string): PathSegment[] {
  const invalid = (): never => {
    throw new Error(`Invalid JSON path ${JSON.stringify(path)}`);
  };
  if (!path.startsWith('$')) invalid();
  const segments: PathSegment[] = [];
  let index = 1;
  while (index < path.length) {
    if (path[index] === '.') {
      let end = index + 1;
      while (end < path.length && path[end] !== '.' && path[end] !== '[') end++;
      if (end === index + 1) invalid();
      segments.push(path.slice(index + 1, end));
      index = end;
    } else if (path[index] === '[') {
      const quote = path[index + 1];
      if (quote === "'" || quote === '"') {
        let end = index + 2;
        let key = '';
        while (end < path.length && path[end] !== quote) {
          if (path[end] === '\\') end++;
          key += path[end] ?? '';
          end++;
        }
        if (path[end] !== quote || path[end + 1] !== ']') invalid();
        segments.push(key);
        index = end + 2;
      } else {
        const close = path.indexOf(']', index);
        const digits = close < 0 ? '' : path.slice(index + 1, close);
        if (!/^\d+$/.test(digits)) invalid();
        segments.push(Number(digits));
        index = close + 1;
      }
    } else {
      invalid();
    }
  }
  return segments;
}

/** The value at a JSONPath (the subset EventBridge and Pipes use) in `root`, or undefined. */
export function valueAtJsonPath(root: unknown, path: string): unknown {
  return resolvePath(root, parseJsonPath(path));
}

function resolvePath(root: unknown, segments: readonly PathSegment[]): unknown {
  let current = root;
  for (const segment of segments) {
    if (typeof segment === 'number') {
      if (!Array.isArray(current)) return undefined;
      current = current[segment];
    } else {
      if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
      if (!Object.prototype.hasOwnProperty.call(current, segment)) return undefined;
      current = (current as Record<string, unknown>)[segment];
    }
  }
  return current;
}
