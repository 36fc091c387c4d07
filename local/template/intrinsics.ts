/**
 * Resolution of CloudFormation intrinsic functions (`Ref`, `Fn::GetAtt`, `Fn::Sub`, `Fn::Join`,
 * `Fn::Select`, `Fn::Split`, `Fn::If` and the condition functions, `Fn::FindInMap`,
 * `Fn::Base64`, `Fn::ToJsonString`, `Fn::Length`, `Fn::GetAZs`), evaluation of the Conditions
 * section, the pre-pass that settles `Fn::If` / `AWS::NoValue` once conditions are known, and
 * the reference scan the loader builds its dependency graph from.
 *
 * Error messages start with the path of the offending value, e.g.
 * `Resources.OrdersApi.Properties.Body.paths./orders.post: Fn::Foo is not supported`.
 *
 * LIMITATIONS: `Fn::ImportValue`, `Fn::Cidr`, `Fn::Transform` (AWS::Include) and
 * `Fn::ForEach` are rejected. `Fn::GetAZs` returns three made-up zones (`<region>a`..`c`).
 * `Fn::ToJsonString`, `Fn::Length` and the `DefaultValue` of `Fn::FindInMap` are accepted
 * without the `AWS::LanguageExtensions` transform, and `Fn::Equals`/`Fn::And`/... are accepted
 * anywhere, not only in Conditions and `Fn::If`. Scalars are compared by `Fn::Equals` as
 * strings (`3` equals `"3"`), as CloudFormation sees parameter values.
 */
import { createHash } from 'node:crypto';
import { TemplateError, type Json, type Template } from './parse.js';

/** A JSON object (not an array, not null). */
export type JsonObject = { [key: string]: Json };

/** Where `Ref`/`Fn::GetAtt` to resources are answered (by the deployed resources, at run time). */
export interface ResourceLookup {
  /** Whether `logicalId` is a resource of the template. */
  has(logicalId: string): boolean;
  /** The value of `Ref logicalId`; `path` locates the reference for error messages. */
  ref(logicalId: string, path: string): Json;
  /** The value of `Fn::GetAtt [logicalId, attribute]`. */
  getAtt(logicalId: string, attribute: string, path: string): Json;
}

/** Everything an intrinsic function may read. */
export interface IntrinsicScope {
  /** `Ref` values of parameters and pseudo parameters (lists for list parameters). */
  refs: Readonly<Record<string, Json>>;
  mappings?: Template['Mappings'];
  /** The value of a named condition; throws a TemplateError for an unknown name. */
  condition(name: string, path: string): boolean;
  /** Absent where resources cannot be referenced (Conditions, transform-time values). */
  resources?: ResourceLookup;
}

/** A name an intrinsic refers to: a parameter, pseudo parameter or resource. */
export interface Reference {
  name: string;
  /** Set for `Fn::GetAtt` and `${Name.Attribute}` in `Fn::Sub`. */
  attribute?: string;
  via: 'Ref' | 'Fn::GetAtt' | 'Fn::Sub';
  path: string;
}

/** One piece of an `Fn::Sub` string: literal text, or a `${Name}` / `${Name.Attribute}` variable. */
export type SubPart = { literal: string } | { variable: string };

const NO_VALUE_NAME = 'AWS::NoValue';
const NO_VALUE = Symbol(NO_VALUE_NAME);
type Value = Json | typeof NO_VALUE;

const UNSUPPORTED_REASONS: Record<string, string> = {
  'Fn::ImportValue': 'there are no other stacks to import from locally',
  'Fn::Transform': 'macros (AWS::Include) are not run locally',
  'Fn::Cidr': 'there is no VPC locally',
};

/** Whether `value` is a JSON object. */
export function isJsonObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The intrinsic function name if `value` is an intrinsic call (`{ "Ref": … }`, `{ "Fn::X": … }`). */
export function intrinsicName(value: Json | undefined): string | undefined {
  if (!isJsonObject(value)) return undefined;
  const keys = Object.keys(value);
  const key = keys[0];
  return keys.length === 1 && key !== undefined && (key === 'Ref' || key.startsWith('Fn::')) ? key : undefined;
}

/** Splits an `Fn::Sub` string into literals and variables; `${!Literal}` stays literal `${Literal}`. */
export function parseSub(text: string, path: string): SubPart[] {
  const parts: SubPart[] = [];
  let literal = '';
  let index = 0;
  while (index < text.length) {
    const start = text.indexOf('${', index);
    const end = start < 0 ? -1 : text.indexOf('}', start + 2);
    if (end < 0) {
      literal += text.slice(index);
      break;
    }
    literal += text.slice(index, start);
    const body = text.slice(start + 2, end);
    if (body.startsWith('!')) {
      literal += `\${${body.slice(1)}}`;
    } else {
      const variable = body.trim();
      if (!variable) throw new TemplateError(`${path}: Fn::Sub: empty \${} in "${text}"`);
      if (literal) parts.push({ literal });
      literal = '';
      parts.push({ variable });
    }
    index = end + 1;
  }
  if (literal) parts.push({ literal });
  return parts;
}

/** The `Ref` values of the pseudo parameters for one region, account and stack. */
export function pseudoParameters(options: { region: string; accountId: string; stackName: string }): Record<string, Json> {
  const { region, accountId, stackName } = options;
  const partition = region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
  // A stable stack id, so that names derived from it survive restarts.
  const hex = createHash('sha1').update(`${accountId}/${region}/${stackName}`).digest('hex');
  const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
  return {
    'AWS::Region': region,
    'AWS::AccountId': accountId,
    'AWS::StackName': stackName,
    'AWS::StackId': `arn:${partition}:cloudformation:${region}:${accountId}:stack/${stackName}/${uuid}`,
    'AWS::Partition': partition,
    'AWS::URLSuffix': partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com',
    'AWS::NotificationARNs': [],
  };
}

/**
 * Resolves every intrinsic function in `value`. Returns undefined when the whole value is
 * `AWS::NoValue`; inside maps and lists such values remove their key or element.
 */
export function resolveValue(value: Json, scope: IntrinsicScope, path: string): Json | undefined {
  const resolved = new Evaluator(scope, false).walk(value, path);
  return resolved === NO_VALUE ? undefined : resolved;
}

/**
 * Settles what only depends on conditions: each `Fn::If` becomes its chosen branch and
 * `Ref: AWS::NoValue` removes its key or element. Every other intrinsic is kept (with its
 * arguments pruned) but must be a supported one. Returns undefined for a whole `AWS::NoValue`.
 */
export function pruneConditionals(value: Json, conditions: Readonly<Record<string, boolean>>, path: string): Json | undefined {
  const scope: IntrinsicScope = { refs: {}, condition: conditionLookup(conditions) };
  const resolved = new Evaluator(scope, true).walk(value, path);
  return resolved === NO_VALUE ? undefined : resolved;
}

/** Evaluates every condition of the Conditions section once (conditions may use each other). */
export function evaluateConditions(
  definitions: Readonly<Record<string, Json>> | undefined,
  scope: Omit<IntrinsicScope, 'condition' | 'resources'>,
): Record<string, boolean> {
  const results: Record<string, boolean> = {};
  const evaluating: string[] = [];
  const condition = (name: string, path: string): boolean => {
    if (Object.hasOwn(results, name)) return results[name] as boolean;
    const definition = definitions && Object.hasOwn(definitions, name) ? definitions[name] : undefined;
    if (definition === undefined) throw new TemplateError(`${path}: condition ${name} is not defined in Conditions`);
    if (evaluating.includes(name)) {
      throw new TemplateError(`Conditions.${name}: conditions refer to each other in a cycle: ${[...evaluating, name].join(' → ')}`);
    }
    evaluating.push(name);
    const result = new Evaluator({ ...scope, condition }, false).condition(definition, `Conditions.${name}`);
    evaluating.pop();
    results[name] = result;
    return result;
  };
  for (const name of Object.keys(definitions ?? {})) condition(name, `Conditions.${name}`);
  return results;
}

/** Every name referenced by `Ref`, `Fn::GetAtt` and `Fn::Sub` in `value` (Sub's own variables excluded). */
export function findReferences(value: Json, path: string): Reference[] {
  const found: Reference[] = [];
  const visit = (item: Json, at: string): void => {
    if (Array.isArray(item)) {
      item.forEach((element, index) => visit(element, `${at}[${index}]`));
      return;
    }
    if (!isJsonObject(item)) return;
    const name = intrinsicName(item);
    if (name === undefined) {
      for (const [key, child] of Object.entries(item)) visit(child, `${at}.${key}`);
      return;
    }
    const args = item[name] as Json;
    if (name === 'Ref') {
      if (typeof args === 'string' && args !== NO_VALUE_NAME) found.push({ name: args, via: 'Ref', path: at });
    } else if (name === 'Fn::GetAtt') {
      const [resource, attribute] = getAttArguments(args, at);
      found.push(typeof attribute === 'string' ? { name: resource, attribute, via: name, path: at } : { name: resource, via: name, path: at });
      if (typeof attribute !== 'string') visit(attribute, `${at}.${name}[1]`);
    } else if (name === 'Fn::Sub') {
      const [text, variables] = subArguments(args, at);
      for (const part of parseSub(text, at)) {
        if (!('variable' in part) || (variables && Object.hasOwn(variables, part.variable))) continue;
        const [target, attribute] = splitVariable(part.variable);
        found.push(attribute === undefined ? { name: target, via: name, path: at } : { name: target, attribute, via: name, path: at });
      }
      if (variables) visit(variables, `${at}.${name}[1]`);
    } else {
      visit(args, `${at}.${name}`);
    }
  };
  visit(value, path);
  return found;
}

/** `IntrinsicScope.condition` over evaluated conditions: unknown names are TemplateErrors. */
export function conditionLookup(conditions: Readonly<Record<string, boolean>>): IntrinsicScope['condition'] {
  return (name, path) => {
    if (!Object.hasOwn(conditions, name)) throw new TemplateError(`${path}: condition ${name} is not defined in Conditions`);
    return conditions[name] as boolean;
  };
}

/** `[resource, attribute]` from `Fn::GetAtt`'s list form or its `"Resource.Attribute"` string form. */
function getAttArguments(args: Json, path: string): [string, Json] {
  if (typeof args === 'string') {
    const [resource, attribute] = splitVariable(args);
    if (attribute !== undefined) return [resource, attribute];
  } else if (Array.isArray(args) && args.length === 2 && typeof args[0] === 'string') {
    // `!GetAtt a.b.c` arrives as ["a", "b.c"]: a nested attribute, kept whole.
    return [args[0], args[1] as Json];
  }
  throw new TemplateError(`${path}: Fn::GetAtt needs [Resource, Attribute] or "Resource.Attribute", got ${JSON.stringify(args)}`);
}

function subArguments(args: Json, path: string): [string, JsonObject | undefined] {
  if (typeof args === 'string') return [args, undefined];
  if (Array.isArray(args) && args.length === 2 && typeof args[0] === 'string' && isJsonObject(args[1])) return [args[0], args[1]];
  throw new TemplateError(`${path}: Fn::Sub needs a string or [string, { Variable: value }], got ${JSON.stringify(args)}`);
}

/** `Name.Attribute.Nested` → [`Name`, `Attribute.Nested`]; pseudo parameters (`AWS::X`) have no dot. */
function splitVariable(variable: string): [string, string | undefined] {
  const dot = variable.indexOf('.');
  return dot < 0 ? [variable, undefined] : [variable.slice(0, dot), variable.slice(dot + 1)];
}

/** Scalars as CloudFormation sees them: strings. */
function canonical(value: Json): Json {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map(canonical);
  if (isJsonObject(value)) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, canonical(item)]));
  return value;
}

type Tuple<N extends 1 | 2 | 3> = N extends 1 ? [Json] : N extends 2 ? [Json, Json] : [Json, Json, Json];
type Handler = (evaluator: Evaluator, args: Json, path: string) => Value;

/** Handlers by function name; each gets the raw arguments and the path of the call. */
const HANDLERS: Record<string, Handler> = {
  Ref: (e, args, path) => {
    if (typeof args !== 'string') throw new TemplateError(`${path}: Ref needs the name of a parameter or resource, got ${JSON.stringify(args)}`);
    return args === NO_VALUE_NAME ? NO_VALUE : e.lookup(args, undefined, 'Ref', path);
  },
  'Fn::GetAtt': (e, args, path) => {
    const [resource, rawAttribute] = getAttArguments(args, path);
    const attribute = e.text(e.argument(rawAttribute, `${path}.Fn::GetAtt[1]`), path, 'Fn::GetAtt attribute');
    return e.lookup(resource, attribute, 'Fn::GetAtt', path);
  },
  'Fn::Sub': (e, args, path) => {
    const [text, rawVariables] = subArguments(args, path);
    const variables = rawVariables ? (e.argument(rawVariables, `${path}.Fn::Sub[1]`) as JsonObject) : {};
    return parseSub(text, path)
      .map((part) => {
        if ('literal' in part) return part.literal;
        if (Object.hasOwn(variables, part.variable)) return e.text(variables[part.variable] as Json, path, `Fn::Sub variable ${part.variable}`);
        const [name, attribute] = splitVariable(part.variable);
        return e.text(e.lookup(name, attribute, 'Fn::Sub', path), path, `Fn::Sub \${${part.variable}}`);
      })
      .join('');
  },
  'Fn::Join': (e, args, path) => {
    const [delimiter, list] = e.tuple(args, 2, path, 'Fn::Join', '[delimiter, [values]]');
    const values = e.list(e.argument(list, `${path}.Fn::Join[1]`), path, 'Fn::Join');
    return values.map((value) => e.text(value, path, 'Fn::Join element')).join(e.text(delimiter, path, 'Fn::Join delimiter'));
  },
  'Fn::Select': (e, args, path) => {
    const [rawIndex, rawList] = e.tuple(args, 2, path, 'Fn::Select', '[index, [values]]');
    const index = Number(e.argument(rawIndex, `${path}.Fn::Select[0]`));
    const list = e.list(e.argument(rawList, `${path}.Fn::Select[1]`), path, 'Fn::Select');
    if (!Number.isInteger(index) || index < 0 || index >= list.length) {
      throw new TemplateError(`${path}: Fn::Select index ${JSON.stringify(rawIndex)} is outside the list of ${list.length}`);
    }
    return list[index] as Json;
  },
  'Fn::Split': (e, args, path) => {
    const [delimiter, source] = e.tuple(args, 2, path, 'Fn::Split', '[delimiter, string]');
    const separator = e.text(delimiter, path, 'Fn::Split delimiter');
    if (!separator) throw new TemplateError(`${path}: Fn::Split needs a non-empty delimiter`);
    return e.text(e.argument(source, `${path}.Fn::Split[1]`), path, 'Fn::Split source').split(separator);
  },
  'Fn::If': (e, args, path) => {
    const [name, whenTrue, whenFalse] = e.tuple(args, 3, path, 'Fn::If', '[condition name, value if true, value if false]');
    if (typeof name !== 'string') throw new TemplateError(`${path}: Fn::If needs a condition name first, got ${JSON.stringify(name)}`);
    return e.scope.condition(name, path) ? e.walk(whenTrue, `${path}.Fn::If[1]`) : e.walk(whenFalse, `${path}.Fn::If[2]`);
  },
  'Fn::Equals': (e, args, path) => {
    const [left, right] = e.tuple(args, 2, path, 'Fn::Equals', '[value, value]');
    const values = [left, right].map((value, index) => canonical(e.argument(value, `${path}.Fn::Equals[${index}]`)));
    return JSON.stringify(values[0]) === JSON.stringify(values[1]);
  },
  'Fn::And': (e, args, path) => e.conditions(args, path, 'Fn::And').every(Boolean),
  'Fn::Or': (e, args, path) => e.conditions(args, path, 'Fn::Or').some(Boolean),
  'Fn::Not': (e, args, path) => {
    const [condition] = e.tuple(args, 1, path, 'Fn::Not', '[condition]');
    return !e.condition(condition, `${path}.Fn::Not[0]`);
  },
  'Fn::FindInMap': (e, args, path) => {
    const list = Array.isArray(args) ? args : [];
    if (list.length !== 3 && list.length !== 4) {
      throw new TemplateError(`${path}: Fn::FindInMap needs [MapName, TopLevelKey, SecondLevelKey] and an optional { DefaultValue: … }`);
    }
    const keys = list.slice(0, 3).map((key, index) => e.text(e.argument(key, `${path}.Fn::FindInMap[${index}]`), path, 'Fn::FindInMap key'));
    const [map = '', top = '', second = ''] = keys;
    const found = e.scope.mappings?.[map]?.[top]?.[second];
    if (found !== undefined) return e.walk(found, `Mappings.${map}.${top}.${second}`);
    const fallback = list[3];
    if (isJsonObject(fallback) && Object.hasOwn(fallback, 'DefaultValue')) return e.walk(fallback.DefaultValue as Json, `${path}.Fn::FindInMap[3].DefaultValue`);
    const missing = e.scope.mappings?.[map] === undefined ? `no mapping ${map}` : e.scope.mappings[map]?.[top] === undefined ? `mapping ${map} has no key ${top}` : `mapping ${map}.${top} has no key ${second}`;
    throw new TemplateError(`${path}: Fn::FindInMap: ${missing}`);
  },
  'Fn::Base64': (e, args, path) => Buffer.from(e.text(e.argument(args, `${path}.Fn::Base64`), path, 'Fn::Base64 input'), 'utf8').toString('base64'),
  'Fn::ToJsonString': (e, args, path) => {
    const value = e.argument(args, `${path}.Fn::ToJsonString`);
    if (typeof value !== 'object' || value === null) throw new TemplateError(`${path}: Fn::ToJsonString needs an object or a list`);
    return JSON.stringify(value);
  },
  'Fn::Length': (e, args, path) => e.list(e.argument(args, `${path}.Fn::Length`), path, 'Fn::Length').length,
  'Fn::GetAZs': (e, args, path) => {
    const region = e.text(e.argument(args, `${path}.Fn::GetAZs`), path, 'Fn::GetAZs region') || e.text(e.lookup('AWS::Region', undefined, 'Ref', path), path, 'AWS::Region');
    return ['a', 'b', 'c'].map((zone) => `${region}${zone}`);
  },
};

/** Walks a value and calls the handlers; in `partial` mode only conditionals are settled. */
class Evaluator {
  constructor(
    readonly scope: IntrinsicScope,
    private readonly partial: boolean,
  ) {}

  walk(value: Json, path: string): Value {
    if (Array.isArray(value)) {
      const items: Json[] = [];
      value.forEach((item, index) => {
        const resolved = this.walk(item, `${path}[${index}]`);
        if (resolved !== NO_VALUE) items.push(resolved);
      });
      return items;
    }
    if (!isJsonObject(value)) return value;
    const name = intrinsicName(value);
    if (name !== undefined) return this.call(name, value[name] as Json, path);
    const entries: JsonObject = {};
    for (const [key, item] of Object.entries(value)) {
      const resolved = this.walk(item, `${path}.${key}`);
      if (resolved !== NO_VALUE) entries[key] = resolved;
    }
    return entries;
  }

  private call(name: string, args: Json, path: string): Value {
    const handler = HANDLERS[name];
    if (!handler) {
      const reason = UNSUPPORTED_REASONS[name];
      throw new TemplateError(`${path}: ${name} is not supported${reason ? ` (${reason})` : ''}`);
    }
    if (!this.partial || name === 'Fn::If' || (name === 'Ref' && args === NO_VALUE_NAME)) return handler(this, args, path);
    return { [name]: this.argument(args, `${path}.${name}`) };
  }

  /** A function argument, resolved; an argument cannot vanish through AWS::NoValue. */
  argument(value: Json, path: string): Json {
    const resolved = this.walk(value, path);
    if (resolved === NO_VALUE) throw new TemplateError(`${path}: AWS::NoValue cannot be a function argument`);
    return resolved;
  }

  /** A condition: a condition function, or `{ "Condition": name }`. */
  condition(value: Json, path: string): boolean {
    if (isJsonObject(value) && Object.keys(value).length === 1 && typeof value.Condition === 'string') {
      return this.scope.condition(value.Condition, path);
    }
    const result = this.argument(value, path);
    if (typeof result !== 'boolean') {
      throw new TemplateError(`${path}: expected a condition (Fn::Equals, Fn::And, Fn::Or, Fn::Not or { Condition: name }), got ${JSON.stringify(value)}`);
    }
    return result;
  }

  conditions(args: Json, path: string, name: string): boolean[] {
    if (!Array.isArray(args) || args.length < 2 || args.length > 10) throw new TemplateError(`${path}: ${name} needs a list of 2 to 10 conditions`);
    return args.map((item, index) => this.condition(item, `${path}.${name}[${index}]`));
  }

  /** The value behind a parameter, pseudo parameter or resource name (with an attribute: Fn::GetAtt). */
  lookup(name: string, attribute: string | undefined, via: Reference['via'], path: string): Json {
    if (attribute === undefined && Object.hasOwn(this.scope.refs, name)) return this.scope.refs[name] as Json;
    const resources = this.scope.resources;
    if (resources?.has(name)) return attribute === undefined ? resources.ref(name, path) : resources.getAtt(name, attribute, path);
    const shown = attribute === undefined ? name : `${name}.${attribute}`;
    const what = Object.hasOwn(this.scope.refs, name)
      ? 'is a parameter, which has no attributes'
      : resources
        ? 'is neither a parameter nor a resource'
        : 'is not a parameter (resources cannot be referenced here)';
    throw new TemplateError(`${path}: ${via} ${shown}: ${name} ${what}`);
  }

  tuple<N extends 1 | 2 | 3>(args: Json, length: N, path: string, name: string, shape: string): Tuple<N> {
    if (!Array.isArray(args) || args.length !== length) throw new TemplateError(`${path}: ${name} needs ${shape}, got ${JSON.stringify(args)}`);
    return args as Tuple<N>;
  }

  list(value: Json, path: string, name: string): Json[] {
    if (!Array.isArray(value)) throw new TemplateError(`${path}: ${name} needs a list, got ${JSON.stringify(value)}`);
    return value;
  }

  /** A value used as text: strings, and numbers/booleans as CloudFormation prints them. */
  text(value: Json, path: string, what: string): string {
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    throw new TemplateError(`${path}: ${what} must be a string, got ${JSON.stringify(value)}`);
  }
}
