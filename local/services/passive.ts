/**
 * Resource types that shape permissions, retention or alarms on AWS but have no behaviour a
 * local caller could observe. They are created so that Ref and GetAtt resolve, and each says
 * plainly what it does not do.
 *
 * LIMITATIONS: IAM is not enforced (every local call is allowed: least privilege is checked on
 * the template by `npm run check`, not at run time); log groups are files under the state folder
 * with no retention; CloudWatch alarms are evaluated only when the AWS endpoint's DescribeAlarms
 * asks (cloudwatch/api.ts) and take no actions.
 */
import { resourceName } from './cfn-properties.js';
import type { DeployedResource, ResolvedResource, ResourceProvider, RuntimeContext } from './provider.js';

function passive(type: string, describe: (resource: ResolvedResource, context: RuntimeContext) => DeployedResource): ResourceProvider {
  return { type, create: async (resource, context) => describe(resource, context) };
}

const nameOf = (resource: ResolvedResource, property: string, context: RuntimeContext): string => resourceName(resource, property, context.stackName);

export const passiveProviders: ResourceProvider[] = [
  passive('AWS::IAM::Role', (resource, context) => {
    const name = nameOf(resource, 'RoleName', context);
    return { physicalId: name, attributes: { Arn: `arn:aws:iam::${context.accountId}:role/${name}`, RoleId: `AROA${resource.logicalId.toUpperCase()}` } };
  }),
  passive('AWS::Logs::LogGroup', (resource, context) => {
    const name = nameOf(resource, 'LogGroupName', context);
    return { physicalId: name, attributes: { Arn: `arn:aws:logs:${context.region}:${context.accountId}:log-group:${name}:*` } };
  }),
  passive('AWS::Logs::ResourcePolicy', (resource, context) => ({ physicalId: nameOf(resource, 'PolicyName', context), attributes: {} })),
  passive('AWS::CloudWatch::Alarm', (resource, context) => {
    const name = nameOf(resource, 'AlarmName', context);
    return { physicalId: name, attributes: { Arn: `arn:aws:cloudwatch:${context.region}:${context.accountId}:alarm:${name}` } };
  }),
];
