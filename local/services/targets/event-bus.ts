/**
 * Event bus targets: PutEvents on a local bus. A rule forwards its event (source, detail-type,
 * detail and resources are kept); a pipe puts its input as the detail of a new event
 * (`DeliverOptions.eventBus`).
 */
import type { EventBusIngress, PutEventsEntry } from '../events/model.js';
import { TargetError } from './error.js';
import type { Sender } from './sender.js';

/** PutEvents takes at most 10 entries. */
const MAX_ENTRIES = 10;

export function eventBusSender(buses: EventBusIngress): Sender {
  return async (busArn, inputs, options) => {
    const entries: PutEventsEntry[] = inputs.map((input) => (options.eventBus
      ? { ...options.eventBus, Detail: input, EventBusName: busArn }
      : { ...forwardedEntry(input, busArn), EventBusName: busArn }));
    for (let start = 0; start < entries.length; start += MAX_ENTRIES) {
      const { Entries: results } = buses.putEvents(entries.slice(start, start + MAX_ENTRIES));
      const refused = results.find((result) => 'ErrorCode' in result);
      if (refused !== undefined && 'ErrorCode' in refused) {
        const failed = results.filter((result) => 'ErrorCode' in result).length;
        throw new TargetError(`PutEvents on ${busArn} refused ${failed} of ${results.length} events: ${refused.ErrorCode}: ${refused.ErrorMessage}`, {
          code: refused.ErrorCode === 'InternalFailure' ? 'INTERNAL_ERROR' : 'INVALID_PARAMETER',
          retryable: refused.ErrorCode === 'InternalFailure',
        });
      }
    }
  };
}

/** An event forwarded from a rule to another bus keeps its source, detail-type, detail and resources. */
function forwardedEntry(input: string, busArn: string): Omit<PutEventsEntry, 'EventBusName'> {
  let event: unknown;
  try {
    event = JSON.parse(input);
  } catch {
    event = undefined;
  }
  const { source, 'detail-type': detailType, detail, resources } = (event ?? {}) as Record<string, unknown>;
  if (typeof source !== 'string' || typeof detailType !== 'string' || detail === undefined) {
    throw new TargetError(`Target ${busArn}: the input is not an event (source, detail-type, detail)`, {
      code: 'INVALID_JSON',
      retryable: false,
    });
  }
  return {
    Source: source,
    DetailType: detailType,
    Detail: JSON.stringify(detail),
    Resources: Array.isArray(resources) ? resources.map(String) : [],
  };
}
