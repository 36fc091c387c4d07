/**
 * `npm run lock:functions`: writes functions/package-lock.json, the lockfile `sam build` installs
 * the functions' package from (`UseNpmCi`), as the part of the root package-lock.json that the
 * functions' dependencies reach. The root lockfile stays the one place versions are chosen, so
 * what SAM bundles is what the tests ran.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROJECT_ROOT } from './aws-tools.js';

/** One entry of a lockfile's `packages` (lockfileVersion 3). */
type LockEntry = {
  version?: string;
  dev?: boolean;
  devOptional?: boolean;
  optional?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [field: string]: unknown;
};
type Lockfile = { name: string; version: string; lockfileVersion: number; requires: boolean; packages: Record<string, LockEntry> };
type PackageJson = { name: string; version: string; dependencies: Record<string, string> };

export const FUNCTIONS_DIR = join(PROJECT_ROOT, 'functions');

/** Where Node finds `name` from the package installed at `from` (a lockfile path such as `node_modules/a`). */
function resolveFrom(packages: Record<string, LockEntry>, from: string, name: string): string | undefined {
  for (let base = from; ; base = base.slice(0, Math.max(0, base.lastIndexOf('/node_modules/')))) {
    const candidate = base === '' ? `node_modules/${name}` : `${base}/node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (base === '') return undefined;
  }
}

/** The functions' lockfile: every root entry their dependencies reach, installed as production dependencies. */
export function deriveFunctionsLock(rootLock: Lockfile, functionsPackage: PackageJson): Lockfile {
  const packages: Record<string, LockEntry> = {
    '': { name: functionsPackage.name, version: functionsPackage.version, dependencies: functionsPackage.dependencies },
  };
  const pending: Array<{ from: string; name: string; optional: boolean }> = Object.keys(functionsPackage.dependencies)
    .map((name) => ({ from: '', name, optional: false }));
  while (pending.length > 0) {
    const { from, name, optional } = pending.shift()!;
    const path = resolveFrom(rootLock.packages, from, name);
    if (path === undefined) {
      if (optional) continue;
      throw new Error(`package-lock.json has no ${name} for ${from || 'the functions'}: run npm install at the root first`);
    }
    if (packages[path]) continue;
    // The root installs some of these only for development (esbuild); here all of them are needed.
    const { dev: _dev, devOptional, ...entry } = rootLock.packages[path]!;
    packages[path] = devOptional ? { ...entry, optional: true } : entry;
    for (const dependency of Object.keys(entry.dependencies ?? {})) pending.push({ from: path, name: dependency, optional: false });
    for (const dependency of Object.keys(entry.optionalDependencies ?? {})) pending.push({ from: path, name: dependency, optional: true });
    for (const dependency of Object.keys(entry.peerDependencies ?? {})) {
      pending.push({ from: path, name: dependency, optional: entry.peerDependenciesMeta?.[dependency]?.optional ?? false });
    }
  }
  const sorted = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return { name: functionsPackage.name, version: functionsPackage.version, lockfileVersion: 3, requires: true, packages: sorted };
}

/** The lockfile as `npm run lock:functions` writes it. */
export function functionsLockText(): string {
  const rootLock = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package-lock.json'), 'utf8')) as Lockfile;
  const functionsPackage = JSON.parse(readFileSync(join(FUNCTIONS_DIR, 'package.json'), 'utf8')) as PackageJson;
  return `${JSON.stringify(deriveFunctionsLock(rootLock, functionsPackage), null, 2)}\n`;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeFileSync(join(FUNCTIONS_DIR, 'package-lock.json'), functionsLockText());
  console.log('wrote functions/package-lock.json from package-lock.json');
}
