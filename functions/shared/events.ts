/**
 * The names events and statuses go by, in one place: the CDC events the pipe puts on the bus
 * (source `wims.cdc`, detail-type `cdcEvent`, detail = {@link ChangeEvent}), the order and
 * payment statuses the workflows and rules match on, and the payment provider's charge status.
 * template.yaml's rules and the ASL files spell the same strings.
 */

/** `source` of every change event (CdcPipe's EventBridgeEventBusParameters.Source). */
export const CDC_SOURCE = 'wims.cdc';

/** `detail-type` of every change event (CdcPipe's EventBridgeEventBusParameters.DetailType). */
export const CDC_DETAIL_TYPE = 'cdcEvent';

/** An order's `status`. */
export const OrderStatus = {
  Pending: 'PENDING',
  Reserved: 'RESERVED',
  Backordered: 'BACKORDERED',
  ReadyForFulfillment: 'READY_FOR_FULFILLMENT',
} as const;
export type OrderStatus = (typeof OrderStatus)[keyof typeof OrderStatus];

/** An order's `paymentStatus`. */
export const PaymentStatus = {
  Queued: 'QUEUED',
  Paid: 'PAID',
  Failed: 'FAILED',
} as const;
export type PaymentStatus = (typeof PaymentStatus)[keyof typeof PaymentStatus];

/** The status the payment provider reports for a completed charge. */
export const CHARGE_SUCCEEDED = 'succeeded';

/** What kind of item changed, from its partition key's prefix. */
export type ChangeEntity = 'ORDER' | 'INVENTORY' | 'OTHER';

/** The kind of change (DynamoDB Streams' MODIFY is called UPDATE here). */
export type ChangeType = 'INSERT' | 'UPDATE' | 'REMOVE';

/** An item image as plain JSON (numbers as numbers). */
export type ItemImage = Record<string, unknown>;

/** The detail of a `cdcEvent`: one table change, as cdc-enrichment emits it. */
export interface ChangeEvent {
  meta: {
    /** The stream record's eventID: unique per change, so consumers can deduplicate. */
    eventId: string;
    /** The stream's own name for the change: INSERT, MODIFY or REMOVE. */
    eventName: string;
    sequenceNumber: string;
    /**
     * When the change was written (ISO 8601; the stream rounds it down to the second). Absent when
     * the stream record carries no ApproximateCreationDateTime, which the Streams API makes optional.
     */
    approximateCreationTime?: string;
  };
  data: {
    pk: string;
    sk: string;
    entity: ChangeEntity;
    eventType: ChangeType;
    NewImage?: ItemImage;
    OldImage?: ItemImage;
  };
}
