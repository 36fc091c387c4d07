import { describe, it, expect } from '@jest/globals';
import { parseTemplate } from '../../local/template/parse.js';
describe('smoke', () => { it('parses tags', () => {
  const t = parseTemplate('Resources:\n  A:\n    Type: X\n    Properties:\n      B: !GetAtt T.StreamArn\n      C: !Sub "x-${AWS::Region}"\n      D: !Join ["", [a, !Ref P]]\n      E: !If [Cond, !Ref A, !Ref "AWS::NoValue"]\n');
  console.log(JSON.stringify(t));
  expect(t.Resources.A!.Properties!.B).toEqual({'Fn::GetAtt':['T','StreamArn']});
}); });
