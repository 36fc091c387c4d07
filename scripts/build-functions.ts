/**
 * `npm run build`: bundles every function of template.yaml as `sam build` does (esbuild with the
 * function's Metadata.BuildProperties, bundle, platform node), without Python, into
 * `dist/functions/<LogicalId>/`, and prints one line per function with its bundle's size. The
 * template goes through the local SAM transform, so Globals (CodeUri) apply as on AWS; the
 * esbuild call is the local runtime's (local/services/lambda/build.ts), so the runtime, this
 * script and `sam build` cannot drift apart. `sam build`'s own output, .aws-sam/build/, is left alone.
 */
import { rmSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleFunction } from '../local/services/lambda/build.js';
import { loadTemplate } from '../local/template/loader.js';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT_DIR = join(PROJECT_ROOT, 'dist', 'functions');

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

/** A bundled function. */
export interface BuiltFunction {
  logicalId: string;
  /** The module holding the handler, e.g. `dist/functions/CdcEnrichmentFunction/handler.mjs`. */
  bundlePath: string;
  bytes: number;
}

/** Bundles every function of template.yaml into `<outDir>/<LogicalId>/`, replacing what an earlier build left there. */
export async function buildFunctions(outDir = OUT_DIR): Promise<BuiltFunction[]> {
  const { template, resourcesOfType } = loadTemplate(join(PROJECT_ROOT, 'template.yaml'));
  return Promise.all(resourcesOfType('AWS::Lambda::Function').map(async (logicalId) => {
    const { Metadata = {}, Properties = {} } = template.Resources[logicalId]!;
    const { Code, Handler } = Properties as { Code: { LocalPath: string }; Handler: string };
    const functionDir = join(outDir, logicalId);
    rmSync(functionDir, { recursive: true, force: true });
    const bundlePath = await bundleFunction(logicalId, Metadata, Code.LocalPath, Handler, functionDir);
    return { logicalId, bundlePath, bytes: statSync(bundlePath).size };
  }));
}

async function main(): Promise<void> {
  const built = await buildFunctions();
  const width = Math.max(...built.map(({ logicalId }) => logicalId.length));
  for (const { logicalId, bundlePath, bytes } of built) {
    console.log(`${logicalId.padEnd(width)}  ${relative(PROJECT_ROOT, bundlePath)}  ${kib(bytes)}`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
