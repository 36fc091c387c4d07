/**
 * README's "Deploy to AWS" is what SAM CLI does with this template and samconfig.toml: the
 * guided prompts name every template parameter in template order with its default (a NoEcho
 * one with none, as SAM CLI hides it), the stack name is samconfig's, the SAM CLI version is
 * the pinned one, and every --config-env it shows exists.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { readTemplate } from '../../local/template/parse.js';

const readme = readFileSync('README.md', 'utf8');
const deploySection = readme.slice(readme.indexOf('## Deploy to AWS'), readme.indexOf('### Checking the template'));
const samconfig = readFileSync('samconfig.toml', 'utf8');

/** The guided prompts block: the first fenced block after "sam deploy --guided` (SAM CLI …) asks". */
function guidedPrompts(): string[] {
  const start = deploySection.indexOf('`sam deploy --guided` (SAM CLI');
  const block = deploySection.slice(deploySection.indexOf('```\n', start) + 4);
  return block.slice(0, block.indexOf('```')).trim().split('\n');
}

describe('README, Deploy to AWS', () => {
  it('lists the guided parameter prompts of template.yaml, in order, with their defaults', () => {
    // Prepare
    const { Parameters = {} } = readTemplate('template.yaml');
    const expected = Object.entries(Parameters).map(([name, parameter]) =>
      (String(parameter.NoEcho) === 'true' ? `Parameter ${name}:` : `Parameter ${name} [${String(parameter.Default)}]`));

    // Act
    const prompts = guidedPrompts().filter((line) => line.startsWith('Parameter '));

    // Assess
    expect(prompts).toEqual(expected);
  });

  it('names the stack, the SAM CLI version and the config environments samconfig.toml and the pins have', () => {
    // Prepare
    const stackName = /\[default\.global\.parameters\]\s+stack_name = "([^"]+)"/.exec(samconfig)?.[1];
    const samVersion = /^aws-sam-cli==(\S+)$/m.exec(readFileSync('scripts/aws-tools-requirements.txt', 'utf8'))?.[1];
    const environments = new Set([...samconfig.matchAll(/^\[([a-z]+)\./gm)].map((match) => match[1]));

    // Act
    const configEnvs = [...deploySection.matchAll(/--config-env (\w+)/g)].map((match) => match[1]);

    // Assess
    expect(guidedPrompts()[0]).toBe(`Stack Name [${stackName}]`);
    expect(deploySection).toContain(`(SAM CLI ${samVersion})`);
    expect(configEnvs.length).toBeGreaterThan(0);
    expect(configEnvs.filter((name) => !environments.has(name))).toEqual([]);
    expect(deploySection).toContain(`sam delete --stack-name ${stackName}`);
  });
});
