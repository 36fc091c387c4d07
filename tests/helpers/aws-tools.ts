/**
 * The SAM ecosystem's own tools (cfn-lint, SAM CLI and its samtranslator) are Python packages,
 * installed pinned into the checkout's git-ignored virtualenv `.venv/` by
 * `scripts/install-aws-tools.sh` (which `.ci/run` calls). `npm test` must not need Python on a
 * user's machine, so a suite that needs them is skipped there with the reason printed; under
 * `CI=true` a missing tool fails the suite instead, so CI can never pass by skipping.
 */
import { describe, it } from '@jest/globals';
import { INSTALL_HINT, missingAwsTools, type AwsTool } from '../../scripts/aws-tools.js';

export { awsToolPath, PROJECT_ROOT, samEnvironment, type AwsTool } from '../../scripts/aws-tools.js';

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
