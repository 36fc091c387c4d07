/**
 * Providers for `AWS::ApiGateway::RestApi`, `AWS::ApiGateway::Deployment` and
 * `AWS::ApiGateway::Stage` (what the SAM transform makes of an `AWS::Serverless::Api`). The
 * RestApi's OpenAPI `Body` is parsed at deploy time; a stage (from a Stage resource, or a
 * Deployment's StageName) makes the {@link ApiGatewayThread} serve the API.
 *
 * LIMITATIONS: only APIs defined inline by `Body` (no BodyS3Location, CloneFrom or
 * `AWS::ApiGateway::Resource`/`Method` resources); Deployment StageDescription and
 * DeploymentCanarySettings and Stage CanarySetting are rejected; MethodSettings other than
 * throttling, TracingEnabled, caching, AccessLogSetting, endpoint configuration and policies are
 * accepted and ignored. Ids are derived from the stack name and logical id, so they are stable
 * across runs.
 *
 * DURABILITY: an API keeps nothing itself. A request answered 2xx was written (DynamoDB Local, or
 * the integration's target) before the answer; a request the runtime was killed during gets no
 * answer, and its client's retry with the same Idempotency-Key is safe.
 */
import type { Json } from '../../template/parse.js';
import {
  ResourcePropertyError,
  checkProperties,
  expectArray,
  expectNumber,
  expectObject,
  expectString,
  where,
} from '../cfn-properties.js';
import type { DeployedResource, ResolvedResource, ResourceProvider, RuntimeContext } from '../provider.js';
import { OpenApiError, resourceId, shortId } from './openapi.js';
import type { ApiGatewayThread } from './thread.js';
import type { ThrottleSetting } from './throttle.js';

const REST_API_SUPPORTED = ['Body', 'Name'];
const REST_API_IGNORED = [
  'EndpointConfiguration', 'Parameters', 'FailOnWarnings', 'Mode', 'Policy',
  'DisableExecuteApiEndpoint', 'ApiKeySourceType', 'MinimumCompressionSize',
];
const DEPLOYMENT_SUPPORTED = ['RestApiId', 'StageName'];
const DEPLOYMENT_IGNORED: string[] = [];
const STAGE_SUPPORTED = ['RestApiId', 'StageName', 'DeploymentId', 'MethodSettings', 'Variables'];
const STAGE_IGNORED = [
  'TracingEnabled', 'CacheClusterEnabled', 'CacheClusterSize', 'AccessLogSetting',
  'ClientCertificateId', 'DocumentationVersion',
];
const METHOD_SETTING_KEYS = [
  'ResourcePath', 'HttpMethod', 'ThrottlingRateLimit', 'ThrottlingBurstLimit', 'LoggingLevel', 'MetricsEnabled',
  'DataTraceEnabled', 'CachingEnabled', 'CacheTtlInSeconds', 'CacheDataEncrypted',
];

/** The three API Gateway providers, all feeding `service`. */
export function createApiGatewayProviders(service: ApiGatewayThread): ResourceProvider[] {
  return [restApiProvider(service), deploymentProvider(service), stageProvider(service)];
}

function restApiProvider(service: ApiGatewayThread): ResourceProvider {
  return {
    type: 'AWS::ApiGateway::RestApi',
    async create(resource: ResolvedResource, context: RuntimeContext): Promise<DeployedResource> {
      checkProperties(resource, REST_API_SUPPORTED, REST_API_IGNORED, context);
      const body = resource.properties.Body;
      if (body === undefined) throw new ResourcePropertyError(`${where(resource, 'Body')} is required: the local runtime serves APIs defined by an OpenAPI body`);
      const apiId = shortId(`${context.stackName}/${resource.logicalId}`);
      try {
        await service.defineApi({
          logicalId: resource.logicalId,
          apiId,
          body: expectObject(body, where(resource, 'Body')),
          log: (message) => context.log('apigateway', `${resource.logicalId}: ${message}`),
        });
      } catch (error) {
        if (error instanceof OpenApiError) throw new ResourcePropertyError(`${where(resource, 'Body')}: ${error.message}`, { cause: error });
        throw error;
      }
      return { physicalId: apiId, attributes: { RootResourceId: resourceId(apiId, '/') } };
    },
  };
}

/** The RestApiId property, checked against the APIs defined so far. */
function restApiId(resource: ResolvedResource, service: ApiGatewayThread): string {
  const apiId = expectString(resource.properties.RestApiId, where(resource, 'RestApiId'));
  if (!service.hasApi(apiId)) throw new ResourcePropertyError(`${where(resource, 'RestApiId')}: no REST API ${apiId} is defined in the template`);
  return apiId;
}

function deploymentProvider(service: ApiGatewayThread): ResourceProvider {
  return {
    type: 'AWS::ApiGateway::Deployment',
    async create(resource: ResolvedResource, context: RuntimeContext): Promise<DeployedResource> {
      checkProperties(resource, DEPLOYMENT_SUPPORTED, DEPLOYMENT_IGNORED, context);
      const apiId = restApiId(resource, service);
      const stageName = resource.properties.StageName;
      // A Deployment's StageName creates a stage without settings, as on AWS.
      if (stageName !== undefined) {
        const url = await service.addStage(apiId, { name: expectString(stageName, where(resource, 'StageName')), variables: {}, throttle: [], primary: false });
        context.progress('apigateway', `${resource.logicalId}: serving ${url}`);
      }
      return { physicalId: shortId(`${apiId}/${resource.logicalId}`), attributes: {} };
    },
  };
}

function stageProvider(service: ApiGatewayThread): ResourceProvider {
  return {
    type: 'AWS::ApiGateway::Stage',
    async create(resource: ResolvedResource, context: RuntimeContext): Promise<DeployedResource> {
      checkProperties(resource, STAGE_SUPPORTED, STAGE_IGNORED, context);
      const apiId = restApiId(resource, service);
      const name = expectString(resource.properties.StageName, where(resource, 'StageName'));
      const variables: Record<string, string> = {};
      for (const [key, value] of Object.entries(expectObject(resource.properties.Variables ?? {}, where(resource, 'Variables')))) {
        variables[key] = expectString(value, where(resource, `Variables.${key}`));
      }
      const url = await service.addStage(apiId, { name, variables, throttle: methodSettings(resource), primary: true });
      context.progress('apigateway', `${resource.logicalId}: serving ${url}`);
      return { physicalId: name, attributes: {} };
    },
  };
}

function methodSettings(resource: ResolvedResource): ThrottleSetting[] {
  const settings = resource.properties.MethodSettings;
  if (settings === undefined) return [];
  return expectArray(settings, where(resource, 'MethodSettings')).map((json: Json, i) => {
    const at = `MethodSettings[${i}]`;
    const setting = expectObject(json, where(resource, at));
    for (const key of Object.keys(setting)) {
      if (!METHOD_SETTING_KEYS.includes(key)) throw new ResourcePropertyError(`${where(resource, `${at}.${key}`)} is not supported by the local runtime`);
    }
    const limit = (key: string): number | undefined =>
      setting[key] === undefined ? undefined : expectNumber(setting[key], where(resource, `${at}.${key}`));
    return {
      resourcePath: expectString(setting.ResourcePath ?? '/*', where(resource, `${at}.ResourcePath`)),
      httpMethod: expectString(setting.HttpMethod ?? '*', where(resource, `${at}.HttpMethod`)),
      rateLimit: limit('ThrottlingRateLimit'),
      burstLimit: limit('ThrottlingBurstLimit'),
    };
  });
}
