/**
 * samconfig.toml is read by the SAM CLI itself: each environment must parse, and `sam validate`
 * with it must pass without AWS credentials (its validate sections turn on --lint).
 */
import { expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { awsToolPath, describeWithAwsTools, PROJECT_ROOT } from '../helpers/aws-tools.js';

function samValidate(configEnv: string): { status: number | null; output: string } {
  const result = spawnSync(awsToolPath('sam'), ['validate', '--config-env', configEnv], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, SAM_CLI_TELEMETRY: '0' },
    encoding: 'utf8',
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describeWithAwsTools('samconfig.toml through the SAM CLI', ['sam'], () => {
  it.each(['default', 'prod'])('the %s environment validates the template with --lint', (configEnv) => {
    // Act
    const { status, output } = samValidate(configEnv);

    // Assess
    expect(output).toContain('is a valid SAM Template');
    expect(status).toBe(0);
  }, 60_000);
});
