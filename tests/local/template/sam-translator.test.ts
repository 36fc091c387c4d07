/**
 * The local SAM transform against AWS's own: samtranslator (installed with aws-sam-cli in .venv/)
 * run offline by scripts/sam-translate.py. Every expectation comes from the translator's output
 * at test time, so the comparison follows the templates as they change.
 */
import { expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { awsToolPath, describeWithAwsTools, PROJECT_ROOT } from '../../helpers/aws-tools.js';
import { isJsonObject, pseudoParameters, type JsonObject } from '../../../local/template/intrinsics.js';
import { readTemplate, type Json, type Template, type TemplateResource } from '../../../local/template/parse.js';
import { applySamTransform } from '../../../local/template/sam.js';

const FIXTURES = join(PROJECT_ROOT, 'tests/local/template/fixtures');
const TEMPLATES = [join(PROJECT_ROOT, 'template.yaml'), join(FIXTURES, 'sam-app.yaml'), join(FIXTURES, 'sam-features.yaml')];
/** The pseudo parameters the local runtime uses by default (the script passes the same ones to the translator). */
const PSEUDO = pseudoParameters({ region: 'us-east-1', accountId: '000000000000', stackName: 'wims-local' });
/** The bucket scripts/sam-translate.py puts local paths in, the path being the key. */
const PLACEHOLDER_BUCKET = 'local-path';
const DEPLOYMENT = 'AWS::ApiGateway::Deployment';

function translateWithSam(file: string): Template {
  // stderr is kept for the error (the translator also logs feature-toggle notes there).
  const output = execFileSync(awsToolPath('python'), [join(PROJECT_ROOT, 'scripts/sam-translate.py'), file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return JSON.parse(output) as Template;
}

/** The local transform with the parameter defaults the runtime (and the translator) use. */
function translateLocally(file: string): Template {
  const template = readTemplate(file);
  const parameters: Record<string, Json> = { ...PSEUDO };
  for (const [name, parameter] of Object.entries(template.Parameters ?? {})) {
    if (parameter.Default !== undefined) parameters[name] = parameter.Default;
  }
  return applySamTransform(template, { baseDir: dirname(file), parameters });
}

/**
 * The deployment id ends in a hash of the API definition, which SAM takes over Python's `str()`
 * of its swagger dict; the local transform hashes its own serialisation. Both are
 * `<Api>Deployment<10 hex digits>`, so each is renamed to its prefix, everywhere it is referenced.
 */
function withoutDeploymentHashes(template: Template): Template {
  const renamed = new Map<string, string>();
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Type === DEPLOYMENT) renamed.set(id, id.replace(/[0-9a-f]{10}$/, ''));
  }
  const rename = (value: Json): Json => {
    if (typeof value === 'string') return renamed.get(value) ?? value;
    if (Array.isArray(value)) return value.map(rename);
    return isJsonObject(value) ? Object.fromEntries(Object.entries(value).map(([key, item]) => [key, rename(item as Json)])) : value;
  };
  const resources = Object.fromEntries(
    Object.entries(template.Resources).map(([id, resource]) => [renamed.get(id) ?? id, rename(resource as unknown as Json)]),
  );
  return { ...template, Resources: resources as unknown as Record<string, TemplateResource>, Outputs: rename((template.Outputs ?? {}) as Json) as Template['Outputs'] };
}

/**
 * What legitimately differs between a deployed template and a local one, made equal:
 * - Lambda `Code`: `sam deploy` uploads CodeUri to S3 (the script names the local path as the
 *   S3 key); the local transform points at the folder. The two must name the same folder.
 * - State machine `DefinitionS3Location` vs `DefinitionString`: likewise for DefinitionUri; the
 *   local transform inlines the file, whose text must be the file's.
 * - The deployment's `Description` carries SAM's 40-digit hash of the definition (see above).
 */
function normalised(template: Template, baseDir: string, side: 'aws' | 'local'): Record<string, TemplateResource> {
  const resources = withoutDeploymentHashes(template).Resources;
  for (const resource of Object.values(resources)) {
    const properties = (resource.Properties ?? {}) as JsonObject;
    if (resource.Type === 'AWS::Lambda::Function' && isJsonObject(properties.Code)) {
      const code = properties.Code;
      if (side === 'aws' && code.S3Bucket === PLACEHOLDER_BUCKET) properties.Code = { Folder: resolve(baseDir, code.S3Key as string) };
      if (side === 'local' && code.LocalPath !== undefined) properties.Code = { Folder: code.LocalPath };
    }
    if (resource.Type === 'AWS::StepFunctions::StateMachine') {
      const location = properties.DefinitionS3Location;
      if (side === 'aws' && isJsonObject(location) && location.Bucket === PLACEHOLDER_BUCKET) {
        delete properties.DefinitionS3Location;
        properties.DefinitionString = readFileSync(resolve(baseDir, location.Key as string), 'utf8');
      }
    }
    if (resource.Type === DEPLOYMENT) delete properties.Description;
  }
  return resources;
}

describeWithAwsTools('the local SAM transform matches samtranslator', ['python'], () => {
  it.each(TEMPLATES.map((file) => [file.slice(PROJECT_ROOT.length)]))('%s: the same resources, ids and types', (file) => {
    // Prepare
    const path = join(PROJECT_ROOT, file);

    // Act
    const aws = withoutDeploymentHashes(translateWithSam(path)).Resources;
    const local = withoutDeploymentHashes(translateLocally(path)).Resources;

    // Assess
    const types = (resources: Record<string, TemplateResource>): Record<string, string> =>
      Object.fromEntries(Object.entries(resources).map(([id, resource]) => [id, resource.Type]));
    expect(types(local)).toEqual(types(aws));
  });

  it.each(TEMPLATES.map((file) => [file.slice(PROJECT_ROOT.length)]))('%s: every resource with the same properties and attributes', (file) => {
    // Prepare
    const path = join(PROJECT_ROOT, file);

    // Act
    const aws = normalised(translateWithSam(path), dirname(path), 'aws');
    const local = normalised(translateLocally(path), dirname(path), 'local');

    // Assess
    for (const [id, resource] of Object.entries(aws)) {
      expect({ id, resource: local[id] }).toEqual({ id, resource });
    }
  });

  it.each(TEMPLATES.map((file) => [file.slice(PROJECT_ROOT.length)]))('%s: the same outputs (SAM implicit references included)', (file) => {
    // Prepare
    const path = join(PROJECT_ROOT, file);

    // Act
    const aws = withoutDeploymentHashes(translateWithSam(path));
    const local = withoutDeploymentHashes(translateLocally(path));

    // Assess
    expect(local.Outputs).toEqual(aws.Outputs);
  });
});
