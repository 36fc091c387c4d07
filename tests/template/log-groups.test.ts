import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { checkTemplate } from '../../local/check/index.js';

const SLOW = 120_000; // loading the resource specification takes seconds

/** The findings of the log-groups check on template.yaml as it was before the fixes (3c, 3h). */
function oldTemplateFindings(): string[] {
  const directory = mkdtempSync(join(tmpdir(), 'wims-log-groups-'));
  try {
    writeFileSync(join(directory, 'template.yaml'), execFileSync('git', ['show', '0426072:template.yaml'], { encoding: 'utf8' }));
    symlinkSync(resolve('statemachine'), join(directory, 'statemachine'));
    return checkTemplate(join(directory, 'template.yaml')).filter((finding) => finding.check === 'log-groups').map(({ severity, where }) => `${severity} ${where}`);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

describe('log-groups check', () => {
  it('flags the old template\'s GetAtt Arn rule target and its state machine log groups outside /aws/vendedlogs/', () => {
    // Act
    const findings = oldTemplateFindings();

    // Assess
    expect(findings.sort()).toEqual([
      'error Resources.LogEverythingRule.Properties.Targets.0.Arn',
      'warning Resources.FulfillmentStateMachineLogGroup.Properties.LogGroupName',
      'warning Resources.OrdersStateMachineLogGroup.Properties.LogGroupName',
    ]);
  }, SLOW);

  it('finds nothing in template.yaml', () => {
    expect(checkTemplate('template.yaml').filter((finding) => finding.check === 'log-groups')).toEqual([]);
  }, SLOW);
});
