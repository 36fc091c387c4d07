/**
 * Static checks of a CloudFormation/SAM template, for what deploying (or the local runtime)
 * would only reveal later: (a) properties against the resource specification, (b) references,
 * (c) state machine definition substitutions, (d) Amazon States Language, (e) esbuild build
 * Metadata, (f) hard-coded physical names, (g) IAM wildcards, (h) EventBridge patterns and
 * (i) API Gateway mapping templates, then the defect classes of issue 7 (log groups, APIs, input
 * transformers). Each check's module says what it covers and what not.
 */
import { checkApis } from './apis.js';
import { checkBuildMetadata } from './build.js';
import { loadCheckContext, type CheckContext, type Finding } from './context.js';
import { checkIamPolicies } from './iam.js';
import { checkInputTransformers } from './input-transformers.js';
import { checkLogGroups } from './log-groups.js';
import { checkMappingTemplates } from './mapping-templates.js';
import { checkPhysicalNames } from './names.js';
import { checkEventPatterns } from './patterns.js';
import { checkReferences } from './references.js';
import { checkSpec } from './spec.js';
import { checkStateMachines } from './state-machines.js';

export type { CheckName, Finding } from './context.js';

const CHECKS: Array<(context: CheckContext) => Finding[]> = [
  checkSpec,
  checkReferences,
  checkStateMachines,
  checkBuildMetadata,
  checkPhysicalNames,
  checkIamPolicies,
  checkEventPatterns,
  checkMappingTemplates,
  checkLogGroups,
  checkApis,
  checkInputTransformers,
];

/** Every finding for the template at `path`, errors first, each group in template order. */
export function checkTemplate(path: string): Finding[] {
  const { context, findings } = loadCheckContext(path);
  if (context) for (const check of CHECKS) findings.push(...check(context));
  return findings.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1));
}
