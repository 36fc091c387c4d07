/**
 * Providers for the Lambda resource types: functions (bundled from the template's esbuild
 * Metadata and run by the LambdaRuntime), SQS event source mappings, and permissions.
 *
 * LIMITATIONS: `AWS::Lambda::Permission` is accepted and not enforced (nothing local checks
 * resource policies); event source mappings support SQS sources (streams go through Pipes in
 * this template); FilterCriteria, MaximumBatchingWindowInSeconds and ScalingConfig are ignored.
 *
 * DURABILITY: functions keep nothing between invocations but what their code writes elsewhere.
 * An event source mapping deletes a batch's messages only after the function returned (the
 * failed items of a ReportBatchItemFailures answer stay), so a SIGKILL during an invocation
 * leaves the messages on the queue, visible again after the restart: at least once, as on AWS.
 */
import type { SQSRecord } from 'aws-lambda';
import type { Json } from '../../template/parse.js';
import { resourceName } from '../cfn-properties.js';
import type { DeployedResource, ResolvedResource, ResourceProvider, RuntimeContext } from '../provider.js';
import { SqsPoller } from '../sources/sqs-poller.js';
import { builtHandlerModule, bundleFunction } from './build.js';
import type { LambdaRuntime } from './runtime.js';

/** Lambda's limit on function names. */
const MAX_FUNCTION_NAME = 64;

/** Endpoints of the local engines, handed to every function through `AWS_ENDPOINT_URL_*`. */
export interface EngineEndpoints {
  dynamodb: string;
  sqs: string;
  sns: string;
}

/** The environment Lambda adds to every function (beside the template's variables). */
function lambdaEnvironment(name: string, memoryMb: number, handler: string, context: RuntimeContext, engines: EngineEndpoints): Record<string, string> {
  return {
    AWS_REGION: context.region,
    AWS_DEFAULT_REGION: context.region,
    AWS_LAMBDA_FUNCTION_NAME: name,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memoryMb),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${name}`,
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    _HANDLER: handler,
    TZ: 'UTC',
    // Fixed dummy credentials: the local engines accept any, and no call may reach real AWS.
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_SESSION_TOKEN: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: engines.dynamodb,
    AWS_ENDPOINT_URL_SQS: engines.sqs,
    AWS_ENDPOINT_URL_SNS: engines.sns,
  };
}

/** The `AWS::Lambda::Function` properties the runtime reads, as the template resolves them. */
interface FunctionProperties {
  FunctionName?: string;
  Code?: { LocalPath?: string };
  Handler?: Json;
  MemorySize?: Json;
  Timeout?: Json;
  Environment?: { Variables?: Record<string, Json> };
}

/** The `AWS::Lambda::EventSourceMapping` properties the runtime reads. */
interface EventSourceMappingProperties {
  EventSourceArn?: Json;
  FunctionName?: Json;
  FunctionResponseTypes?: Json;
  BatchSize?: Json;
  Enabled?: Json;
}

/**
 * `AWS::Lambda::Function`: bundles the code and registers it with the runtime. With `prebuiltCode`
 * (a template `sam build` wrote) each CodeUri holds built code already, which is run as it is.
 */
export function createFunctionProvider(runtime: LambdaRuntime, engines: EngineEndpoints, prebuiltCode = false): ResourceProvider {
  return {
    type: 'AWS::Lambda::Function',
    async create(resource: ResolvedResource, context: RuntimeContext): Promise<DeployedResource> {
      const properties = resource.properties as FunctionProperties;
      const name = resourceName(resource, 'FunctionName', context.stackName, { maxLength: MAX_FUNCTION_NAME });
      const arn = `arn:aws:lambda:${context.region}:${context.accountId}:function:${name}`;
      const codeUri: string | undefined = properties.Code?.LocalPath;
      if (codeUri === undefined) {
        throw new Error(`${resource.logicalId}: only functions with local code (a SAM CodeUri) can run locally`);
      }
      const handler = String(properties.Handler);
      const bundlePath = prebuiltCode
        ? builtHandlerModule(resource.logicalId, codeUri, handler)
        : await bundleFunction(resource.logicalId, resource.metadata, codeUri, handler);
      const memoryMb = Number(properties.MemorySize ?? 128);
      const templateVariables = (properties.Environment?.Variables ?? {}) as Record<string, Json>;
      runtime.register({
        name,
        arn,
        bundlePath,
        exportName: handler.slice(handler.lastIndexOf('.') + 1),
        environment: {
          ...Object.fromEntries(Object.entries(templateVariables).map(([key, value]) => [key, String(value)])),
          ...lambdaEnvironment(name, memoryMb, handler, context, engines),
        },
        timeoutSeconds: Number(properties.Timeout ?? 3),
        memoryMb,
      });
      return { physicalId: name, attributes: { Arn: arn } };
    },
  };
}

/** `AWS::Lambda::EventSourceMapping` from an SQS queue, with ReportBatchItemFailures. */
export function createEventSourceMappingProvider(runtime: LambdaRuntime, engines: EngineEndpoints): ResourceProvider {
  return {
    type: 'AWS::Lambda::EventSourceMapping',
    async create(resource: ResolvedResource, context: RuntimeContext): Promise<DeployedResource> {
      const properties = resource.properties as EventSourceMappingProperties;
      const sourceArn = String(properties.EventSourceArn);
      if (!sourceArn.startsWith('arn:aws:sqs:')) {
        throw new Error(`${resource.logicalId}: EventSourceArn ${sourceArn}: only SQS event sources are supported locally`);
      }
      const functionName = String(properties.FunctionName);
      const reportsItemFailures = ((properties.FunctionResponseTypes ?? []) as string[]).includes('ReportBatchItemFailures');
      const source = new SqsPoller({
        queueArn: sourceArn,
        endpoint: engines.sqs,
        region: context.region,
        batchSize: Number(properties.BatchSize ?? 10),
        log: (message) => context.log(`lambda ${resource.logicalId}`, message),
        process: async (records: SQSRecord[]) => {
          const result = await runtime.invoke(functionName, { Records: records });
          if (!result.ok) throw new Error(`${result.errorType}: ${result.errorMessage}`);
          if (!reportsItemFailures) return [];
          const failures = (result.payload as { batchItemFailures?: Array<{ itemIdentifier: string }> } | null)?.batchItemFailures ?? [];
          return failures.map((failure) => failure.itemIdentifier);
        },
      });
      if (properties.Enabled !== false) await source.start();
      context.onStop(() => source.stop());
      const uuid = `${resource.logicalId}-local`;
      return { physicalId: uuid, attributes: { Id: uuid, EventSourceMappingArn: `arn:aws:lambda:${context.region}:${context.accountId}:event-source-mapping:${uuid}` } };
    },
  };
}

/** `AWS::Lambda::Permission`: accepted; resource policies are not enforced locally. */
export const permissionProvider: ResourceProvider = {
  type: 'AWS::Lambda::Permission',
  async create(resource: ResolvedResource, context: RuntimeContext): Promise<DeployedResource> {
    context.notEmulated(resource.logicalId, ['resource policy']);
    return { physicalId: `${resource.logicalId}-local`, attributes: {} };
  },
};
