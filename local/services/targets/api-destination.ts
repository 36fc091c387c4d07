/**
 * API destination targets: an HTTP call through the destination's connection, under its rate
 * limit (see events/api-destinations.ts). URLs of locally served APIs reach the local servers.
 */
import type { ApiEndpointMap } from '../apigateway/endpoints.js';
import type { ApiDestinationService } from '../events/api-destinations.js';
import { oneByOne, type Sender } from './sender.js';

export function apiDestinationSender(destinations: Pick<ApiDestinationService, 'invoke'>, endpoints: ApiEndpointMap): Sender {
  return oneByOne((destinationArn, input, options) => destinations.invoke(destinationArn, input, { httpParameters: options.httpParameters, endpoints }));
}
