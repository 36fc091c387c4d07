import { describe, expect, it } from '@jest/globals';
import { checkTemplate } from '../../local/check/index.js';

const SLOW = 120_000; // loading the resource specification takes seconds
// Carries issue 7's 3e as the template had it before the fix, and what the check must accept.
const FIXTURE = 'tests/template/fixtures/input-transformer-defects.yaml';
// Pipes templates with object-valued placeholders inside JSON strings, and what the check must accept.
const PIPES_FIXTURE = 'tests/template/fixtures/pipe-input-template-defects.yaml';

function inputTransformerFindings(path: string): Array<{ where: string; message: string }> {
  return checkTemplate(path).filter((finding) => finding.check === 'input-transformers').map(({ where, message }) => ({ where, message }));
}

describe('input-transformers check', () => {
  it('flags unquoted placeholders whose path some $or branch of the pattern does not require', () => {
    // Act
    const findings = inputTransformerFindings(FIXTURE);

    // Assess
    expect(findings).toEqual([
      {
        where: 'Resources.CustomerProblemRule.Properties.Targets.0.InputTransformer.InputPathsMap.paymentStatus',
        message: expect.stringContaining('(branch 1 of its 2 $or alternatives) may lack $.detail.data.NewImage.paymentStatus: the target would get invalid JSON'),
      },
      {
        where: 'Resources.LowStockRule.Properties.Targets.0.InputTransformer.InputPathsMap.productName',
        message: expect.stringContaining('an event the pattern matches may lack $.detail.data.NewImage.productName'),
      },
    ]);
  }, SLOW);

  it('flags a Pipes placeholder inside a JSON string that holds an object or array, not an unquoted string placeholder (Pipes quotes it)', () => {
    // Act
    const findings = inputTransformerFindings(PIPES_FIXTURE);

    // Assess
    const where = 'Resources.MangledPipe.Properties.TargetParameters.InputTemplate';
    expect(findings).toEqual([
      { where, message: expect.stringContaining('<$.dynamodb.NewImage.items.L> (a DynamoDB list) stands inside a JSON string: Pipes removes its internal quotes') },
      { where, message: expect.stringContaining('<aws.pipes.event.json> (the event as JSON) stands inside a JSON string') },
      { where, message: expect.stringContaining('<$.dynamodb.NewImage.address.M> (a DynamoDB map) stands inside a JSON string') },
    ]);
  }, SLOW);

  it('finds nothing in template.yaml', () => {
    expect(inputTransformerFindings('template.yaml')).toEqual([]);
  }, SLOW);
});
