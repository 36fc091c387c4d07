/**
 * Parses a CloudFormation/SAM template (YAML or JSON) into plain JSON form: every short-form
 * tag (`!Ref`, `!Sub`, `!GetAtt a.b`, …) becomes its long form (`{ "Ref": … }`,
 * `{ "Fn::Sub": … }`, `{ "Fn::GetAtt": ["a", "b"] }`), exactly as CloudFormation reads it.
 */
import { readFileSync } from 'node:fs';
import { parse, type CollectionTag, type ScalarTag } from 'yaml';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface Template {
  AWSTemplateFormatVersion?: string;
  Transform?: string | string[];
  Description?: string;
  Globals?: Record<string, Record<string, Json>>;
  Parameters?: Record<string, TemplateParameter>;
  Mappings?: Record<string, Record<string, Record<string, Json>>>;
  Conditions?: Record<string, Json>;
  Resources: Record<string, TemplateResource>;
  Outputs?: Record<string, { Value: Json; Description?: string; Condition?: string; Export?: Json }>;
}

export interface TemplateParameter {
  Type: string;
  Default?: string | number;
  AllowedValues?: Array<string | number>;
  AllowedPattern?: string;
  MinValue?: number;
  MaxValue?: number;
  MinLength?: number;
  MaxLength?: number;
  NoEcho?: boolean;
  Description?: string;
}

export interface TemplateResource {
  Type: string;
  Properties?: Record<string, Json>;
  Metadata?: Record<string, Json>;
  DependsOn?: string | string[];
  Condition?: string;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}

/** Thrown for anything in a template the loader cannot honour; the message names where. */
export class TemplateError extends Error {
  override name = 'TemplateError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

const FUNCTION_TAGS = [
  'Base64', 'Cidr', 'FindInMap', 'GetAZs', 'ImportValue', 'Join', 'Select', 'Split', 'Sub',
  'Transform', 'And', 'Equals', 'If', 'Not', 'Or', 'ToJsonString', 'Length',
];

function cfnTags(): Array<ScalarTag | CollectionTag> {
  const tags: Array<ScalarTag | CollectionTag> = [];
  const longName = (tag: string): string => (tag === 'Ref' || tag === 'Condition' ? tag : `Fn::${tag}`);
  for (const tag of [...FUNCTION_TAGS, 'Ref', 'Condition']) {
    const key = longName(tag);
    tags.push({ tag: `!${tag}`, resolve: (value: string) => ({ [key]: value }) } as ScalarTag);
    for (const collection of ['seq', 'map'] as const) {
      tags.push({
        tag: `!${tag}`,
        collection,
        resolve: (value: { toJSON(): unknown }) => ({ [key]: value.toJSON() }),
      } as unknown as CollectionTag);
    }
  }
  // `!GetAtt Resource.Attribute` is the one short form whose scalar is split.
  tags.push({
    tag: '!GetAtt',
    resolve: (value: string) => {
      const dot = value.indexOf('.');
      if (dot < 0) throw new TemplateError(`!GetAtt ${value}: expected Resource.Attribute`);
      return { 'Fn::GetAtt': [value.slice(0, dot), value.slice(dot + 1)] };
    },
  } as ScalarTag);
  tags.push({
    tag: '!GetAtt',
    collection: 'seq',
    resolve: (value: { toJSON(): unknown }) => ({ 'Fn::GetAtt': value.toJSON() }),
  } as unknown as CollectionTag);
  return tags;
}

/** Parses template text (YAML with CloudFormation tags, or JSON). */
export function parseTemplate(text: string, source = 'template'): Template {
  let document: unknown;
  try {
    document = parse(text, { customTags: cfnTags(), maxAliasCount: -1, uniqueKeys: true });
  } catch (error) {
    throw new TemplateError(`${source}: ${(error as Error).message}`, { cause: error });
  }
  if (!document || typeof document !== 'object' || !('Resources' in document)) {
    throw new TemplateError(`${source}: a template needs a Resources section`);
  }
  return document as Template;
}

/** Reads and parses a template file. */
export function readTemplate(path: string): Template {
  return parseTemplate(readFileSync(path, 'utf8'), path);
}
