/**
 * Where the SAM ecosystem's Python tools live: the checkout's git-ignored virtualenv `.venv/`,
 * installed pinned by `scripts/install-aws-tools.sh`. Shared by `npm run check:aws` and the test
 * helper tests/helpers/aws-tools.ts (which cannot be imported outside Jest).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project's root folder. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The virtualenv's executables. */
export const VENV_BIN = join(PROJECT_ROOT, '.venv', 'bin');

/** How a user installs the tools (the same line `npm run check:aws` prints). */
export const INSTALL_HINT = 'run scripts/install-aws-tools.sh (Python 3.10+) to install them into .venv/';

/** The tools a caller can ask for: executables in `.venv/bin/`. */
export type AwsTool = 'cfn-lint' | 'sam' | 'python' | 'aws';

/** The path of `tool` in the virtualenv. */
export function awsToolPath(tool: AwsTool): string {
  return join(VENV_BIN, tool);
}

/** The tools of `tools` that are not installed. */
export function missingAwsTools(tools: readonly AwsTool[]): AwsTool[] {
  return tools.filter((tool) => !existsSync(awsToolPath(tool)));
}

/** The environment to run the SAM CLI in: its esbuild workflow runs `node`, `npm` and `esbuild` from PATH, the project's Node 22 first. */
export function samEnvironment(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: `${join(PROJECT_ROOT, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`,
    SAM_CLI_TELEMETRY: '0',
  };
}
