/**
 * Template parameters: picks each value (override, else Default), checks it against the declared
 * Type and constraints, and returns what `Ref` gives for it.
 *
 * LIMITATIONS: `AWS::SSM::Parameter::*` types are rejected (there is no Parameter Store
 * locally). AWS-specific types (`AWS::EC2::VPC::Id`, `List<AWS::EC2::Subnet::Id>`, …) are
 * accepted as plain strings or lists, without checking that the resource exists.
 * `AllowedPattern` is a JavaScript regular expression, not Java's (the two agree on the usual
 * patterns); like CloudFormation it must match the whole value. `Rules` are not evaluated.
 */
import { TemplateError, type TemplateParameter } from './parse.js';

/** A resolved parameter. */
export interface ParameterValue {
  type: string;
  /** What `Ref` returns: a string, or a list of strings for list types. */
  value: string | string[];
  /** Declared NoEcho: callers must not print the value. */
  noEcho: boolean;
}

/** The constraint text CloudFormation shows when a value is rejected. */
type DeclaredParameter = TemplateParameter & { ConstraintDescription?: string };

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/**
 * Resolves every declared parameter. `overrides` are the string values given on the command
 * line (like `sam local --parameter-overrides`); naming an undeclared parameter is an error.
 */
export function resolveParameters(
  declared: Readonly<Record<string, DeclaredParameter>> | undefined,
  overrides: Readonly<Record<string, string>> = {},
): Record<string, ParameterValue> {
  const parameters = declared ?? {};
  for (const name of Object.keys(overrides)) {
    if (!Object.hasOwn(parameters, name)) throw new TemplateError(`Parameter override ${name}: the template declares no parameter ${name}`);
  }
  const values: Record<string, ParameterValue> = {};
  for (const [name, parameter] of Object.entries(parameters)) {
    values[name] = resolveParameter(name, parameter, overrides[name]);
  }
  return values;
}

function resolveParameter(name: string, parameter: DeclaredParameter, override: string | undefined): ParameterValue {
  const path = `Parameters.${name}`;
  const type = parameter.Type;
  if (typeof type !== 'string') throw new TemplateError(`${path}: Type is required`);
  if (type.startsWith('AWS::SSM::')) {
    throw new TemplateError(`${path}: type ${type} reads SSM Parameter Store, which does not exist locally; declare the parameter as String and pass the value as an override`);
  }
  const listElement = type === 'CommaDelimitedList' ? 'String' : /^List<(.+)>$/.exec(type)?.[1];
  const elementType = listElement ?? type;
  if (elementType !== 'String' && elementType !== 'Number' && !elementType.startsWith('AWS::')) {
    throw new TemplateError(`${path}: unknown parameter type ${type}`);
  }
  const raw = override ?? (parameter.Default === undefined ? undefined : String(parameter.Default));
  if (raw === undefined) throw new TemplateError(`${path}: no value (the parameter has no Default; pass it as a parameter override)`);
  const noEcho = parameter.NoEcho === true || String(parameter.NoEcho) === 'true';
  const shown = (value: string): string => (noEcho ? '(NoEcho value)' : JSON.stringify(value));
  const fail = (problem: string): never => {
    const constraint = parameter.ConstraintDescription ? ` (${parameter.ConstraintDescription})` : '';
    throw new TemplateError(`${path}: ${problem}${constraint}`);
  };
  const pattern = parameter.AllowedPattern === undefined ? undefined : compilePattern(parameter.AllowedPattern, path);
  // CloudFormation trims each member of a list value.
  const elements = listElement === undefined ? [raw] : raw.split(',').map((element) => element.trim());
  for (const element of elements) {
    if (elementType === 'Number') checkNumber(element, parameter, shown, fail);
    if (parameter.AllowedValues && !parameter.AllowedValues.map(String).includes(element)) {
      fail(`value ${shown(element)} is not one of the AllowedValues ${JSON.stringify(parameter.AllowedValues)}`);
    }
    if (pattern && !pattern.test(element)) {
      fail(`value ${shown(element)} does not match the AllowedPattern ${parameter.AllowedPattern}`);
    }
  }
  if (type === 'String') checkLength(raw, parameter, shown, fail);
  return { type, value: listElement === undefined ? raw : elements, noEcho };
}

/** The AllowedPattern, anchored: CloudFormation matches the whole value. */
function compilePattern(pattern: string, path: string): RegExp {
  try {
    return new RegExp(`^(?:${pattern})$`);
  } catch (error) {
    throw new TemplateError(`${path}: AllowedPattern ${pattern} is not a valid regular expression: ${(error as Error).message}`);
  }
}

function checkNumber(value: string, parameter: DeclaredParameter, shown: (value: string) => string, fail: (problem: string) => never): void {
  if (!NUMBER.test(value)) fail(`value ${shown(value)} is not a number`);
  const number = Number(value);
  if (parameter.MinValue !== undefined && number < Number(parameter.MinValue)) fail(`value ${shown(value)} is below the MinValue ${parameter.MinValue}`);
  if (parameter.MaxValue !== undefined && number > Number(parameter.MaxValue)) fail(`value ${shown(value)} is above the MaxValue ${parameter.MaxValue}`);
}

function checkLength(value: string, parameter: DeclaredParameter, shown: (value: string) => string, fail: (problem: string) => never): void {
  if (parameter.MinLength !== undefined && value.length < Number(parameter.MinLength)) {
    fail(`value ${shown(value)} is shorter than the MinLength ${parameter.MinLength}`);
  }
  if (parameter.MaxLength !== undefined && value.length > Number(parameter.MaxLength)) {
    fail(`value ${shown(value)} is longer than the MaxLength ${parameter.MaxLength}`);
  }
}
