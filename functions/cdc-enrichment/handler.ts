/**
 * CdcPipe's enrichment: turns the DynamoDB stream records the pipe delivers into plain-JSON
 * change events (one per record, in order; each becomes the detail of a `cdcEvent` on the bus)
 * and counts the business events they represent.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { requireIntegerEnv } from '#shared/env.js';
import { InvalidInputError } from '#shared/errors.js';
import { OrderStatus, type ChangeEntity, type ChangeEvent, type ChangeType, type ItemImage } from '#shared/events.js';
import { CUSTOMER_PREFIX, INVENTORY_PREFIX } from '#shared/keys.js';
import { BusinessMetric, countMetric, withPowertools } from '#shared/powertools.js';

/** Settings of {@link enrichChanges}. */
export interface CdcEnrichmentConfig {
  /** Stock at or below which an item is low (the template's LowStockThreshold). */
  lowStockThreshold: number;
}

const config: CdcEnrichmentConfig = { lowStockThreshold: requireIntegerEnv('LOW_STOCK_THRESHOLD') };

/** DynamoDB Streams' event names → ours. */
const CHANGE_TYPES: Readonly<Record<string, ChangeType>> = { INSERT: 'INSERT', MODIFY: 'UPDATE', REMOVE: 'REMOVE' };

/** The metric counted when an order's status becomes the key's value. */
const STATUS_METRICS: Readonly<Record<string, BusinessMetric>> = {
  [OrderStatus.Reserved]: BusinessMetric.OrdersReserved,
  [OrderStatus.Backordered]: BusinessMetric.OrdersBackordered,
  [OrderStatus.ReadyForFulfillment]: BusinessMetric.OrdersReadyForFulfillment,
};

function entityOf(pk: string): ChangeEntity {
  if (pk.startsWith(CUSTOMER_PREFIX)) return 'ORDER';
  if (pk.startsWith(INVENTORY_PREFIX)) return 'INVENTORY';
  return 'OTHER';
}

function toJson(image: Record<string, unknown> | undefined): ItemImage | undefined {
  // @types/aws-lambda and the SDK each declare the same wire format as their own type.
  return image && unmarshall(image as Record<string, AttributeValue>);
}

/**
 * Converts one stream record (as Pipes delivers it: the Lambda event-source record format,
 * `ApproximateCreationDateTime` in Unix seconds) into a change event. The Streams API marks
 * `ApproximateCreationDateTime` optional, so a record without it still converts (the change event
 * then has no `approximateCreationTime`): refusing it would fail its batch, which the pipe retries
 * (bisecting) while every later change of the shard waits, and then dead-letters: the change is lost
 * to every consumer.
 *
 * @throws InvalidInputError when the record lacks its id, sequence number or string keys.
 */
function toChangeEvent(record: DynamoDBRecord): ChangeEvent {
  const { eventID, eventName, dynamodb: stream } = record;
  const eventType = eventName && CHANGE_TYPES[eventName];
  const pk = stream?.Keys?.pk?.S;
  const sk = stream?.Keys?.sk?.S;
  const created = stream?.ApproximateCreationDateTime;
  if (!eventID || !eventName || !eventType || !stream?.SequenceNumber || !pk || !sk) {
    throw new InvalidInputError(`Stream record ${eventID ?? '(no eventID)'} lacks eventName, SequenceNumber or string keys pk/sk`);
  }
  const NewImage = toJson(stream.NewImage);
  const OldImage = toJson(stream.OldImage);
  return {
    meta: {
      eventId: eventID,
      eventName,
      sequenceNumber: stream.SequenceNumber,
      ...(typeof created === 'number' && { approximateCreationTime: new Date(created * 1000).toISOString() }),
    },
    data: { pk, sk, entity: entityOf(pk), eventType, ...(NewImage && { NewImage }), ...(OldImage && { OldImage }) },
  };
}

/** The business metrics one change counts (each once). */
export function businessMetrics(change: ChangeEvent, lowStockThreshold: number): BusinessMetric[] {
  const { entity, eventType, NewImage, OldImage } = change.data;
  const found: BusinessMetric[] = [];
  if (entity === 'ORDER') {
    if (eventType === 'INSERT') found.push(BusinessMetric.OrdersCreated);
    // A transition counts once: a rewrite that keeps the status (a replay, another attribute) does not.
    const status = NewImage?.status;
    const metric = typeof status === 'string' ? STATUS_METRICS[status] : undefined;
    if (metric && OldImage?.status !== status) found.push(metric);
  }
  if (entity === 'INVENTORY' && eventType === 'UPDATE') {
    const before = OldImage?.quantity;
    const after = NewImage?.quantity;
    // Once per crossing, like the LowStockRule's pattern, not on every update below the threshold.
    if (typeof before === 'number' && typeof after === 'number' && before > lowStockThreshold && after <= lowStockThreshold) {
      found.push(BusinessMetric.LowStock);
    }
  }
  return found;
}

/**
 * Enriches a batch. Metrics are counted only once the whole batch has converted, so a batch
 * that fails (and is retried by the pipe) counts nothing.
 */
export function enrichChanges(records: DynamoDBRecord[], config: CdcEnrichmentConfig): ChangeEvent[] {
  const changes = records.map(toChangeEvent);
  const counts = new Map<BusinessMetric, number>();
  for (const change of changes) {
    for (const metric of businessMetrics(change, config.lowStockThreshold)) counts.set(metric, (counts.get(metric) ?? 0) + 1);
  }
  for (const [metric, count] of counts) countMetric(metric, count);
  return changes;
}

/** Lambda entry point. */
export const handler = withPowertools(async (records: DynamoDBRecord[]) => enrichChanges(records, config));
