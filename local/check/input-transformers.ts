/**
 * Input transformer check (3e): a placeholder of a JSON InputTemplate that stands outside a JSON
 * string takes its value from the event at its InputPathsMap path, and an event without that
 * path leaves it empty, so the target gets invalid JSON (a backordered order has no
 * paymentStatus). Each such path must therefore be required by every alternative of the rule's
 * pattern (each `$or` branch): by any matcher but `{"exists": false}`, or be part of every event.
 *
 * Pipes (`AWS::Pipes::Pipe` Enrichment/TargetParameters.InputTemplate) insert differently: per
 * "Amazon EventBridge Pipes input transformation", Pipes adds the quotes a string placeholder
 * lacks, so an unquoted `<$.dynamodb.NewImage.id.S>` or `<aws.pipes.pipe-name>` is valid (and not
 * reported), but a placeholder inside a JSON string that certainly holds an object or array loses
 * its internal quotes ("do not put quotes around variables that refer to JSON objects or arrays";
 * `aws.pipes.event.json` "can only be used as the value of a JSON field"): the target gets mangled
 * text, not the value. Reported for `<aws.pipes.event.json>` and a path ending in a DynamoDB map
 * or list (`.M`, `.L`); what else a path holds is not known from the template.
 */
import { isJsonObject, type JsonObject } from '../template/intrinsics.js';
import type { Json } from '../template/parse.js';
import { parseJsonPath, unquotedJsonPlaceholders } from '../services/events/input.js';
import { asList, subText, type CheckContext, type Finding } from './context.js';

/** The fields every EventBridge event has. */
const ENVELOPE = new Set(['version', 'id', 'detail-type', 'source', 'account', 'time', 'region', 'resources', 'detail']);

/** For each alternative of a pattern (`$or` expanded), the paths it requires to be present, as dotted keys. */
function requiredPaths(pattern: JsonObject, prefix: string[] = []): string[][] {
  let alternatives: string[][] = [[]];
  const extend = (branches: string[][]): void => {
    alternatives = alternatives.flatMap((alternative) => branches.map((branch) => [...alternative, ...branch]));
  };
  for (const [key, value] of Object.entries(pattern)) {
    if (key === '$or') {
      extend(asList(value).flatMap((branch) => (isJsonObject(branch) ? requiredPaths(branch, prefix) : [])));
      continue;
    }
    const path = [...prefix, key];
    if (isJsonObject(value)) {
      extend(requiredPaths(value, path).map((branch) => [path.join('.'), ...branch]));
    } else if (Array.isArray(value) && value.length > 0 && value.every((matcher) => !(isJsonObject(matcher) && matcher.exists === false))) {
      extend([[path.join('.')]]);
    }
  }
  return alternatives;
}

function eventPattern(value: Json | undefined, context: CheckContext, where: string): JsonObject | undefined {
  const text = subText(value, context.refs, where);
  try {
    const pattern = text === undefined ? value : JSON.parse(text);
    return isJsonObject(pattern) ? pattern : undefined;
  } catch {
    return undefined; // the patterns check reports it
  }
}

/** A Pipes placeholder: `<$.path>` or a reserved `<aws.pipes.…>` variable. */
const PIPES_PLACEHOLDER = /<(\$[^<>\s]*|aws\.pipes\.[a-z.-]+)>/y;

/** The placeholders of a JSON-object Pipes InputTemplate that stand inside a JSON string (none when the template is not a JSON object). */
function quotedPipesPlaceholders(template: string): string[] {
  const quoted: string[] = [];
  let probe = '';
  let inString = false;
  for (let index = 0; index < template.length; index++) {
    const char = template[index]!;
    PIPES_PLACEHOLDER.lastIndex = index;
    const match = char === '<' ? PIPES_PLACEHOLDER.exec(template) : null;
    if (match) {
      if (inString) quoted.push(match[1]!);
      probe += inString ? '' : 'null';
      index += match[0].length - 1;
      continue;
    }
    if (inString && char === '\\') {
      probe += char + (template[index + 1] ?? '');
      index++;
      continue;
    }
    if (char === '"') inString = !inString;
    probe += char;
  }
  try {
    const parsed: unknown = JSON.parse(probe);
    return isJsonObject(parsed as Json) ? quoted : [];
  } catch {
    return [];
  }
}

/** What a quoted Pipes placeholder would mangle, or undefined when it may well be a string. */
function objectOrArray(placeholder: string): string | undefined {
  if (placeholder === 'aws.pipes.event.json') return 'the event as JSON';
  if (placeholder.endsWith('.M')) return 'a DynamoDB map';
  if (placeholder.endsWith('.L')) return 'a DynamoDB list';
  return undefined;
}

function checkPipeInputTemplates(id: string, properties: JsonObject): Finding[] {
  const findings: Finding[] = [];
  for (const parameters of ['EnrichmentParameters', 'TargetParameters'] as const) {
    const holder = properties[parameters];
    const template = isJsonObject(holder) ? holder.InputTemplate : undefined;
    if (typeof template !== 'string') continue;
    for (const placeholder of new Set(quotedPipesPlaceholders(template))) {
      const what = objectOrArray(placeholder);
      if (what === undefined) continue;
      findings.push({
        severity: 'error',
        where: `Resources.${id}.Properties.${parameters}.InputTemplate`,
        message: `<${placeholder}> (${what}) stands inside a JSON string: Pipes removes its internal quotes, so the target gets mangled text instead of the value. Take the quotes off it`,
        check: 'input-transformers',
      });
    }
  }
  return findings;
}

/** Check 3e. */
export function checkInputTransformers(context: CheckContext): Finding[] {
  const findings: Finding[] = [];
  for (const [id, resource] of Object.entries(context.transformed.Resources)) {
    if (resource.Type === 'AWS::Pipes::Pipe') findings.push(...checkPipeInputTemplates(id, resource.Properties ?? {}));
  }
  for (const [id, resource] of Object.entries(context.transformed.Resources)) {
    if (resource.Type !== 'AWS::Events::Rule') continue;
    const properties = resource.Properties ?? {};
    const pattern = eventPattern(properties.EventPattern, context, `Resources.${id}.Properties.EventPattern`);
    if (!pattern) continue;
    const alternatives = requiredPaths(pattern);
    asList(properties.Targets).forEach((target, index) => {
      const transformer = isJsonObject(target) ? target.InputTransformer : undefined;
      if (!isJsonObject(transformer) || typeof transformer.InputTemplate !== 'string' || !isJsonObject(transformer.InputPathsMap)) return;
      const pathsMap = transformer.InputPathsMap;
      for (const name of new Set(unquotedJsonPlaceholders(transformer.InputTemplate))) {
        const path = pathsMap[name];
        if (typeof path !== 'string') continue;
        let segments: string[];
        try {
          segments = parseJsonPath(path).map(String);
        } catch {
          continue; // not a path the runtime could resolve: delivery reports it
        }
        const dotted = segments.join('.');
        const guaranteed = (required: string[]): boolean => segments.length === 0 || (segments.length === 1 && ENVELOPE.has(segments[0]!))
          || required.some((requiredPath) => requiredPath === dotted || requiredPath.startsWith(`${dotted}.`));
        const lacking = alternatives.flatMap((required, branch) => (guaranteed(required) ? [] : [branch + 1]));
        if (lacking.length === 0) continue;
        const branches = alternatives.length > 1 ? ` (branch ${lacking.join(', ')} of its ${alternatives.length} $or alternatives)` : '';
        findings.push({
          severity: 'error',
          where: `Resources.${id}.Properties.Targets.${index}.InputTransformer.InputPathsMap.${name}`,
          message: `<${name}> stands outside a JSON string, and an event the pattern matches${branches} may lack ${path}: the target would get invalid JSON. Require the field in the pattern ([{"exists": true}]) or quote the placeholder`,
          check: 'input-transformers',
        });
      }
    });
  }
  return findings;
}
