/**
 * The shapes the local EventBridge shares with those that put events on it and read them back:
 * PutEvents requests and results, and the event envelope rules and targets receive.
 */

/** One PutEvents request entry (what the AWS SDK's PutEventsRequestEntry holds). */
export interface PutEventsEntry {
  Source?: string;
  DetailType?: string;
  /** A JSON object, as text. */
  Detail?: string;
  /** A bus name or ARN; `default` when absent. */
  EventBusName?: string;
  Resources?: string[];
  Time?: Date | string;
  /** X-Ray trace header: accepted, not recorded locally. */
  TraceHeader?: string;
}

/** What putting events on a local bus takes: Step Functions' events:putEvents and the event bus sender use it. */
export interface EventBusIngress {
  putEvents(entries: PutEventsEntry[]): PutEventsResult;
}

/** One PutEvents result entry: the event id, or why the entry failed. */
export type PutEventsResultEntry = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

/** The PutEvents response. */
export interface PutEventsResult {
  FailedEntryCount: number;
  Entries: PutEventsResultEntry[];
}

/** An event as EventBridge hands it to rules and targets. */
export interface EventEnvelope {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  /** ISO 8601 to the second (`2026-01-31T12:00:00Z`). */
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
  /** Set on events re-sent by a replay. */
  'replay-name'?: string;
}
