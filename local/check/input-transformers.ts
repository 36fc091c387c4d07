/**
 * Input transformer check (3e): a placeholder of a JSON InputTemplate that stands outside a JSON
 * string takes its value from the event at its InputPathsMap path, and an event without that
 * path leaves it empty, so the target gets invalid JSON (a backordered order has no
 * paymentStatus). Each such path must therefore be required by every alternative of the rule's
 * pattern (each `$or` branch): by any matcher but `{"exists": false}`, or be part of every event.
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

/** Check 3e. */
export function checkInputTransformers(context: CheckContext): Finding[] {
  const findings: Finding[] = [];
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
