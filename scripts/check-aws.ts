/**
 * `npm run check:aws`: AWS's own validators on template.yaml, one line per step with its duration:
 * cfn-lint, `sam validate --lint`, then `sam build`. The tools are the pinned ones in `.venv/`
 * (scripts/install-aws-tools.sh); without them this stops with one line saying how to install them.
 */
import { spawnSync } from 'node:child_process';
import { awsToolPath, INSTALL_HINT, missingAwsTools, PROJECT_ROOT, samEnvironment } from './aws-tools.js';

const steps: { name: string; tool: 'cfn-lint' | 'sam'; args: string[] }[] = [
  { name: 'cfn-lint template.yaml', tool: 'cfn-lint', args: ['template.yaml'] },
  { name: 'sam validate --lint', tool: 'sam', args: ['validate', '--lint'] },
  { name: 'sam build', tool: 'sam', args: ['build'] },
];

function main(): number {
  const missing = missingAwsTools(['cfn-lint', 'sam']);
  if (missing.length > 0) {
    console.error(`check:aws needs ${missing.join(', ')} from .venv/: ${INSTALL_HINT}`);
    return 1;
  }
  for (const { name, tool, args } of steps) {
    const started = performance.now();
    const result = spawnSync(awsToolPath(tool), args, { cwd: PROJECT_ROOT, env: samEnvironment(), encoding: 'utf8' });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    if (result.status !== 0) {
      console.error(`✗ ${name} (${seconds} s)\n${result.stdout}${result.stderr}`);
      return 1;
    }
    console.log(`✓ ${name} (${seconds} s)`);
  }
  return 0;
}

process.exitCode = main();
