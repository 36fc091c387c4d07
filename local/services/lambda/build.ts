/**
 * Bundles a function the way `sam build` does for `BuildMethod: esbuild`: the template's
 * `Metadata.BuildProperties` (EntryPoints, Format, Target, Minify, Sourcemap, OutExtension,
 * Banner, External, …) are passed to esbuild unchanged, so the local runtime, `npm run build` and
 * `sam build` produce the same artifact.
 *
 * Bundles are cached by content (local/cache.ts): a bundle is kept under the hash of its build
 * options and of the content of every file esbuild read for it, and a start whose files are
 * unchanged reuses it without running esbuild (whose service process local/esbuild.ts stops once
 * no build runs).
 *
 * LIMITATIONS: a file that would change how an import resolves without any input changing (a new
 * `foo.ts` beside the `foo/index.ts` an import resolved to) is not noticed; `npm run build` or a
 * changed input rebuilds.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { version as esbuildVersion, type BuildOptions } from 'esbuild';
import { esbuild } from '../../esbuild.js';
import { cacheDir, contentHash } from '../../cache.js';
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
 * Bundles one function (or finds its cached bundle) and returns the path of the module that holds its handler.
 *
 * @param codeUri the function's CodeUri, absolute
 * @param handler the function's Handler (`file.export`)
 * @param outDir where to write the bundle; the content-addressed cache when absent
 */
export async function bundleFunction(logicalId: string, metadata: Record<string, Json>, codeUri: string, handler: string, outDir?: string): Promise<string> {
  if (metadata.BuildMethod !== 'esbuild') {
    throw new TemplateError(`Resources.${logicalId}.Metadata.BuildMethod: only esbuild builds are supported locally`);
  }
  const properties = metadata.BuildProperties as unknown as BuildProperties | undefined;
  if (!properties?.EntryPoints?.length) {
    throw new TemplateError(`Resources.${logicalId}.Metadata.BuildProperties.EntryPoints: required`);
  }
  const outExtension = keyValues(properties.OutExtension);
  const options: BuildOptions = {
    entryPoints: properties.EntryPoints.map((entry) => resolve(codeUri, entry)),
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
  };
  const bundleDir = outDir ?? (await cachedBuild(options));
  if (outDir !== undefined) await bundle({ ...options, outdir: outDir });
  const file = handler.slice(0, handler.lastIndexOf('.'));
  const extension = outExtension['.js'] ?? '.js';
  const bundlePath = join(bundleDir, `${file}${extension}`);
  if (!existsSync(bundlePath)) {
    throw new TemplateError(`Resources.${logicalId}.Properties.Handler: ${handler} names ${file}${extension}, which the build did not produce`);
  }
  return bundlePath;
}

const CACHE_DIR = cacheDir('bundles');

/** The folder holding the bundle of `options`: a cached one when no input changed, else a new build. */
async function cachedBuild(options: BuildOptions): Promise<string> {
  const optionsKey = contentHash(JSON.stringify({ esbuildVersion, options }));
  const inputsFile = join(CACHE_DIR, `${optionsKey}.inputs.json`);
  if (existsSync(inputsFile)) {
    const cached = join(CACHE_DIR, `${optionsKey}-${inputsHash(JSON.parse(readFileSync(inputsFile, 'utf8')) as string[])}`);
    if (existsSync(cached)) return cached;
  }
  const building = join(CACHE_DIR, `building-${randomUUID()}`);
  const inputs = await bundle({ ...options, outdir: building });
  const target = join(CACHE_DIR, `${optionsKey}-${inputsHash(inputs)}`);
  try {
    renameSync(building, target);
  } catch (error) {
    // Another stack built the same inputs meanwhile: its bundle is this one.
    if (!existsSync(target)) throw error;
    rmSync(building, { recursive: true, force: true });
  }
  const temporary = `${inputsFile}.${randomUUID()}`;
  writeFileSync(temporary, JSON.stringify(inputs));
  renameSync(temporary, inputsFile);
  return target;
}

/** Runs esbuild; returns the absolute paths of the files it read. */
async function bundle(options: BuildOptions): Promise<string[]> {
  const { metafile } = await esbuild({ ...options, metafile: true });
  return Object.keys(metafile.inputs).map((input) => resolve(String(options.absWorkingDir), input));
}

/** One hash of the files' paths and contents; a file that is gone makes a hash no build has. */
function inputsHash(files: readonly string[]): string {
  return contentHash(...files.flatMap((file) => {
    try {
      return [file, readFileSync(file)];
    } catch {
      return [file, randomUUID()];
    }
  }));
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
