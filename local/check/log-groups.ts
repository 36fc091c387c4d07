/**
 * Log group checks (3c, 3h): a rule target that is a log group ARN ending in `:*` (what
 * `GetAtt <LogGroup>.Arn` gives) deploys and then never delivers; a Step Functions log group
 * whose name is not under `/aws/vendedlogs/` grows the account's CloudWatch Logs resource policy
 * (5,120 characters) with every state machine, as the Step Functions guide warns.
 */
import { WILDCARD_LOG_GROUP_ARN } from '../services/targets/logs.js';
import { isJsonObject } from '../template/intrinsics.js';
import type { Json } from '../template/parse.js';
import { asList, subText, type CheckContext, type Finding } from './context.js';

/** The log group a `GetAtt X.Arn` names, when X is a log group of the template. */
function logGroupOfGetAtt(value: Json | undefined, context: CheckContext): string | undefined {
  if (!isJsonObject(value) || !('Fn::GetAtt' in value)) return undefined;
  const args = value['Fn::GetAtt'];
  const [id, attribute] = typeof args === 'string' ? args.split('.') : asList(args).map(String);
  return attribute === 'Arn' && context.transformed.Resources[id ?? '']?.Type === 'AWS::Logs::LogGroup' ? id : undefined;
}

/** Checks 3c and 3h. */
export function checkLogGroups(context: CheckContext): Finding[] {
  const findings: Finding[] = [];
  const resources = context.transformed.Resources;
  for (const [id, resource] of Object.entries(resources)) {
    const properties = resource.Properties ?? {};
    if (resource.Type === 'AWS::Events::Rule') {
      asList(properties.Targets).forEach((target, index) => {
        if (!isJsonObject(target)) return;
        const where = `Resources.${id}.Properties.Targets.${index}.Arn`;
        const text = subText(target.Arn, context.refs, where);
        const wildcard = logGroupOfGetAtt(target.Arn, context) !== undefined || (text !== undefined && WILDCARD_LOG_GROUP_ARN.test(text));
        if (wildcard) findings.push({ severity: 'error', where, message: 'a log group ARN ending in ":*" (GetAtt Arn) as a rule target never receives events: use arn:…:log-group:<name>', check: 'log-groups' });
      });
    }
    if (resource.Type === 'AWS::StepFunctions::StateMachine' && isJsonObject(properties.LoggingConfiguration)) {
      for (const destination of asList(properties.LoggingConfiguration.Destinations)) {
        const group = isJsonObject(destination) && isJsonObject(destination.CloudWatchLogsLogGroup)
          ? logGroupOfGetAtt(destination.CloudWatchLogsLogGroup.LogGroupArn, context)
          : undefined;
        if (!group) continue;
        const where = `Resources.${group}.Properties.LogGroupName`;
        const name = subText(resources[group]?.Properties?.LogGroupName, context.refs, where);
        if (!name?.startsWith('/aws/vendedlogs/')) findings.push({ severity: 'warning', where, message: `state machine ${id} logs to a log group not under /aws/vendedlogs/: each one grows the account's CloudWatch Logs resource policy`, check: 'log-groups' });
      }
    }
  }
  return findings;
}
