/**
 * Bundles a function the way `sam build` does for `BuildMethod: esbuild`: the template's
 * `Metadata.BuildProperties` (EntryPoints, Format, Target, Minify, Sourcemap, OutExtension,
 * Banner, External, …) are passed to esbuild unchanged, so the local runtime, `npm run build` and
 * `sam build` produce the same artifact.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { TemplateError, type Json } from '../../template/parse.js';

/** The esbuild properties SAM understands (see "Building Node.js Lambda functions with esbuild"). */
interface BuildProperties {
  EntryPoints: string[];
  Format?: 'esm' | 'cjs';
  Target?: string;
  Minify?: boolean;
  Sourcemap?: boolean;
  OutExtension?: string[];
  Banner?: string[];
  Footer?: string[];
  External?: string[];
  Loader?: string[];
  MainFields?: string[];
}

/** Parses `key=value` list entries, as SAM writes OutExtension, Banner and Loader. */
function keyValues(entries: string[] | undefined): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const entry of entries ?? []) {
    const equals = entry.indexOf('=');
    pairs[entry.slice(0, equals)] = entry.slice(equals + 1);
  }
  return pairs;
}

/**
 * Bundles one function into `outDir` and returns the path of the module that holds its handler.
 *
 * @param codeUri the function's CodeUri, absolute
 * @param handler the function's Handler (`file.export`)
 */
export async function bundleFunction(
  logicalId: string,
  metadata: Record<string, Json>,
  codeUri: string,
  handler: string,
  outDir: string,
): Promise<string> {
  if (metadata.BuildMethod !== 'esbuild') {
    throw new TemplateError(`Resources.${logicalId}.Metadata.BuildMethod: only esbuild builds are supported locally`);
  }
  const properties = metadata.BuildProperties as unknown as BuildProperties | undefined;
  if (!properties?.EntryPoints?.length) {
    throw new TemplateError(`Resources.${logicalId}.Metadata.BuildProperties.EntryPoints: required`);
  }
  const outExtension = keyValues(properties.OutExtension);
  await build({
    entryPoints: properties.EntryPoints.map((entry) => resolve(codeUri, entry)),
    outdir: outDir,
    bundle: true,
    platform: 'node',
    format: properties.Format ?? 'cjs',
    target: properties.Target ?? 'es2020',
    minify: properties.Minify ?? false,
    sourcemap: properties.Sourcemap ?? false,
    outExtension,
    banner: keyValues(properties.Banner),
    footer: keyValues(properties.Footer),
    external: properties.External ?? [],
    loader: keyValues(properties.Loader) as Record<string, 'js'>,
    ...(properties.MainFields ? { mainFields: properties.MainFields } : {}),
    absWorkingDir: codeUri,
    logLevel: 'silent',
  });
  const file = handler.slice(0, handler.lastIndexOf('.'));
  const extension = outExtension['.js'] ?? '.js';
  const bundlePath = join(outDir, `${file}${extension}`);
  if (!existsSync(bundlePath)) {
    throw new TemplateError(`Resources.${logicalId}.Properties.Handler: ${handler} names ${file}${extension}, which the build did not produce`);
  }
  return bundlePath;
}

/** The extensions Lambda's Node.js runtime tries, in its order, for a handler's module (aws-lambda-nodejs-runtime-interface-client, UserFunction). */
const HANDLER_MODULE_EXTENSIONS = ['.js', '.mjs', '.cjs'];

/**
 * The module that holds a handler in code that is built already (what `sam build` writes under
 * `.aws-sam/build/<LogicalId>/`), found as Lambda's Node.js runtime finds it in its task root.
 *
 * @param codeDir the function's built code folder, absolute
 * @param handler the function's Handler (`file.export`)
 */
export function builtHandlerModule(logicalId: string, codeDir: string, handler: string): string {
  const file = handler.slice(0, handler.lastIndexOf('.'));
  const found = HANDLER_MODULE_EXTENSIONS.map((extension) => join(codeDir, `${file}${extension}`)).find((path) => existsSync(path));
  if (!found) {
    throw new TemplateError(`Resources.${logicalId}.Properties.Handler: ${handler} names none of ${HANDLER_MODULE_EXTENSIONS.map((extension) => file + extension).join(', ')} in ${codeDir}`);
  }
  return found;
}
