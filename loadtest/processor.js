/**
 * Artillery hooks for loadtest/orders.yml (plain ESM: Artillery bundles a `.ts` processor to
 * CommonJS, which this `"type": "module"` package would not load).
 *
 * Each request is a fresh order of the write-up's workload: customerId a random integer 0–999
 * sent as a string, quantity a random integer 1–10 sent as a JSON number (a template would send
 * a string, which the API's request model refuses). When WIMS_LOADTEST_RECORD names a file, every
 * answer — and every request that got none — is appended to it as one JSON line, so the bench can
 * reconcile each accepted order with what the stack did. Artillery runs hooks in worker threads:
 * appendFileSync writes each line whole, whichever worker writes it.
 */
import { appendFileSync } from 'node:fs';

const recordFile = process.env.WIMS_LOADTEST_RECORD;

/** A random integer from `min` to `max`, both included. */
function randomInteger(min, max) {
  return min + Math.floor(Math.random() * (max - min + 1));
}

function record(line) {
  if (recordFile) appendFileSync(recordFile, `${JSON.stringify(line)}\n`);
}

/** beforeRequest: the order's body. */
export function randomOrder(requestParams, context, _events, next) {
  requestParams.json = { customerId: String(randomInteger(0, 999)), quantity: randomInteger(1, 10) };
  context.vars.orderSentAt = Date.now();
  next();
}

/** afterResponse: one line per answer; `latencyMs` is the whole exchange (got's timings.phases.total). */
export function recordOrder(requestParams, response, _context, _events, next) {
  let orderId = null;
  try {
    orderId = JSON.parse(response.body).orderId ?? null;
  } catch {
    // Not JSON (e.g. a proxy's error page): the status code tells.
  }
  const { start, end, phases } = response.timings;
  record({
    orderId,
    customerId: requestParams.json.customerId,
    quantity: requestParams.json.quantity,
    status: response.statusCode,
    latencyMs: phases.total,
    sentAt: start,
    answeredAt: end,
  });
  next();
}

/** onError: a request that got no answer (timeout, refused or reset connection); it ends that virtual user. */
export function recordFailure(error, requestParams, context, _events, next) {
  record({
    orderId: null,
    customerId: requestParams.json?.customerId ?? null,
    quantity: requestParams.json?.quantity ?? null,
    status: null,
    error: error.code ?? error.message,
    latencyMs: null,
    sentAt: context.vars.orderSentAt ?? null,
    answeredAt: Date.now(),
  });
  next();
}
