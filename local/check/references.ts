/**
 * Check (b): every `Ref`, `Fn::GetAtt` and `Fn::Sub` variable (`${X}`, `${X.Attr}`) names a
 * parameter, a pseudo parameter or a resource — including the resources the SAM transform
 * generates, such as `<StateMachineId><EventId>` for a state machine's EventBridgeRule event —
 * and every attribute read exists for that resource's type in the CloudFormation specification.
 */
import { findReferences, type Reference } from '../template/intrinsics.js';
import { TemplateError, type Json } from '../template/parse.js';
import type { CheckContext, Finding } from './context.js';
import { attributeNames } from './spec.js';

/** Check (b). */
export function checkReferences(context: CheckContext): Finding[] {
  const { template, transformed, refs } = context;
  const findings: Finding[] = [];
  const report = (where: string, message: string): void => {
    findings.push({ severity: 'error', where, message, check: 'references' });
  };
  // The type each name has once deployed: transformed SAM resources, else as written.
  const types = new Map<string, string>();
  for (const [id, resource] of Object.entries(template.Resources)) types.set(id, resource.Type);
  for (const [id, resource] of Object.entries(transformed.Resources)) types.set(id, resource.Type);

  const scanned: Array<[Json | undefined, string]> = [
    ...Object.entries(template.Resources).map(([id, resource]): [Json | undefined, string] => [resource.Properties, `Resources.${id}.Properties`]),
    [template.Globals as Json | undefined, 'Globals'],
    ...Object.entries(template.Outputs ?? {}).map(([name, output]): [Json | undefined, string] => [output as unknown as Json, `Outputs.${name}`]),
  ];
  for (const [value, path] of scanned) {
    if (value === undefined) continue;
    let references: Reference[];
    try {
      references = findReferences(value, path);
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      report(path, error.message);
      continue;
    }
    for (const reference of references) {
      const { name, attribute, via, path: where } = reference;
      const shown = attribute === undefined ? name : `${name}.${attribute}`;
      const type = types.get(name);
      if (Object.hasOwn(refs, name)) {
        if (attribute !== undefined) report(where, `${via} ${shown}: ${name} is a parameter, which has no attributes`);
      } else if (type === undefined && !samImplicitReference(name, template)) {
        report(where, `${via} ${shown}: there is no parameter, pseudo parameter or resource ${name}`);
      } else if (type !== undefined && attribute !== undefined) {
        const attributes = attributeNames(type);
        if (attributes && !attributes.includes(attribute)) {
          report(where, `${via} ${shown}: ${type} has no attribute ${attribute} (it has ${attributes.join(', ') || 'none'})`);
        }
      }
    }
  }
  return findings;
}

/** SAM's implicit references to what it generates: `MyApi.Stage`, `MyApi.Deployment`, `MyFunction.Alias`, `MyFunction.Version`. */
function samImplicitReference(name: string, template: CheckContext['template']): boolean {
  const [id = '', suffix] = name.split('.');
  const type = template.Resources[id]?.Type;
  return (type === 'AWS::Serverless::Api' && (suffix === 'Stage' || suffix === 'Deployment')) ||
    (type === 'AWS::Serverless::Function' && (suffix === 'Alias' || suffix === 'Version'));
}
