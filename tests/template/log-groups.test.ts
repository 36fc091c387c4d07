import { describe, expect, it } from '@jest/globals';
import { checkTemplate } from '../../local/check/index.js';

const SLOW = 120_000; // loading the resource specification takes seconds
// Carries issue 7's 3c and 3h as the template had them before the fixes.
const FIXTURE = 'tests/template/fixtures/log-group-defects.yaml';

function logGroupFindings(path: string): string[] {
  return checkTemplate(path).filter((finding) => finding.check === 'log-groups').map(({ severity, where }) => `${severity} ${where}`);
}

describe('log-groups check', () => {
  it('flags a GetAtt Arn rule target and a state machine log group outside /aws/vendedlogs/', () => {
    // Act
    const findings = logGroupFindings(FIXTURE);

    // Assess
    expect(findings.sort()).toEqual([
      'error Resources.LogEverythingRule.Properties.Targets.0.Arn',
      'warning Resources.WorkflowLogGroup.Properties.LogGroupName',
    ]);
  }, SLOW);

  it('finds nothing in template.yaml', () => {
    expect(logGroupFindings('template.yaml')).toEqual([]);
  }, SLOW);
});
