import { describe, expect, it } from '@jest/globals';
import { checkTemplate } from '../../local/check/index.js';

const SLOW = 120_000; // loading the resource specification takes seconds
const FIXTURE = 'tests/template/fixtures/api-defects.yaml';

function apiFindings(path: string): string[] {
  return checkTemplate(path).filter((finding) => finding.check === 'apis').map(({ where, message }) => `${where}: ${message}`);
}

describe('apis check', () => {
  it('flags an undeclared response header, an undeclared status, a numeric gateway statusCode, a missing OpenApiVersion and a provider throttle without headroom', () => {
    // Act
    const findings = apiFindings(FIXTURE);

    // Assess
    const body = 'Resources.DefectiveApi.Properties.Body';
    expect(findings).toEqual([
      expect.stringMatching(/^Resources\.DefectiveApi\.Properties\.OpenApiVersion: without OpenApiVersion SAM also deploys a stage named "Stage"/),
      expect.stringContaining(`${body}: Unable to put integration response on 'POST' for resource at path '/things'`),
      expect.stringContaining(`${body}.paths./things.post.x-amazon-apigateway-integration.responses.4\\d{2}: selects status 400, which has no method response`),
      `${body}.x-amazon-apigateway-gateway-responses.BAD_REQUEST_BODY.statusCode: a gateway response statusCode must be a string (e.g. '400')`,
      "Resources.ProviderApi.Properties.MethodSettings.0.ThrottlingRateLimit: 5/s leaves no headroom over ProviderDestination's InvocationRateLimitPerSecond (5/s): a call that arrives early is refused with 429",
      "Resources.ProviderApi.Properties.MethodSettings.0.ThrottlingBurstLimit: a burst of 1 refuses ProviderDestination's second call whenever two arrive together (429)",
    ]);
    expect(findings[1]).toContain('Invalid mapping expression parameter specified: method.response.header.Retry-After');
  }, SLOW);

  it('finds nothing in template.yaml', () => {
    expect(apiFindings('template.yaml')).toEqual([]);
  }, SLOW);
});
