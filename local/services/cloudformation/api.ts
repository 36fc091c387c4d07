/**
 * CloudFormation's API (query protocol, XML) on the local stack: DescribeStacks, with the
 * template's Outputs resolved locally, ListStackResources and DescribeStackResource. The stack is
 * the one the runtime created from the template (after the SAM transform, as CloudFormation lists
 * a transformed stack's resources).
 *
 * LIMITATIONS: one stack, CREATE_COMPLETE from the start; no events, drift, change sets or
 * exports; every other operation answers "not supported locally".
 */
import { randomUUID } from 'node:crypto';
import { AwsApiError, requiredString, type ApiInput, type ServiceOperations } from '../api.js';
import type { DeployedResource } from '../provider.js';
import type { LoadedTemplate } from '../../template/loader.js';

/** How CloudFormation shows a NoEcho parameter's value. */
const MASKED = '****';

/** The stack's parts the API describes. */
export interface StackDescription {
  template: LoadedTemplate;
  resources: ReadonlyMap<string, DeployedResource>;
  outputs: Readonly<Record<string, string>>;
  createdAt: Date;
}

export function cloudFormationApi(stack: StackDescription): ServiceOperations {
  const { template } = stack;
  const stackId = `arn:aws:cloudformation:${template.region}:${template.accountId}:stack/${template.stackName}/${randomUUID()}`;
  /** The stack named by StackName (its name or id); ValidationError otherwise, as CloudFormation answers. */
  const checkStack = (input: ApiInput, required: boolean): void => {
    const name = required ? requiredString(input, 'StackName', 'ValidationError') : input.StackName;
    if (name !== undefined && name !== template.stackName && name !== stackId) {
      throw new AwsApiError('ValidationError', `Stack with id ${String(name)} does not exist`);
    }
  };
  const resource = (logicalId: string) => ({
    LogicalResourceId: logicalId,
    PhysicalResourceId: stack.resources.get(logicalId)?.physicalId,
    ResourceType: template.typeOf(logicalId),
    LastUpdatedTimestamp: stack.createdAt,
    ResourceStatus: 'CREATE_COMPLETE',
  });
  return {
    DescribeStacks: (input) => {
      checkStack(input, false);
      const declared = template.template.Outputs ?? {};
      return {
        Stacks: [{
          StackName: template.stackName,
          StackId: stackId,
          Description: template.template.Description,
          CreationTime: stack.createdAt,
          StackStatus: 'CREATE_COMPLETE',
          Parameters: Object.entries(template.parameters).map(([key, parameter]) => ({
            ParameterKey: key,
            ParameterValue: parameter.noEcho ? MASKED : [parameter.value].flat().join(','),
          })),
          Outputs: Object.entries(stack.outputs).map(([key, value]) => ({ OutputKey: key, OutputValue: value, Description: declared[key]?.Description })),
        }],
      };
    },
    ListStackResources: (input) => {
      checkStack(input, true);
      return { StackResourceSummaries: template.deploymentOrder().map(resource) };
    },
    DescribeStackResource: (input) => {
      checkStack(input, true);
      const logicalId = requiredString(input, 'LogicalResourceId', 'ValidationError');
      if (!stack.resources.has(logicalId)) throw new AwsApiError('ValidationError', `Resource ${logicalId} does not exist for stack ${template.stackName}`);
      return { StackResourceDetail: { StackName: template.stackName, StackId: stackId, ...resource(logicalId) } };
    },
  };
}
