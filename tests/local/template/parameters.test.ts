import { describe, expect, it } from '@jest/globals';
import { resolveParameters } from '../../../local/template/parameters.js';
import { TemplateError, type TemplateParameter } from '../../../local/template/parse.js';

describe('resolveParameters', () => {
  it('uses overrides over defaults, and returns lists for list types', () => {
    // Prepare
    const declared: Record<string, TemplateParameter> = {
      Stage: { Type: 'String', Default: 'dev' },
      Memory: { Type: 'Number', Default: 128 },
      Zones: { Type: 'CommaDelimitedList', Default: 'a, b ,c' },
      Ports: { Type: 'List<Number>', Default: '80,443' },
      Vpc: { Type: 'AWS::EC2::VPC::Id', Default: 'vpc-123' },
    };

    // Act
    const values = resolveParameters(declared, { Stage: 'prod', Ports: '8080' });

    // Assess
    expect(values).toEqual({
      Stage: { type: 'String', value: 'prod', noEcho: false },
      Memory: { type: 'Number', value: '128', noEcho: false },
      Zones: { type: 'CommaDelimitedList', value: ['a', 'b', 'c'], noEcho: false },
      Ports: { type: 'List<Number>', value: ['8080'], noEcho: false },
      Vpc: { type: 'AWS::EC2::VPC::Id', value: 'vpc-123', noEcho: false },
    });
  });

  it('keeps NoEcho, and never prints a NoEcho value in an error', () => {
    // Prepare
    const declared: Record<string, TemplateParameter> = { Secret: { Type: 'String', NoEcho: true, MinLength: 8 } };

    // Act
    const accepted = resolveParameters(declared, { Secret: 'long-enough' });
    const act = (): unknown => resolveParameters(declared, { Secret: 'short' });

    // Assess
    expect(accepted.Secret).toEqual({ type: 'String', value: 'long-enough', noEcho: true });
    expect(act).toThrow(new TemplateError('Parameters.Secret: value (NoEcho value) is shorter than the MinLength 8'));
  });

  it.each([
    ['a value outside AllowedValues', { Type: 'String', AllowedValues: ['dev', 'prod'] }, 'test', 'value "test" is not one of the AllowedValues ["dev","prod"]'],
    ['a value that only partly matches AllowedPattern', { Type: 'String', AllowedPattern: '[a-z]+' }, 'abc1', 'value "abc1" does not match the AllowedPattern [a-z]+'],
    ['a string over MaxLength', { Type: 'String', MaxLength: 3 }, 'abcd', 'value "abcd" is longer than the MaxLength 3'],
    ['a non-number', { Type: 'Number' }, '12a', 'value "12a" is not a number'],
    ['a number under MinValue', { Type: 'Number', MinValue: 1 }, '0', 'value "0" is below the MinValue 1'],
    ['a number over MaxValue', { Type: 'Number', MaxValue: 10 }, '10.5', 'value "10.5" is above the MaxValue 10'],
    ['a bad element of List<Number>', { Type: 'List<Number>' }, '1,x', 'value "x" is not a number'],
    ['a list element outside AllowedValues', { Type: 'CommaDelimitedList', AllowedValues: ['a', 'b'] }, 'a,c', 'value "c" is not one of the AllowedValues ["a","b"]'],
  ])('rejects %s', (_name, parameter, value, problem) => {
    // Prepare
    const declared = { P: parameter as TemplateParameter };

    // Act
    const act = (): unknown => resolveParameters(declared, { P: value });

    // Assess
    expect(act).toThrow(new TemplateError(`Parameters.P: ${problem}`));
  });

  it('adds the ConstraintDescription to the error', () => {
    // Prepare
    const declared = { Stage: { Type: 'String', AllowedPattern: '[a-z]+', ConstraintDescription: 'lower-case letters only' } };

    // Act
    const act = (): unknown => resolveParameters(declared, { Stage: 'Prod' });

    // Assess
    expect(act).toThrow('Parameters.Stage: value "Prod" does not match the AllowedPattern [a-z]+ (lower-case letters only)');
  });

  it('rejects SSM parameter types clearly', () => {
    // Prepare
    const declared = { Latest: { Type: 'AWS::SSM::Parameter::Value<String>', Default: '/wims/version' } };

    // Act
    const act = (): unknown => resolveParameters(declared);

    // Assess
    expect(act).toThrow(
      'Parameters.Latest: type AWS::SSM::Parameter::Value<String> reads SSM Parameter Store, which does not exist locally; declare the parameter as String and pass the value as an override',
    );
  });

  it('rejects a missing value, an unknown type and an override for an undeclared parameter', () => {
    // Prepare
    const missing = { Token: { Type: 'String' } };
    const unknownType = { Count: { Type: 'Integer', Default: 1 } };

    // Act
    const acts = [
      (): unknown => resolveParameters(missing),
      (): unknown => resolveParameters(unknownType),
      (): unknown => resolveParameters(missing, { Token: 'x', Typo: 'y' }),
    ];

    // Assess
    expect(acts[0]).toThrow('Parameters.Token: no value (the parameter has no Default; pass it as a parameter override)');
    expect(acts[1]).toThrow('Parameters.Count: unknown parameter type Integer');
    expect(acts[2]).toThrow('Parameter override Typo: the template declares no parameter Typo');
  });
});
