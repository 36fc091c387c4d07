/**
 * Check (g): the Allow statements of every IAM policy in the template — identity policies,
 * trust policies, resource policies, SAM `Policies` statements, and policy documents given as
 * JSON text — name no wildcard actions, use neither NotAction nor NotResource, and use
 * `Resource: "*"` only for actions that cannot be scoped to a resource.
 */
import { isJsonObject } from '../template/intrinsics.js';
import type { Json } from '../template/parse.js';
import { asList, subText, type CheckContext, type Finding } from './context.js';

/**
 * Actions that support no resource-level permissions, so `Resource: "*"` is the only way to
 * allow them (Service Authorization Reference: no resource types).
 */
const RESOURCE_STAR_ACTIONS = new Set([
  // Vended log delivery to CloudWatch Logs, as the Step Functions developer guide's logging policy grants it.
  'logs:CreateLogDelivery', 'logs:GetLogDelivery', 'logs:UpdateLogDelivery', 'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries', 'logs:PutResourcePolicy', 'logs:DescribeResourcePolicies', 'logs:DescribeLogGroups',
  // Stream discovery for a DynamoDB stream consumer.
  'dynamodb:ListStreams',
  // Sending traces and reading sampling rules.
  'xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets',
]);

/** Check (g). */
export function checkIamPolicies(context: CheckContext): Finding[] {
  const findings: Finding[] = [];
  const report = (where: string, message: string): void => {
    findings.push({ severity: 'error', where, message, check: 'iam' });
  };
  const checkStatement = (statement: Json, where: string): void => {
    if (!isJsonObject(statement) || statement.Effect !== 'Allow') return;
    if (statement.NotAction !== undefined) report(`${where}.NotAction`, 'NotAction in an Allow statement allows every other action');
    if (statement.NotResource !== undefined) report(`${where}.NotResource`, 'NotResource in an Allow statement allows every other resource');
    const actions = asList(statement.Action).filter((action): action is string => typeof action === 'string');
    for (const action of actions) {
      if (action.includes('*')) report(`${where}.Action`, `wildcard action ${action}: name the actions`);
    }
    if (asList(statement.Resource).includes('*')) {
      const scopable = actions.filter((action) => !RESOURCE_STAR_ACTIONS.has(action));
      if (scopable.length > 0) report(`${where}.Resource`, `Resource "*" for actions that can be scoped to a resource: ${scopable.join(', ')}`);
    }
  };
  const visit = (value: Json, where: string): void => {
    if (Array.isArray(value)) {
      value.forEach((item, index) => visit(item, `${where}[${index}]`));
      return;
    }
    const text = subText(value, context.refs, where);
    if (text !== undefined) {
      // A policy document given as JSON text (e.g. AWS::Logs::ResourcePolicy).
      if (!text.includes('"Statement"')) return;
      try {
        visit(JSON.parse(text) as Json, where);
      } catch {
        report(where, 'looks like a policy document but is not JSON');
      }
      return;
    }
    if (!isJsonObject(value)) return;
    if (value.Statement !== undefined) {
      asList(value.Statement).forEach((statement, index) => {
        checkStatement(statement, Array.isArray(value.Statement) ? `${where}.Statement[${index}]` : `${where}.Statement`);
      });
      return;
    }
    for (const [key, child] of Object.entries(value)) visit(child, `${where}.${key}`);
  };
  for (const [id, resource] of Object.entries(context.template.Resources)) {
    if (resource.Properties) visit(resource.Properties, `Resources.${id}.Properties`);
  }
  return findings;
}
