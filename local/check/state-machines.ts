/**
 * Checks (c) and (d) of state machine definitions (a SAM state machine's DefinitionUri file or
 * inline Definition, a CloudFormation one's Definition or DefinitionString):
 * (c) every `${Name}` placeholder is one of the state machine's DefinitionSubstitutions, and
 * every substitution is used; (d) the definition is valid Amazon States Language according to
 * asl-validator (placeholders stay in place: they sit inside strings, which keeps the JSON
 * valid, and asl-validator accepts them where ARNs go).
 *
 * LIMITATIONS: definitions in S3 and definitions built by intrinsic functions other than a
 * plain string are not checked.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { relative, resolve } from 'node:path';
import { isJsonObject } from '../template/intrinsics.js';
import type { Json } from '../template/parse.js';
import { isIntrinsic, type CheckContext, type Finding } from './context.js';

interface AslValidation {
  isValid: boolean;
  errors: Array<{ 'Error code': string; Message: string }>;
}
// asl-validator is CommonJS without type declarations.
const validateAsl = createRequire(import.meta.url)('asl-validator') as (definition: unknown) => AslValidation;

interface Definition {
  text: string;
  /** Where the definition is given, and how to name it in messages. */
  where: string;
  source: string;
}

/** Checks (c) and (d). */
export function checkStateMachines(context: CheckContext): Finding[] {
  const findings: Finding[] = [];
  for (const [id, resource] of Object.entries(context.template.Resources)) {
    const properties = resource.Properties ?? {};
    const report = (check: 'substitutions' | 'asl', where: string, message: string): void => {
      findings.push({ severity: 'error', where, message, check });
    };
    let definition: Definition | undefined;
    try {
      definition = readDefinition(resource.Type, properties, `Resources.${id}.Properties`, context);
    } catch (error) {
      report('asl', `Resources.${id}.Properties`, `the definition cannot be read: ${(error as Error).message}`);
      continue;
    }
    if (!definition) continue;
    const { text, where, source } = definition;

    const substitutions = isJsonObject(properties.DefinitionSubstitutions) ? Object.keys(properties.DefinitionSubstitutions) : [];
    const placeholders = new Set([...text.matchAll(/\$\{([^}]*)\}/g)].map((match) => match[1] as string));
    for (const name of placeholders) {
      if (!substitutions.includes(name)) report('substitutions', where, `\${${name}} in ${source} is not one of the DefinitionSubstitutions`);
    }
    for (const name of substitutions) {
      if (!placeholders.has(name)) {
        report('substitutions', `Resources.${id}.Properties.DefinitionSubstitutions.${name}`, `${name} is not used by ${source}`);
      }
    }

    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      report('asl', where, `${source} is not JSON: ${(error as Error).message}`);
      continue;
    }
    const { isValid, errors } = validateAsl(parsed);
    if (!isValid) for (const error of errors) report('asl', where, `${source}: ${error['Error code']}: ${error.Message}`);
  }
  return findings;
}

function readDefinition(type: string, properties: Record<string, Json>, path: string, context: CheckContext): Definition | undefined {
  const inline = (key: string): Definition | undefined => {
    const value = properties[key];
    if (isJsonObject(value) && !isIntrinsic(value)) return { text: JSON.stringify(value), where: `${path}.${key}`, source: `the ${key}` };
    return typeof value === 'string' ? { text: value, where: `${path}.${key}`, source: `the ${key}` } : undefined;
  };
  if (type === 'AWS::Serverless::StateMachine') {
    const uri = properties.DefinitionUri;
    if (typeof uri !== 'string') return inline('Definition');
    const file = resolve(context.dir, uri);
    return { text: readFileSync(file, 'utf8'), where: `${path}.DefinitionUri`, source: relative(context.dir, file) };
  }
  if (type === 'AWS::StepFunctions::StateMachine') return inline('Definition') ?? inline('DefinitionString');
  return undefined;
}
