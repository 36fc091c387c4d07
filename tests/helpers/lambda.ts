/** A Lambda context for calling wrapped handlers directly. */
import type { Context } from 'aws-lambda';

/** A context whose invocation has `remainingMs` left. */
export function lambdaContext(functionName: string, remainingMs = 10_000): Context {
  const deadline = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: '8476a536-e9f4-11e8-9739-2dfe598c3fcd',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2026/11/27/[$LATEST]2b0a6b2c9d8e4f1a8b7c6d5e4f3a2b1c',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
