/**
 * What every template check reads: the template as written, the same template after the local
 * SAM transform, and the values parameters and pseudo parameters take by default.
 */
import { dirname, resolve } from 'node:path';
import { intrinsicName, isJsonObject, parseSub, pseudoParameters, type JsonObject, type SubPart } from '../template/intrinsics.js';
import { readTemplate, TemplateError, type Json, type Template } from '../template/parse.js';
import { applySamTransform, SAM_TRANSFORM } from '../template/sam.js';

/** The checks, as named in findings. */
export type CheckName =
  | 'template' | 'spec' | 'references' | 'substitutions' | 'asl' | 'build' | 'names' | 'iam' | 'patterns' | 'mapping-templates' | 'log-groups' | 'apis' | 'input-transformers';

/** One problem found in a template. */
export interface Finding {
  severity: 'error' | 'warning';
  /** Where in the template, e.g. `Resources.X.Properties.Y`. */
  where: string;
  message: string;
  check: CheckName;
}

/** A template ready to be checked. */
export interface CheckContext {
  /** The template file, and the folder its relative paths start from. */
  path: string;
  dir: string;
  /** As written (SAM resource types, short-form tags turned into long-form intrinsics). */
  template: Template;
  /**
   * After the local SAM transform. A SAM resource the transform rejects (a finding) is left
   * out, with what it would generate; the other resources are all there.
   */
  transformed: Template;
  /** `Ref` values of parameters (their defaults) and pseudo parameters. */
  refs: Readonly<Record<string, Json>>;
}

/** Reads the template at `path`; what keeps it from being read or transformed comes back as findings. */
export function loadCheckContext(path: string): { context?: CheckContext; findings: Finding[] } {
  let template: Template;
  try {
    template = readTemplate(path);
  } catch (error) {
    return { findings: [templateFinding(error)] };
  }
  const refs: Record<string, Json> = pseudoParameters({ region: 'us-east-1', accountId: '123456789012', stackName: 'wims-check' });
  // A parameter without a Default stands for itself, by name.
  for (const [name, parameter] of Object.entries(template.Parameters ?? {})) refs[name] = String(parameter.Default ?? name);
  const dir = dirname(resolve(path));
  const context: CheckContext = { path, dir, template, transformed: template, refs };
  if (![template.Transform ?? []].flat().includes(SAM_TRANSFORM)) return { context, findings: [] };
  const options = { baseDir: dir, parameters: refs };
  try {
    context.transformed = applySamTransform(template, options);
    return { context, findings: [] };
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
  }
  // The transform stops at the first SAM resource it rejects: transform them one by one, so that one does not hide the others.
  const findings = new Map<string, Finding>();
  const resources: Template['Resources'] = {};
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (!resource.Type.startsWith('AWS::Serverless::')) {
      resources[id] = resource;
      continue;
    }
    try {
      Object.assign(resources, applySamTransform({ ...template, Resources: { [id]: resource } }, options).Resources);
    } catch (error) {
      const finding = templateFinding(error);
      findings.set(`${finding.where}: ${finding.message}`, finding);
    }
  }
  // Checks read only the Resources of the transformed template.
  context.transformed = { ...template, Resources: resources };
  return { context, findings: [...findings.values()] };
}

/** A TemplateError's message starts with the path it is about. */
function templateFinding(error: unknown): Finding {
  if (!(error instanceof TemplateError)) throw error;
  const [, where = 'template', message = error.message] = /^([^:\s]+): ([\s\S]*)$/.exec(error.message) ?? [];
  return { severity: 'error', where, message, check: 'template' };
}

/** Whether `value` is an intrinsic function call (resolved at deploy time, so not checkable here). */
export function isIntrinsic(value: Json | undefined): boolean {
  return intrinsicName(value) !== undefined;
}

/**
 * The text of a plain string or an `Fn::Sub` string, with parameters and pseudo parameters
 * substituted by their default values and every other variable (`${Resource}`,
 * `${Resource.Attribute}`) by its own name. Undefined for anything else, and for a malformed `Fn::Sub`.
 */
export function subText(value: Json | undefined, refs: Readonly<Record<string, Json>>, where: string): string | undefined {
  if (typeof value === 'string') return value;
  if (!isJsonObject(value) || intrinsicName(value) !== 'Fn::Sub') return undefined;
  const args = value['Fn::Sub'];
  const [text, variables] = Array.isArray(args) ? args : [args];
  if (typeof text !== 'string') return undefined;
  const own = isJsonObject(variables) ? (variables as JsonObject) : {};
  let parts: SubPart[];
  try {
    parts = parseSub(text, where);
  } catch (error) {
    if (error instanceof TemplateError) return undefined; // the references check reports it
    throw error;
  }
  return parts
    .map((part) => {
      if ('literal' in part) return part.literal;
      const value = Object.hasOwn(own, part.variable) ? own[part.variable] : refs[part.variable];
      return typeof value === 'string' || typeof value === 'number' ? String(value) : part.variable;
    })
    .join('');
}

/** `[value]` for a single value, the list itself for a list. */
export function asList(value: Json | undefined): Json[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}
