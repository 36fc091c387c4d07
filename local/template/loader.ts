/**
 * Loads a template for the local runtime: resolves parameters, evaluates conditions (dropping
 * resources and outputs whose Condition is false and settling every `Fn::If`), applies the
 * SAM transform, checks every reference, and then answers the runtime's questions: in which
 * order to create resources, and what each resource's properties are once the resources it
 * references exist.
 *
 * LIMITATIONS: only the SAM and `AWS::LanguageExtensions` transforms are accepted, and `Rules`
 * are not evaluated (a template with Rules is rejected). Intrinsics in Metadata are resolved
 * too, and references from Metadata count as dependencies. Output values must resolve to
 * text; Export names are not resolved (there are no other stacks to import them).
 */
import { dirname, resolve } from 'node:path';
import type { DeployedResource, ResolvedResource } from '../services/provider.js';
import {
  conditionLookup,
  evaluateConditions,
  findReferences,
  isJsonObject,
  pruneConditionals,
  pseudoParameters,
  resolveValue,
  type IntrinsicScope,
  type JsonObject,
} from './intrinsics.js';
import { resolveParameters, type ParameterValue } from './parameters.js';
import { readTemplate, TemplateError, type Json, type Template, type TemplateResource } from './parse.js';
import { applySamTransform, SAM_TRANSFORM } from './sam.js';

/** How to load a template. */
export interface LoadOptions {
  /** Parameter values by name, as strings (like `sam local --parameter-overrides`). */
  parameterOverrides?: Record<string, string>;
  /** Default `us-east-1`. */
  region?: string;
  /** Default `000000000000`. */
  accountId?: string;
  /** Default `wims-local`. */
  stackName?: string;
}

/** A template ready to deploy: plain CloudFormation resources whose conditions hold. */
export interface LoadedTemplate {
  /** The template after the SAM transform, with false-condition resources/outputs dropped and `Fn::If` settled. */
  readonly template: Template;
  readonly parameters: Readonly<Record<string, ParameterValue>>;
  readonly conditions: Readonly<Record<string, boolean>>;
  readonly region: string;
  readonly accountId: string;
  readonly stackName: string;
  /** Every resource's logical id, dependencies first; a cycle is a TemplateError naming it. */
  deploymentOrder(): string[];
  /** The resources `logicalId` references (Ref, Fn::GetAtt, Fn::Sub) or DependsOn, in template order. */
  dependenciesOf(logicalId: string): string[];
  /** The CloudFormation type of a resource; a TemplateError for an unknown logical id. */
  typeOf(logicalId: string): string;
  /** Logical ids of the resources of one CloudFormation type, in template order. */
  resourcesOfType(type: string): string[];
  /** The distinct custom resource types used (`AWS::CloudFormation::CustomResource`, `Custom::*`), in template order. */
  customResourceTypes(): string[];
  /**
   * The resource with every intrinsic resolved, `Ref`/`Fn::GetAtt` to resources answered from
   * `deployed` (their physicalId / attributes). A reference to a resource not yet deployed, or
   * to an attribute its provider did not return, is a TemplateError naming both.
   */
  resolveResource(logicalId: string, deployed: ReadonlyMap<string, DeployedResource>): ResolvedResource;
  /** Every output's Value, resolved the same way; as in CloudFormation, each must be text. */
  resolveOutputs(deployed: ReadonlyMap<string, DeployedResource>): Record<string, string>;
}

const TOP_LEVEL_SECTIONS = new Set([
  'AWSTemplateFormatVersion', 'Transform', 'Description', 'Metadata', 'Globals', 'Parameters', 'Mappings', 'Conditions', 'Resources', 'Outputs',
]);
const LANGUAGE_EXTENSIONS = 'AWS::LanguageExtensions';
const CUSTOM_RESOURCE = 'AWS::CloudFormation::CustomResource';

/** Reads, checks and prepares the template at `path` (relative code paths resolve against its folder). */
export function loadTemplate(path: string, options: LoadOptions = {}): LoadedTemplate {
  return prepareTemplate(readTemplate(path), { ...options, baseDir: dirname(resolve(path)) });
}

/** Prepares an already parsed template; `baseDir` is the folder its relative paths start from. */
export function prepareTemplate(source: Template, options: LoadOptions & { baseDir: string }): LoadedTemplate {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  const stackName = options.stackName ?? 'wims-local';
  checkSections(source);
  const parameters = resolveParameters(source.Parameters, options.parameterOverrides);
  const refs: Record<string, Json> = pseudoParameters({ region, accountId, stackName });
  for (const [name, parameter] of Object.entries(parameters)) {
    if (Object.hasOwn(source.Resources, name)) throw new TemplateError(`Parameters.${name}: a resource has the same logical id`);
    refs[name] = parameter.value;
  }
  const conditions = evaluateConditions(source.Conditions, { refs, mappings: source.Mappings });
  const { template: pruned, dropped } = applyConditions(source, conditions);
  const template = usesSam(pruned) ? applySamTransform(pruned, { baseDir: options.baseDir, parameters: refs }) : pruned;
  const dependencies = buildDependencies(template, refs, dropped);
  const ids = Object.keys(template.Resources);
  let order: string[] | undefined;

  const scope = (deployed: ReadonlyMap<string, DeployedResource>): IntrinsicScope => ({
    refs,
    mappings: template.Mappings,
    condition: conditionLookup(conditions),
    resources: {
      has: (id) => Object.hasOwn(template.Resources, id),
      ref: (id, path) => deployedResource(id, path, 'Ref', deployed).physicalId,
      getAtt: (id, attribute, path) => {
        const value = deployedResource(id, path, `Fn::GetAtt ${id}.${attribute}`, deployed).attributes[attribute];
        if (value === undefined) {
          const returned = Object.keys(deployed.get(id)?.attributes ?? {}).join(', ') || 'none';
          const type = template.Resources[id]?.Type ?? 'unknown';
          throw new TemplateError(`${path}: Fn::GetAtt ${id}.${attribute}: the ${type} provider returned no attribute ${attribute} (returned: ${returned})`);
        }
        return value;
      },
    },
  });
  const resolveMap = (value: Json | undefined, deployed: ReadonlyMap<string, DeployedResource>, path: string): JsonObject => {
    const resolved = value === undefined ? {} : (resolveValue(value, scope(deployed), path) ?? {});
    if (!isJsonObject(resolved)) throw new TemplateError(`${path}: must be a map`);
    return resolved;
  };
  const resource = (id: string): TemplateResource => {
    const found = Object.hasOwn(template.Resources, id) ? template.Resources[id] : undefined;
    if (!found) throw new TemplateError(`Resources.${id}: no such resource${dropped.has(id) ? ` (its Condition ${dropped.get(id)} is false)` : ''}`);
    return found;
  };

  return {
    template,
    parameters,
    conditions,
    region,
    accountId,
    stackName,
    deploymentOrder: () => (order ??= topologicalOrder(ids, dependencies)),
    dependenciesOf: (id) => {
      resource(id);
      return [...(dependencies.get(id)?.keys() ?? [])];
    },
    typeOf: (id) => resource(id).Type,
    resourcesOfType: (type) => ids.filter((id) => template.Resources[id]?.Type === type),
    customResourceTypes: () => [
      ...new Set(ids.map((id) => (template.Resources[id] as TemplateResource).Type).filter((type) => type === CUSTOM_RESOURCE || type.startsWith('Custom::'))),
    ],
    resolveResource: (id, deployed) => {
      const { Type, Properties, Metadata } = resource(id);
      return {
        logicalId: id,
        type: Type,
        properties: resolveMap(Properties, deployed, `Resources.${id}.Properties`),
        metadata: resolveMap(Metadata, deployed, `Resources.${id}.Metadata`),
      };
    },
    resolveOutputs: (deployed) => {
      const outputs: Record<string, string> = {};
      for (const [name, output] of Object.entries(template.Outputs ?? {})) {
        const value = resolveValue(output.Value, scope(deployed), `Outputs.${name}.Value`);
        if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
          throw new TemplateError(`Outputs.${name}.Value: must resolve to text (join lists with Fn::Join), got ${JSON.stringify(value ?? null)}`);
        }
        outputs[name] = String(value);
      }
      return outputs;
    },
  };
}

function deployedResource(id: string, path: string, via: string, deployed: ReadonlyMap<string, DeployedResource>): DeployedResource {
  const found = deployed.get(id);
  if (!found) throw new TemplateError(`${path}: ${via} refers to ${id}, which is not deployed yet`);
  return found;
}

function checkSections(template: Template): void {
  for (const section of Object.keys(template)) {
    if (section === 'Rules') throw new TemplateError('Rules: template rules are not evaluated locally; remove them or move the checks into parameter constraints');
    if (!TOP_LEVEL_SECTIONS.has(section)) throw new TemplateError(`${section}: not a template section`);
  }
  for (const name of [template.Transform ?? []].flat()) {
    if (name !== SAM_TRANSFORM && name !== LANGUAGE_EXTENSIONS) throw new TemplateError(`Transform: ${name} is not supported locally (supported: ${SAM_TRANSFORM}, ${LANGUAGE_EXTENSIONS})`);
  }
  if (!isJsonObject(template.Resources as unknown as Json)) throw new TemplateError('Resources: must be a map');
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (!/^[A-Za-z0-9]+$/.test(id)) throw new TemplateError(`Resources.${id}: logical ids must be alphanumeric`);
    if (!isJsonObject(resource as unknown as Json) || typeof resource.Type !== 'string') throw new TemplateError(`Resources.${id}: needs a Type`);
  }
}

function usesSam(template: Template): boolean {
  if ([template.Transform ?? []].flat().includes(SAM_TRANSFORM)) return true;
  const serverless = Object.entries(template.Resources).find(([, resource]) => resource.Type.startsWith('AWS::Serverless::'));
  if (serverless) throw new TemplateError(`Resources.${serverless[0]}: ${serverless[1].Type} needs "Transform: ${SAM_TRANSFORM}"`);
  if (template.Globals) throw new TemplateError(`Globals: needs "Transform: ${SAM_TRANSFORM}"`);
  return false;
}

/** Drops resources and outputs whose Condition is false and settles `Fn::If` / `AWS::NoValue` everywhere else. */
function applyConditions(source: Template, conditions: Readonly<Record<string, boolean>>): { template: Template; dropped: Map<string, string> } {
  const lookup = conditionLookup(conditions);
  const holds = (condition: string | undefined, path: string): boolean => condition === undefined || lookup(String(condition), `${path}.Condition`);
  const prune = (value: Json | undefined, path: string): Json | undefined => (value === undefined ? undefined : pruneConditionals(value, conditions, path));
  const pruneMap = (value: Json | undefined, path: string): JsonObject | undefined => {
    const pruned = prune(value, path);
    if (pruned !== undefined && !isJsonObject(pruned)) throw new TemplateError(`${path}: must be a map`);
    return pruned;
  };
  const dropped = new Map<string, string>();
  const resources: Record<string, TemplateResource> = {};
  for (const [id, resource] of Object.entries(source.Resources)) {
    if (!holds(resource.Condition, `Resources.${id}`)) {
      dropped.set(id, resource.Condition as string);
      continue;
    }
    const kept: TemplateResource = { ...resource };
    const properties = pruneMap(resource.Properties, `Resources.${id}.Properties`);
    const metadata = pruneMap(resource.Metadata, `Resources.${id}.Metadata`);
    if (properties === undefined) delete kept.Properties;
    else kept.Properties = properties;
    if (metadata === undefined) delete kept.Metadata;
    else kept.Metadata = metadata;
    resources[id] = kept;
  }
  const template: Template = { ...source, Resources: resources };
  if (source.Outputs) {
    const outputs: NonNullable<Template['Outputs']> = {};
    for (const [name, output] of Object.entries(source.Outputs)) {
      if (!holds(output.Condition, `Outputs.${name}`)) continue;
      const value = prune(output.Value, `Outputs.${name}.Value`);
      if (value === undefined) throw new TemplateError(`Outputs.${name}.Value: resolves to AWS::NoValue`);
      const exported = prune(output.Export, `Outputs.${name}.Export`);
      outputs[name] = { ...output, Value: value, ...(exported === undefined ? {} : { Export: exported }) };
    }
    template.Outputs = outputs;
  }
  if (source.Globals) {
    template.Globals = Object.fromEntries(Object.entries(source.Globals).map(([section, properties]) => [section, pruneMap(properties, `Globals.${section}`) ?? {}]));
  }
  return { template, dropped };
}

/**
 * For each resource, the resources it depends on (kept in template order), each with the path
 * that creates the dependency. Every reference is checked: unknown names are TemplateErrors.
 */
function buildDependencies(template: Template, refs: Readonly<Record<string, Json>>, dropped: ReadonlyMap<string, string>): Map<string, Map<string, string>> {
  const ids = Object.keys(template.Resources);
  const check = (source: Json | undefined, path: string, into?: Map<string, string>): void => {
    if (source === undefined) return;
    for (const reference of findReferences(source, path)) {
      const { name, attribute, via } = reference;
      const shown = attribute === undefined ? name : `${name}.${attribute}`;
      if (Object.hasOwn(template.Resources, name)) {
        if (!into?.has(name)) into?.set(name, reference.path);
      } else if (!Object.hasOwn(refs, name)) {
        const why = dropped.has(name) ? `is not created: its Condition ${dropped.get(name)} is false` : 'is neither a parameter nor a resource';
        throw new TemplateError(`${reference.path}: ${via} ${shown}: ${name} ${why}`);
      } else if (attribute !== undefined) {
        throw new TemplateError(`${reference.path}: ${via} ${shown}: ${name} is a parameter, which has no attributes`);
      }
    }
  };
  const dependencies = new Map<string, Map<string, string>>();
  for (const id of ids) {
    const resource = template.Resources[id] as TemplateResource;
    const found = new Map<string, string>();
    check(resource.Properties, `Resources.${id}.Properties`, found);
    check(resource.Metadata, `Resources.${id}.Metadata`, found);
    for (const target of [resource.DependsOn ?? []].flat()) {
      if (!Object.hasOwn(template.Resources, target)) {
        const why = dropped.has(target) ? `is not created: its Condition ${dropped.get(target)} is false` : 'is not a resource';
        throw new TemplateError(`Resources.${id}.DependsOn: ${target} ${why}`);
      }
      if (!found.has(target)) found.set(target, `Resources.${id}.DependsOn`);
    }
    dependencies.set(id, new Map(ids.filter((other) => found.has(other)).map((other) => [other, found.get(other) as string])));
  }
  for (const [name, output] of Object.entries(template.Outputs ?? {})) {
    check(output.Value, `Outputs.${name}.Value`);
    check(output.Export, `Outputs.${name}.Export`);
  }
  return dependencies;
}

/** Kahn's algorithm, always taking the first ready resource in template order. */
function topologicalOrder(ids: readonly string[], dependencies: ReadonlyMap<string, ReadonlyMap<string, string>>): string[] {
  const remaining = new Set(ids);
  const order: string[] = [];
  while (remaining.size) {
    const ready = [...remaining].find((id) => ![...(dependencies.get(id)?.keys() ?? [])].some((dependency) => remaining.has(dependency)));
    if (ready === undefined) throw cycleError(remaining, dependencies);
    order.push(ready);
    remaining.delete(ready);
  }
  return order;
}

/** Every remaining resource waits on another remaining one, so following those edges must loop. */
function cycleError(remaining: ReadonlySet<string>, dependencies: ReadonlyMap<string, ReadonlyMap<string, string>>): TemplateError {
  const next = (id: string): [string, string] => {
    const edge = [...(dependencies.get(id) ?? new Map<string, string>())].find(([dependency]) => remaining.has(dependency));
    return edge as [string, string];
  };
  const walk: string[] = [];
  let current = [...remaining][0] as string;
  while (!walk.includes(current)) {
    walk.push(current);
    current = next(current)[0];
  }
  const cycle = walk.slice(walk.indexOf(current));
  const edges = cycle.map((id) => `${id} → ${next(id)[0]} at ${next(id)[1]}`);
  return new TemplateError(`Resources form a dependency cycle: ${[...cycle, current].join(' → ')} (${edges.join('; ')})`);
}
