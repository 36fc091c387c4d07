/**
 * Check (h): every EventBridge event pattern — of `AWS::Events::Rule` resources and of SAM
 * EventBridgeRule/CloudWatchEvent events, given as YAML/JSON objects or as JSON text (`Fn::Sub`
 * text with parameters at their default values) — is one EventBridge accepts, by the local
 * runtime's own validator.
 */
import { isJsonObject } from '../template/intrinsics.js';
import type { Json } from '../template/parse.js';
import { InvalidEventPatternError, validatePattern } from '../services/events/pattern.js';
import { subText, type CheckContext, type Finding } from './context.js';

const SAM_RULE_EVENTS = new Set(['EventBridgeRule', 'CloudWatchEvent']);

/** Check (h). */
export function checkEventPatterns(context: CheckContext): Finding[] {
  const patterns: Array<[Json, string]> = [];
  for (const [id, resource] of Object.entries(context.template.Resources)) {
    const properties = resource.Properties ?? {};
    if (resource.Type === 'AWS::Events::Rule' && properties.EventPattern !== undefined) {
      patterns.push([properties.EventPattern, `Resources.${id}.Properties.EventPattern`]);
    }
    if (resource.Type.startsWith('AWS::Serverless::') && isJsonObject(properties.Events)) {
      for (const [name, event] of Object.entries(properties.Events)) {
        if (isJsonObject(event) && SAM_RULE_EVENTS.has(String(event.Type)) && isJsonObject(event.Properties) && event.Properties.Pattern !== undefined) {
          patterns.push([event.Properties.Pattern, `Resources.${id}.Properties.Events.${name}.Properties.Pattern`]);
        }
      }
    }
  }
  const findings: Finding[] = [];
  for (const [pattern, where] of patterns) {
    try {
      validatePattern(subText(pattern, context.refs, where) ?? pattern);
    } catch (error) {
      if (!(error instanceof InvalidEventPatternError)) throw error;
      findings.push({ severity: 'error', where, message: error.message, check: 'patterns' });
    }
  }
  return findings;
}
