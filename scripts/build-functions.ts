/**
 * `npm run build`: bundles every AWS::Serverless::Function in template.yaml as `sam build` does
 * (esbuild with the function's Metadata.BuildProperties, bundle, platform node) into
 * `.aws-sam/build/<LogicalId>/`, and prints one line per function with its bundle's size.
 * The esbuild call itself is the local runtime's (local/services/lambda/build.ts), so the
 * runtime, this script and `sam build` cannot drift apart.
 */
import { rmSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleFunction } from '../local/services/lambda/build.js';
import { readTemplate, type Json } from '../local/template/parse.js';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Where `sam build` puts its artifacts. */
const SAM_BUILD_DIR = join(PROJECT_ROOT, '.aws-sam', 'build');

/** A built function. */
export interface BuiltFunction {
  logicalId: string;
  /** The module holding the handler, e.g. `.aws-sam/build/CdcEnrichmentFunction/handler.mjs`. */
  bundlePath: string;
  bytes: number;
}

/**
 * Bundles one function from its template `Metadata` into `<outDir>/<logicalId>/`, replacing what
 * an earlier build left there.
 *
 * @param options the function's CodeUri (relative to the project root) and Handler; the
 *   defaults are what every function in template.yaml uses.
 */
export async function buildFunction(
  logicalId: string,
  metadata: Record<string, Json>,
  outDir: string,
  { codeUri = '.', handler = 'handler.handler' }: { codeUri?: string; handler?: string } = {},
): Promise<BuiltFunction> {
  const functionDir = join(outDir, logicalId);
  rmSync(functionDir, { recursive: true, force: true });
  const bundlePath = await bundleFunction(logicalId, metadata, resolve(PROJECT_ROOT, codeUri), handler, functionDir);
  return { logicalId, bundlePath, bytes: statSync(bundlePath).size };
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

async function main(): Promise<void> {
  const template = readTemplate(join(PROJECT_ROOT, 'template.yaml'));
  const functions = Object.entries(template.Resources).filter(([, resource]) => resource.Type === 'AWS::Serverless::Function');
  const built = await Promise.all(
    functions.map(([logicalId, { Metadata = {}, Properties = {} }]) =>
      buildFunction(logicalId, Metadata, SAM_BUILD_DIR, {
        ...(typeof Properties.CodeUri === 'string' && { codeUri: Properties.CodeUri }),
        ...(typeof Properties.Handler === 'string' && { handler: Properties.Handler }),
      }),
    ),
  );
  const width = Math.max(...built.map(({ logicalId }) => logicalId.length));
  for (const { logicalId, bundlePath, bytes } of built) {
    console.log(`${logicalId.padEnd(width)}  ${relative(PROJECT_ROOT, bundlePath)}  ${kib(bytes)}`);
  }
}

// Run only as a script, not when imported for buildFunction.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
