/**
 * Check (f): no hard-coded physical names. A resource's own name (`TableName`, `QueueName`,
 * `FunctionName`, `RoleName`, `Name`, …) must be left out, so that CloudFormation generates
 * one, or be built from `${AWS::StackName}`, so that two stacks of the template can live in
 * one account and region. SAM resources are checked as the resources they become.
 *
 * A property is taken for the resource's own name when the specification says changing it
 * replaces the resource and it is `Name`, `<Type>Name` (`TableName` of a Table) or the type's
 * only primary identifier. Stage names are exempt: they are scoped to their API.
 */
import { findReferences, type Reference } from '../template/intrinsics.js';
import { TemplateError } from '../template/parse.js';
import type { CheckContext, Finding } from './context.js';
import { resourceSpec, samOrigin } from './spec.js';

const SCOPED_NAMES = new Set(['AWS::ApiGateway::Stage', 'AWS::ApiGatewayV2::Stage']);

/** Check (f). */
export function checkPhysicalNames(context: CheckContext): Finding[] {
  const findings: Finding[] = [];
  for (const [id, resource] of Object.entries(context.transformed.Resources)) {
    const type = resourceSpec(resource.Type);
    if (!type || SCOPED_NAMES.has(resource.Type)) continue;
    const typeName = resource.Type.split('::').at(-1);
    const [onlyIdentifier, ...others] = type.primaryIdentifier ?? [];
    for (const [name, value] of Object.entries(resource.Properties ?? {})) {
      const ownName = name === 'Name' || name === `${typeName}Name` || (name === onlyIdentifier && others.length === 0 && name.endsWith('Name'));
      if (!ownName || type.properties[name]?.causesReplacement !== 'yes') continue;
      const where = `Resources.${id}.Properties.${name}`;
      let references: Reference[];
      try {
        references = findReferences(value, where);
      } catch (error) {
        if (error instanceof TemplateError) continue; // a malformed intrinsic: the references check reports it
        throw error;
      }
      if (references.some((reference) => reference.name === 'AWS::StackName')) continue;
      const origin = samOrigin(id, resource.Type, context.template);
      findings.push({
        severity: 'error',
        where,
        message: `hard-coded physical name: leave ${name} out or build it from \${AWS::StackName}${origin ? ` (set on ${origin})` : ''}`,
        check: 'names',
      });
    }
  }
  return findings;
}
