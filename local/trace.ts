/**
 * The runtime's event log: every service reports each hop a message takes through it (a request
 * answered, a stream batch read, a pipe's enrichment, a message sent, a function invoked) with one
 * call here. Nothing is kept unless a sink is installed (the dashboard installs one), and the
 * sink gets the payload by reference: whatever reads it later serialises it, never the hot path.
 */

/** One hop of the event log. */
export interface TraceHop {
  /** Increasing, unique within the process. */
  seq: number;
  /** Epoch milliseconds when the hop started. */
  time: number;
  durationMs?: number;
  /** The AWS service, as in its ARNs: `apigateway`, `dynamodb`, `pipes`, `events`, `states`, `sqs`, `sns`, `lambda`. */
  service: string;
  /** What happened, named after the AWS API or event: `PutItem`, `GetRecords`, `Enrichment`, `SendMessage`, … */
  hop: string;
  /** The resource's name or ARN. */
  resource: string;
  /** What went through, as given (not copied). */
  payload: unknown;
  /** Read only to correlate the hop (e.g. the input of the execution a state belongs to). */
  context?: unknown;
  error?: string;
}

/** Where hops go: the dashboard's trace store. */
export interface TraceSink {
  add(hop: TraceHop): void;
}

let sink: TraceSink | undefined;
let nextSeq = 1;
const watchers = new Set<(tracing: boolean) => void>();

/** Installs the process's sink: one per thread, the last dashboard started. */
export function setTraceSink(next: TraceSink): void {
  sink = next;
  watchers.forEach((watcher) => watcher(true));
}

/** Removes `installed` if it is still the process's sink. */
export function removeTraceSink(installed: TraceSink): void {
  if (sink !== installed) return;
  sink = undefined;
  watchers.forEach((watcher) => watcher(false));
}

/**
 * Calls `watcher` with whether a sink is installed, now and at each change: how a service on a
 * thread of its own (API Gateway) knows when to send its hops here. Returns the unwatch function.
 */
export function watchTraceSink(watcher: (tracing: boolean) => void): () => void {
  watchers.add(watcher);
  watcher(sink !== undefined);
  return () => void watchers.delete(watcher);
}

/** Records one hop; a no-op without a sink. */
export function traceHop(service: string, hop: string, resource: string, payload: unknown, details: Partial<Pick<TraceHop, 'error' | 'context' | 'durationMs' | 'time'>> = {}): void {
  sink?.add({ seq: nextSeq++, service, hop, resource, payload, ...details, time: details.time ?? Date.now() });
}

/**
 * Records a hop that takes time: `work`'s result (or rejection) is the hop's answer, its duration
 * the time until it settles. `errorOf` names a failure an answer reports without rejecting.
 */
export function traceSpan<T>(
  service: string,
  hop: string,
  resource: string,
  request: unknown,
  work: Promise<T>,
  errorOf?: (answer: T) => string | undefined,
): Promise<T> {
  if (sink === undefined) return work;
  const time = Date.now();
  return work.then(
    (answer) => {
      const error = errorOf?.(answer);
      traceHop(service, hop, resource, { request, answer }, { time, durationMs: Date.now() - time, ...(error === undefined ? {} : { error }) });
      return answer;
    },
    (error: unknown) => {
      traceHop(service, hop, resource, { request }, { time, durationMs: Date.now() - time, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
      throw error;
    },
  );
}
