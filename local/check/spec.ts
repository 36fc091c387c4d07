/**
 * Check (a): every resource's properties against the CloudFormation resource specification
 * (@aws-cdk/aws-service-spec): unknown properties, missing required ones, and values of a
 * plainly wrong kind (a list where a string goes, a word where a number goes), in nested
 * property types too. SAM resources are checked as the CloudFormation resources the SAM
 * transform turns them into, because the package's SAM specification lags SAM itself (it has
 * no `LoggingConfig`, for one); the transform rejects SAM properties it does not know.
 *
 * LIMITATIONS: values given by an intrinsic function are not checked (they are resolved at
 * deploy time); allowed values, patterns and lengths are not checked; a value must fit one
 * member of a union type, and when it fits none the message names the kinds it could be.
 */
import { loadAwsServiceSpecSync } from '@aws-cdk/aws-service-spec';
import type { Property, PropertyType, Resource } from '@aws-cdk/service-spec-types';
import { intrinsicName, isJsonObject } from '../template/intrinsics.js';
import type { Json } from '../template/parse.js';
import { isIntrinsic, type CheckContext, type Finding } from './context.js';

type SpecDatabase = ReturnType<typeof loadAwsServiceSpecSync>;

// Loading the specification takes most of a second: once per process.
let database: SpecDatabase | undefined;
const spec = (): SpecDatabase => (database ??= loadAwsServiceSpecSync());

const CUSTOM_RESOURCE = 'AWS::CloudFormation::CustomResource';

/** The specification of a resource type (`Custom::X` is a custom resource); undefined if unknown. */
export function resourceSpec(type: string): Resource | undefined {
  const name = type.startsWith('Custom::') ? CUSTOM_RESOURCE : type;
  return spec().lookup('resource', 'cloudFormationType', 'equals', name)[0];
}

/**
 * The attributes `Fn::GetAtt` can read from a resource type; undefined when that is not known
 * here: custom resources return what their function returns, SAM resources have the
 * attributes of what the transform makes of them, and unknown types are reported elsewhere.
 */
export function attributeNames(type: string): string[] | undefined {
  if (type.startsWith('Custom::') || type === CUSTOM_RESOURCE || type.startsWith('AWS::Serverless::')) return undefined;
  const resource = resourceSpec(type);
  return resource && Object.keys(resource.attributes);
}

/** Check (a). */
export function checkSpec(context: CheckContext): Finding[] {
  const { transformed, template } = context;
  const findings: Finding[] = [];
  for (const [id, resource] of Object.entries(transformed.Resources)) {
    const origin = samOrigin(id, resource.Type, template);
    const report = (where: string, message: string): void => {
      findings.push({ severity: 'error', where, message: origin ? `${message} (in the ${resource.Type} the SAM transform makes of ${origin})` : message, check: 'spec' });
    };
    const type = resourceSpec(resource.Type);
    if (!type) {
      report(`Resources.${id}.Type`, `${resource.Type} is not a CloudFormation resource type`);
      continue;
    }
    // A custom resource takes any properties besides its own (they go to its function).
    const open = type.cloudFormationType === CUSTOM_RESOURCE;
    new PropertyChecker(report).checkObject(localStandIns(resource.Type, resource.Properties ?? {}), type.properties, `Resources.${id}.Properties`, resource.Type, open);
  }
  return findings;
}

/** The SAM resource a transformed resource comes from, if its type changed or it is generated. */
export function samOrigin(id: string, type: string, template: CheckContext['template']): string | undefined {
  const same = template.Resources[id];
  if (same?.Type === type) return undefined;
  if (same) return `Resources.${id}`;
  const sam = Object.keys(template.Resources)
    .filter((name) => id.startsWith(name) && template.Resources[name]?.Type.startsWith('AWS::Serverless::'))
    .sort((a, b) => b.length - a.length)[0];
  return sam === undefined ? undefined : `Resources.${sam}`;
}

/** The local SAM transform points function code at a folder (`Code.LocalPath`) where `sam package` writes S3Bucket/S3Key. */
function localStandIns(type: string, properties: Record<string, Json>): Record<string, Json> {
  const code = properties.Code;
  if (type !== 'AWS::Lambda::Function' || !isJsonObject(code) || !('LocalPath' in code)) return properties;
  return { ...properties, Code: { S3Bucket: 'packaged', S3Key: 'packaged' } };
}

class PropertyChecker {
  constructor(private readonly report: (where: string, message: string) => void) {}

  checkObject(value: Json, properties: Record<string, Property>, where: string, typeName: string, open = false): void {
    if (!isJsonObject(value) || isIntrinsic(value)) {
      if (!isIntrinsic(value)) this.report(where, `expected ${typeName} (an object), got ${describe(value)}`);
      return;
    }
    for (const [name, property] of Object.entries(properties)) {
      if (property.required && !present(value[name])) this.report(`${where}.${name}`, `required property ${name} of ${typeName} is missing`);
    }
    for (const [name, child] of Object.entries(value)) {
      const property = Object.hasOwn(properties, name) ? properties[name] : undefined;
      if (!property) {
        if (!open) this.report(`${where}.${name}`, `${typeName} has no property ${name} (it has ${Object.keys(properties).join(', ') || 'none'})`);
      }
      else if (present(child)) this.checkValue(child, property.type, `${where}.${name}`);
    }
  }

  checkValue(value: Json, type: PropertyType, where: string): void {
    if (isIntrinsic(value)) return;
    if (type.type === 'union') {
      const fits = type.types.map((member) => this.errorsFor(value, member, where));
      if (fits.some((errors) => errors.length === 0)) return;
      // Report the member of the value's own kind, or that nothing fits.
      const sameKind = type.types.findIndex((member) => kindOf(member) === valueKind(value));
      const errors = fits[sameKind];
      if (errors) for (const [at, message] of errors) this.report(at, message);
      else this.report(where, `expected ${type.types.map(kindOf).join(' or ')}, got ${describe(value)}`);
      return;
    }
    const expected = kindOf(type);
    switch (type.type) {
      case 'string':
      case 'date-time':
        if (typeof value === 'object' && value !== null) this.report(where, `expected a string, got ${describe(value)}`);
        return;
      case 'number':
      case 'integer':
        if (typeof value !== 'number' && !(typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))) {
          this.report(where, `expected ${expected}, got ${describe(value)}`);
        } else if (type.type === 'integer' && !Number.isInteger(Number(value))) {
          this.report(where, `expected an integer, got ${JSON.stringify(value)}`);
        }
        return;
      case 'boolean':
        if (typeof value !== 'boolean' && value !== 'true' && value !== 'false') this.report(where, `expected a boolean, got ${describe(value)}`);
        return;
      case 'tag':
        this.checkObject(value, { Key: { type: { type: 'string' }, required: true }, Value: { type: { type: 'string' }, required: true } }, where, 'Tag');
        return;
      case 'array':
        if (!Array.isArray(value)) this.report(where, `expected a list, got ${describe(value)}`);
        else value.forEach((element, index) => this.checkValue(element, type.element, `${where}[${index}]`));
        return;
      case 'map':
        if (!isJsonObject(value)) this.report(where, `expected a map, got ${describe(value)}`);
        else for (const [key, element] of Object.entries(value)) this.checkValue(element, type.element, `${where}.${key}`);
        return;
      case 'ref': {
        const definition = spec().get('typeDefinition', type.reference.$ref);
        this.checkObject(value, definition.properties, where, definition.name);
        return;
      }
      default:
        return; // json, null: anything goes
    }
  }

  private errorsFor(value: Json, type: PropertyType, where: string): Array<[string, string]> {
    const errors: Array<[string, string]> = [];
    new PropertyChecker((at, message) => errors.push([at, message])).checkValue(value, type, where);
    return errors;
  }
}

/** Absent, or `Ref: AWS::NoValue` (which removes the property). */
function present(value: Json | undefined): value is Json {
  return value !== undefined && !(intrinsicName(value) === 'Ref' && isJsonObject(value) && value.Ref === 'AWS::NoValue');
}

function kindOf(type: PropertyType): string {
  switch (type.type) {
    case 'string': case 'date-time': return 'a string';
    case 'number': return 'a number';
    case 'integer': return 'an integer';
    case 'boolean': return 'a boolean';
    case 'array': return 'a list';
    case 'map': case 'ref': case 'tag': return 'an object';
    default: return 'any value';
  }
}

function valueKind(value: Json): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function describe(value: Json): string {
  return typeof value === 'object' ? valueKind(value) : `${valueKind(value)} ${JSON.stringify(value)}`;
}
