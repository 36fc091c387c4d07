/**
 * The SAM ecosystem's own tools (cfn-lint, SAM CLI and its samtranslator) are Python packages,
 * installed pinned into the checkout's git-ignored virtualenv `.venv/` by
 * `scripts/install-aws-tools.sh` (which `.ci/run` calls). `npm test` must not need Python on a
 * user's machine, so a suite that needs them is skipped there with the reason printed; under
 * `CI=true` a missing tool fails the suite instead, so CI can never pass by skipping.
 */
import { describe, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project's root folder. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The virtualenv's executables. */
export const VENV_BIN = join(PROJECT_ROOT, '.venv', 'bin');

/** How a user installs the tools (the same line `npm run check:aws` prints). */
export const INSTALL_HINT = 'run scripts/install-aws-tools.sh (Python 3.10+) to install them into .venv/';

/** The tools a suite can ask for: executables in `.venv/bin/`. */
export type AwsTool = 'cfn-lint' | 'sam' | 'python';

/** The path of `tool` in the virtualenv. */
export function awsToolPath(tool: AwsTool): string {
  return join(VENV_BIN, tool);
}

/** The tools of `tools` that are not installed. */
export function missingAwsTools(tools: readonly AwsTool[]): AwsTool[] {
  return tools.filter((tool) => !existsSync(awsToolPath(tool)));
}

/**
 * `describe(name, body)` when every tool in `tools` is installed. Otherwise: under CI=true a
 * suite whose one test fails naming the missing tools; elsewhere a skipped suite whose name
 * says why, with the reason printed.
 */
export function describeWithAwsTools(name: string, tools: readonly AwsTool[], body: () => void): void {
  const missing = missingAwsTools(tools);
  if (missing.length === 0) {
    describe(name, body);
    return;
  }
  const reason = `needs ${missing.join(', ')} from .venv/: ${INSTALL_HINT}`;
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('has the Python tools it needs', () => {
        throw new Error(`CI=true and ${reason}`);
      });
    });
    return;
  }
  console.log(`Skipping "${name}": ${reason}`);
  describe.skip(`${name} (skipped: ${reason})`, body);
}
