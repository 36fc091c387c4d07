/**
 * Check (e): every SAM function is built by esbuild with the same build Metadata — only
 * `BuildProperties.EntryPoints` may differ — and its entry points exist (relative to its
 * CodeUri, as `sam build` reads them). The Metadata most functions share is the reference.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { isJsonObject, type JsonObject } from '../template/intrinsics.js';
import type { Json } from '../template/parse.js';
import type { CheckContext, Finding } from './context.js';

/** Check (e). */
export function checkBuildMetadata(context: CheckContext): Finding[] {
  const { template, dir } = context;
  const findings: Finding[] = [];
  const report = (where: string, message: string): void => {
    findings.push({ severity: 'error', where, message, check: 'build' });
  };
  const functions = Object.entries(template.Resources).filter(
    ([, resource]) => resource.Type === 'AWS::Serverless::Function' && resource.Properties?.InlineCode === undefined && resource.Properties?.PackageType !== 'Image',
  );
  // What must be the same everywhere: the Metadata without EntryPoints.
  const shared = (metadata: Json | undefined): JsonObject => {
    if (!isJsonObject(metadata)) return {};
    const buildProperties = isJsonObject(metadata.BuildProperties) ? metadata.BuildProperties : {};
    return { ...metadata, BuildProperties: Object.fromEntries(Object.entries(buildProperties).filter(([key]) => key !== 'EntryPoints')) };
  };
  const counts = new Map<string, number>();
  for (const [, resource] of functions) {
    const key = canonical(shared(resource.Metadata));
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const mostCommon = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  const [referenceId, referenceResource] = functions.find(([, resource]) => canonical(shared(resource.Metadata)) === mostCommon) ?? [];
  const reference = shared(referenceResource?.Metadata);
  const globalCodeUri = template.Globals?.Function?.CodeUri;

  for (const [id, resource] of functions) {
    const metadata = resource.Metadata;
    const where = `Resources.${id}.Metadata`;
    if (!isJsonObject(metadata) || metadata.BuildMethod !== 'esbuild' || !isJsonObject(metadata.BuildProperties)) {
      report(where, 'the function is not built with esbuild (Metadata.BuildMethod: esbuild with BuildProperties)');
      continue;
    }
    const differing = differences(shared(metadata), reference);
    if (differing.length > 0) {
      report(where, `${differing.join(', ')} differ from the build Metadata the other functions share (see ${referenceId}); only EntryPoints may differ`);
    }
    const entryPoints = metadata.BuildProperties.EntryPoints;
    if (!Array.isArray(entryPoints) || entryPoints.length === 0 || !entryPoints.every((entry) => typeof entry === 'string')) {
      report(`${where}.BuildProperties.EntryPoints`, 'must list the entry point files');
      continue;
    }
    const codeUri = resource.Properties?.CodeUri ?? globalCodeUri ?? '.';
    if (typeof codeUri !== 'string') continue;
    entryPoints.forEach((entry, index) => {
      const file = resolve(dir, codeUri, entry as string);
      if (!existsSync(file) || !statSync(file).isFile()) report(`${where}.BuildProperties.EntryPoints[${index}]`, `${entry} does not exist (looked for ${file})`);
    });
  }
  return findings;
}

/** The keys (`BuildProperties.X` one level down) whose values differ. */
function differences(metadata: JsonObject, reference: JsonObject): string[] {
  const keys = [...new Set([...Object.keys(metadata), ...Object.keys(reference)])];
  return keys.flatMap((key) => {
    const [mine, theirs] = [metadata[key], reference[key]];
    if (isJsonObject(mine) && isJsonObject(theirs)) return differences(mine, theirs).map((inner) => `${key}.${inner}`);
    return canonical(mine ?? null) === canonical(theirs ?? null) ? [] : [key];
  });
}

/** JSON with object keys sorted, so that equal values give equal text. */
function canonical(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isJsonObject(value)) {
    return `{${Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${canonical(value[key] as Json)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
