/**
 * API Gateway's management API (REST JSON): GetRestApis and GetStages on the locally served REST
 * APIs. On the wire their lists are `item` (the model's jsonName for `items`), as on AWS.
 *
 * LIMITATIONS: no pagination; no deployments, resources or methods; every other operation answers
 * "not supported locally".
 */
import { AwsApiError, type RestRoute } from '../api.js';

/** A served API: its id, name and stages. */
export interface ServedRestApi {
  id: string;
  name: string;
  description?: string;
  stages: string[];
}

export function apiGatewayApi(apis: () => ServedRestApi[], createdAt: Date): RestRoute[] {
  return [
    {
      operation: 'GetRestApis',
      method: 'GET',
      path: '/restapis',
      handle: () => ({
        body: {
          item: apis().map((api) => ({
            id: api.id,
            name: api.name,
            ...(api.description === undefined ? {} : { description: api.description }),
            createdDate: createdAt,
            endpointConfiguration: { types: ['REGIONAL'] },
          })),
        },
      }),
    },
    {
      operation: 'GetStages',
      method: 'GET',
      path: '/restapis/{restapi_id}/stages',
      handle: (_request, parameters) => {
        const api = apis().find((candidate) => candidate.id === parameters.restapi_id);
        if (api === undefined) throw new AwsApiError('NotFoundException', `Invalid API identifier specified ${parameters.restapi_id}`, 404);
        return { body: { item: api.stages.map((stageName) => ({ stageName, deploymentId: 'local', createdDate: createdAt, lastUpdatedDate: createdAt })) } };
      },
    },
  ];
}
