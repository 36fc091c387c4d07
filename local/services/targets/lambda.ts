/**
 * Lambda targets, invoked asynchronously (Event) as EventBridge rules and SNS do: once the
 * function ran the input counts as delivered, even if the function failed (Lambda, not the
 * caller, owns a function's own retries); only a function that cannot be invoked (unknown,
 * throttled) fails the delivery.
 */
import type { LambdaInvoker } from '../lambda/runtime.js';
import { oneByOne, parseJsonInput, type Sender } from './sender.js';

export function lambdaSender(lambda: LambdaInvoker): Sender {
  return oneByOne(async (functionArn, input) => {
    await lambda.invoke(functionArn, parseJsonInput(functionArn, input));
  });
}
