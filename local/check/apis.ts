/**
 * REST API checks (3a, 3b, 3h): what API Gateway's OpenAPI import refuses (the local API
 * Gateway's own import validation, so the check and `npm start` cannot disagree); an integration
 * response that selects a status with no method response (API Gateway then answers 500, "Output
 * mapping refers to an invalid method response"); a gateway response whose statusCode is not a
 * string; and an `AWS::Serverless::Api` without OpenApiVersion, for which SAM also deploys a stage
 * named "Stage" that has none of the API's MethodSettings (its throttling can be bypassed there).
 * And 3g: an API destination that calls an API of the same stack at its InvocationRateLimitPerSecond
 * needs that API's stage throttle above the rate, with a burst of at least 2: the destination's
 * limiter and the stage's token bucket are two clocks, so a call that arrives early at a stage
 * with no headroom is a 429 (with parameters at their defaults; deploy-time values are not seen).
 */
import { ImportError, parseOpenApi } from '../services/apigateway/openapi.js';
import { intrinsicName, isJsonObject } from '../template/intrinsics.js';
import type { Json } from '../template/parse.js';
import { asList, subText, type CheckContext, type Finding } from './context.js';

/** The body with every intrinsic function replaced by a string, as the import sees resolved values. */
function withIntrinsicsAsText(value: Json): Json {
  if (Array.isArray(value)) return value.map(withIntrinsicsAsText);
  if (!isJsonObject(value)) return value;
  if (intrinsicName(value) !== undefined) return 'resolved-at-deploy';
  return Object.fromEntries(Object.entries(value).map(([key, element]) => [key, withIntrinsicsAsText(element)]));
}

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'x-amazon-apigateway-any-method']);

function undeclaredStatuses(body: Json, where: string): Finding[] {
  const findings: Finding[] = [];
  const paths = isJsonObject(body) && isJsonObject(body.paths) ? body.paths : {};
  for (const [path, item] of Object.entries(paths)) {
    if (!isJsonObject(item)) continue;
    for (const [method, operation] of Object.entries(item)) {
      if (!HTTP_METHODS.has(method.toLowerCase()) || !isJsonObject(operation)) continue;
      const declared = new Set(Object.keys(isJsonObject(operation.responses) ? operation.responses : {}));
      const integration = operation['x-amazon-apigateway-integration'];
      const responses = isJsonObject(integration) && isJsonObject(integration.responses) ? integration.responses : {};
      for (const [selection, response] of Object.entries(responses)) {
        const status = isJsonObject(response) ? String(response.statusCode) : '';
        if (declared.has(status)) continue;
        findings.push({
          severity: 'error',
          where: `${where}.paths.${path}.${method}.x-amazon-apigateway-integration.responses.${selection}`,
          message: `selects status ${status}, which has no method response: API Gateway answers 500 ("Output mapping refers to an invalid method response: ${status}")`,
          check: 'apis',
        });
      }
    }
  }
  return findings;
}

function gatewayResponseStatuses(body: Json, where: string): Finding[] {
  const responses = isJsonObject(body) ? body['x-amazon-apigateway-gateway-responses'] : undefined;
  if (!isJsonObject(responses)) return [];
  return Object.entries(responses)
    .filter(([, response]) => isJsonObject(response) && response.statusCode !== undefined && typeof response.statusCode !== 'string')
    .map(([type]) => ({
      severity: 'error' as const,
      where: `${where}.x-amazon-apigateway-gateway-responses.${type}.statusCode`,
      message: 'a gateway response statusCode must be a string (e.g. \'400\')',
      check: 'apis' as const,
    }));
}

/** A number, or a Ref to a parameter with a numeric default. */
function numberOf(value: Json | undefined, context: CheckContext): number | undefined {
  const resolved = isJsonObject(value) && intrinsicName(value) === 'Ref' ? context.refs[String(value.Ref)] : value;
  const number = typeof resolved === 'string' && resolved.trim() !== '' ? Number(resolved) : resolved;
  return typeof number === 'number' && Number.isFinite(number) ? number : undefined;
}

/** Check 3g: each API destination into a REST API of this stack against that API's stage throttle. */
function destinationHeadroom(context: CheckContext): Finding[] {
  const resources = context.transformed.Resources;
  const findings: Finding[] = [];
  for (const [id, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::Events::ApiDestination') continue;
    const properties = resource.Properties ?? {};
    const rate = numberOf(properties.InvocationRateLimitPerSecond, context);
    const endpoint = isJsonObject(properties.InvocationEndpoint) && intrinsicName(properties.InvocationEndpoint) === 'Fn::Sub'
      ? subText(properties.InvocationEndpoint, {}, `Resources.${id}.Properties.InvocationEndpoint`) : undefined;
    if (rate === undefined || endpoint === undefined) continue;
    for (const [stageId, stage] of Object.entries(resources)) {
      const restApi = stage.Type === 'AWS::ApiGateway::Stage' && isJsonObject(stage.Properties?.RestApiId) ? stage.Properties.RestApiId.Ref : undefined;
      if (typeof restApi !== 'string' || !endpoint.startsWith(`https://${restApi}.execute-api.`)) continue;
      asList(stage.Properties?.MethodSettings).forEach((setting, index) => {
        if (!isJsonObject(setting) || setting.ResourcePath !== '/*' || setting.HttpMethod !== '*') return;
        // A stage SAM generated is edited in its AWS::Serverless::Api.
        const owner = context.template.Resources[restApi]?.Type === 'AWS::Serverless::Api' ? restApi : stageId;
        const where = `Resources.${owner}.Properties.MethodSettings.${index}`;
        const limit = numberOf(setting.ThrottlingRateLimit, context);
        const burst = numberOf(setting.ThrottlingBurstLimit, context);
        if (limit !== undefined && limit <= rate) {
          findings.push({ severity: 'error', where: `${where}.ThrottlingRateLimit`, message: `${limit}/s leaves no headroom over ${id}'s InvocationRateLimitPerSecond (${rate}/s): a call that arrives early is refused with 429`, check: 'apis' });
        }
        if (burst !== undefined && burst < 2) {
          findings.push({ severity: 'error', where: `${where}.ThrottlingBurstLimit`, message: `a burst of ${burst} refuses ${id}'s second call whenever two arrive together (429)`, check: 'apis' });
        }
      });
    }
  }
  return findings;
}

/** Checks 3a, 3b, 3g and the API parts of 3h. */
export function checkApis(context: CheckContext): Finding[] {
  const findings: Finding[] = [];
  for (const [id, resource] of Object.entries(context.template.Resources)) {
    if (resource.Type === 'AWS::Serverless::Api' && resource.Properties?.OpenApiVersion === undefined) {
      findings.push({
        severity: 'error',
        where: `Resources.${id}.Properties.OpenApiVersion`,
        message: 'without OpenApiVersion SAM also deploys a stage named "Stage", which has none of the MethodSettings (throttling) of the API\'s own stage',
        check: 'apis',
      });
    }
  }
  for (const [id, resource] of Object.entries(context.transformed.Resources)) {
    const body = resource.Properties?.Body;
    if (resource.Type !== 'AWS::ApiGateway::RestApi' || body === undefined) continue;
    const where = `Resources.${id}.Properties.Body`;
    try {
      parseOpenApi(withIntrinsicsAsText(body), id);
    } catch (error) {
      const messages = error instanceof ImportError ? error.errors : [(error as Error).message];
      for (const message of messages) findings.push({ severity: 'error', where, message, check: 'apis' });
    }
    findings.push(...undeclaredStatuses(body, where), ...gatewayResponseStatuses(body, where));
  }
  return [...findings, ...destinationHeadroom(context)];
}
