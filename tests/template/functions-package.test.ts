/**
 * functions/ is the package `sam build` copies and installs (CodeUri: functions/, UseNpmCi): its
 * dependencies and their locked versions must be the root's, which the tests and the local
 * runtime run against.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { deriveFunctionsLock, FUNCTIONS_DIR, functionsLockText } from '../../scripts/functions-lock.js';
import { PROJECT_ROOT } from '../../scripts/aws-tools.js';

/** The fields of a package.json this test reads. */
interface PackageJson {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

const readJson = (path: string): PackageJson => JSON.parse(readFileSync(path, 'utf8')) as PackageJson;

describe('the functions package', () => {
  it('depends on exactly the versions the root package pins', () => {
    // Prepare
    const root = readJson(join(PROJECT_ROOT, 'package.json'));
    const functions = readJson(join(FUNCTIONS_DIR, 'package.json'));

    // Act
    const differing = Object.entries<string>(functions.dependencies)
      .filter(([name, version]) => (root.dependencies[name] ?? root.devDependencies[name]) !== version);

    // Assess
    expect(differing).toEqual([]);
    expect(Object.keys(root.dependencies).filter((name) => !(name in functions.dependencies))).toEqual([]);
  });

  it('is locked to the root lockfile (npm run lock:functions writes it)', () => {
    // Act
    const committed = readFileSync(join(FUNCTIONS_DIR, 'package-lock.json'), 'utf8');

    // Assess
    expect(committed).toBe(functionsLockText());
  });

  it('takes a dependency the root installs only for development as a production one, nested paths as they are', () => {
    // Prepare
    const rootLock = {
      name: 'root', version: '1.0.0', lockfileVersion: 3, requires: true,
      packages: {
        '': { name: 'root' },
        'node_modules/tool': { version: '2.0.0', dev: true, dependencies: { helper: '^1.0.0' }, optionalDependencies: { 'tool-linux': '2.0.0', 'tool-absent': '2.0.0' } },
        'node_modules/tool/node_modules/helper': { version: '1.5.0', dev: true },
        'node_modules/helper': { version: '3.0.0' },
        'node_modules/tool-linux': { version: '2.0.0', devOptional: true },
        'node_modules/unrelated': { version: '9.9.9' },
      },
    };

    // Act
    const lock = deriveFunctionsLock(rootLock, { name: 'fns', version: '1.0.0', dependencies: { tool: '2.0.0' } });

    // Assess
    expect(lock.packages).toEqual({
      '': { name: 'fns', version: '1.0.0', dependencies: { tool: '2.0.0' } },
      'node_modules/tool': { version: '2.0.0', dependencies: { helper: '^1.0.0' }, optionalDependencies: { 'tool-linux': '2.0.0', 'tool-absent': '2.0.0' } },
      'node_modules/tool-linux': { version: '2.0.0', optional: true },
      'node_modules/tool/node_modules/helper': { version: '1.5.0' },
    });
  });

  it('refuses a dependency the root lockfile lacks', () => {
    // Act + Assess
    expect(() => deriveFunctionsLock({ name: 'root', version: '1.0.0', lockfileVersion: 3, requires: true, packages: { '': {} } }, { name: 'fns', version: '1.0.0', dependencies: { missing: '1.0.0' } }))
      .toThrow('package-lock.json has no missing for the functions: run npm install at the root first');
  });
});
