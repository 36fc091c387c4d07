/**
 * Reading resolved CloudFormation properties with errors that name the resource and property.
 * Shared by every provider. Values from template parameters arrive as
 * strings, so numbers and booleans also accept their string forms, as CloudFormation does.
 */
import { createHash } from 'node:crypto';
import type { Json } from '../template/parse.js';
import type { ResolvedResource, RuntimeContext } from './provider.js';

/** A property the local runtime cannot honour, or one of the wrong shape. */
export class ResourcePropertyError extends Error {
  override name = 'ResourcePropertyError';
}

/** Names a property of a resource for error messages: `Orders (AWS::DynamoDB::Table) property KeySchema[0]`. */
export function where(resource: ResolvedResource, path: string): string {
  return `${resource.logicalId} (${resource.type}) property ${path}`;
}

/** Properties that change nothing a running resource does, accepted on every type and never reported. */
const INERT_PROPERTIES = ['Description', 'Tags'];

/**
 * Throws for any property outside `supported` and `ignored`, so that settings which would change
 * behaviour are never silently dropped; the `ignored` ones present are reported as not emulated.
 */
export function checkProperties(
  resource: ResolvedResource,
  supported: readonly string[],
  ignored: readonly string[],
  context: Pick<RuntimeContext, 'notEmulated'>,
): void {
  const present = Object.keys(resource.properties).filter((name) => !INERT_PROPERTIES.includes(name));
  for (const name of present) {
    if (!supported.includes(name) && !ignored.includes(name)) {
      throw new ResourcePropertyError(`${where(resource, name)} is not supported by the local runtime`);
    }
  }
  const notEmulated = present.filter((name) => ignored.includes(name));
  if (notEmulated.length > 0) context.notEmulated(resource.logicalId, notEmulated);
}

function fail(label: string, expected: string, value: Json | undefined): never {
  throw new ResourcePropertyError(`${label} must be ${expected}, got ${JSON.stringify(value) ?? 'nothing'}`);
}

/** A string; `label` comes from {@link where}. */
export function expectString(value: Json | undefined, label: string): string {
  return typeof value === 'string' ? value : fail(label, 'a string', value);
}

/** A number, or a string holding one. */
export function expectNumber(value: Json | undefined, label: string): number {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof number === 'number' && Number.isFinite(number) ? number : fail(label, 'a number', value);
}

/** A boolean, or "true"/"false". */
export function expectBoolean(value: Json | undefined, label: string): boolean {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  return fail(label, 'a boolean', value);
}

/** A JSON object. */
export function expectObject(value: Json | undefined, label: string): Record<string, Json> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : fail(label, 'an object', value);
}

/** A list. */
export function expectArray(value: Json | undefined, label: string): Json[] {
  return Array.isArray(value) ? value : fail(label, 'a list', value);
}

/** How {@link resourceName} generates a name the template does not give. */
export interface GeneratedNameOptions {
  /** Appended to a generated name (`.fifo`). */
  suffix?: string;
  /** The type's name limit: the `${stackName}-${logicalId}` part is shortened to fit. */
  maxLength?: number;
  /**
   * End with `-` and a 12-character id derived from the stack and logical id, where CloudFormation
   * ends its generated names with a random one (kept stable, so that a restart finds its state).
   */
  uniqueId?: boolean;
}

/**
 * The physical name of every provider's resources: the resource's own name property, or one
 * generated as CloudFormation does, `${stackName}-${logicalId}`.
 */
export function resourceName(
  resource: ResolvedResource,
  property: string,
  stackName: string,
  { suffix = '', maxLength = Infinity, uniqueId = false }: GeneratedNameOptions = {},
): string {
  const given = resource.properties[property];
  if (given !== undefined) return expectString(given, where(resource, property));
  const id = uniqueId ? `-${stableId(`${stackName}/${resource.logicalId}`)}` : '';
  return `${`${stackName}-${resource.logicalId}`.slice(0, maxLength - id.length - suffix.length)}${id}${suffix}`;
}

function stableId(seed: string): string {
  return BigInt(`0x${createHash('sha256').update(seed).digest('hex').slice(0, 16)}`).toString(36).toUpperCase().slice(0, 12);
}
