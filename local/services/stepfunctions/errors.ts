/**
 * The names and causes Step Functions gives to failed Task states, so that `Retry` and `Catch`
 * (plain string comparison on the error name) match locally exactly as on AWS.
 *
 * Sources: the Step Functions guide ("Exception prefix differences": optimized DynamoDB errors
 * are `DynamoDB.*`, AWS SDK ones `DynamoDb.*`; AWS SDK errors are `ServiceName.ExceptionName`
 * with `Exception` appended when the service's code lacks it; Lambda errors are `Lambda.*`,
 * unhandled function errors without a type `Lambda.Unknown`), and the cause formats recorded
 * from AWS in LocalStack's Step Functions snapshots (Java SDK v1 style for optimized
 * integrations, Java SDK v2 style for AWS SDK integrations).
 */

/**
 * A failed task as Step Functions reports it. aws-local-stepfunctions matches `Retry`/`Catch`
 * on `name` and passes `message` on as the `Cause`, so no `cause` option is set here.
 */
export class TaskFailure extends Error {
  constructor(error: string, cause: string) {
    super(cause);
    this.name = error;
  }
}

/** How one integration names its failures. */
export interface ErrorStyle {
  /** The error-name prefix: `DynamoDB`, `DynamoDb`, `SQS`, `SNS`, `Lambda`, `EventBridge`. */
  prefix: string;
  /** The service as the cause names it: `AmazonDynamoDBv2`, `DynamoDb`, … */
  service: string;
  /** `v1`: optimized integrations (`…; Error Code: X; Request ID: Y; Proxy: null`); `v2`: AWS SDK integrations. */
  causeFormat: 'v1' | 'v2';
  /** Append `Exception` to error codes that lack it (AWS SDK integrations do, per the guide). */
  exceptionSuffix: boolean;
  /** The exception name for failures that never got an answer from the service. */
  clientError: string;
}

/** `arn:aws:states:::dynamodb:*` (optimized). */
export const DYNAMODB_OPTIMIZED: ErrorStyle = {
  prefix: 'DynamoDB', service: 'AmazonDynamoDBv2', causeFormat: 'v1', exceptionSuffix: false, clientError: 'SdkClientException',
};
/** `arn:aws:states:::aws-sdk:dynamodb:*`. */
export const DYNAMODB_SDK: ErrorStyle = {
  prefix: 'DynamoDb', service: 'DynamoDb', causeFormat: 'v2', exceptionSuffix: true, clientError: 'SdkClientException',
};
/** `arn:aws:states:::sqs:sendMessage`. */
export const SQS_OPTIMIZED: ErrorStyle = {
  prefix: 'SQS', service: 'AmazonSQS', causeFormat: 'v1', exceptionSuffix: true, clientError: 'SdkClientException',
};
/** `arn:aws:states:::sns:publish`. */
export const SNS_OPTIMIZED: ErrorStyle = {
  prefix: 'SNS', service: 'AmazonSNS', causeFormat: 'v1', exceptionSuffix: true, clientError: 'SdkClientException',
};
/** `arn:aws:states:::lambda:invoke` and Lambda function ARNs (service-side failures only). */
export const LAMBDA: ErrorStyle = {
  prefix: 'Lambda', service: 'AWSLambda', causeFormat: 'v1', exceptionSuffix: false, clientError: 'ServiceException',
};
/** `arn:aws:states:::events:putEvents`. */
export const EVENTBRIDGE: ErrorStyle = {
  prefix: 'EventBridge', service: 'AmazonEventBridge', causeFormat: 'v1', exceptionSuffix: true, clientError: 'ServiceException',
};

interface ServiceErrorShape {
  name?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: number; requestId?: string };
}

/**
 * Renames an error thrown by an SDK client (or a local callback) the way Step Functions reports
 * it for the integration's `style`. An error counts as the service's answer when it carries an
 * HTTP status (SDK v3) or an `…Exception` name (local callbacks such as the Lambda runtime).
 */
export function toTaskFailure(error: unknown, style: ErrorStyle): TaskFailure {
  if (error instanceof TaskFailure) return error;
  const { name, message, $metadata } = (error ?? {}) as ServiceErrorShape;
  const text = typeof message === 'string' ? message : String(error);
  const status = $metadata?.httpStatusCode;
  const code = typeof name === 'string' ? name : '';
  if (status === undefined && !code.endsWith('Exception')) {
    return new TaskFailure(`${style.prefix}.${style.clientError}`, text);
  }
  const exception = style.exceptionSuffix && !code.endsWith('Exception') ? `${code}Exception` : code;
  const details =
    style.causeFormat === 'v1'
      ? [`Service: ${style.service}`, status && `Status Code: ${status}`, `Error Code: ${code}`, `Request ID: ${$metadata?.requestId ?? 'local'}`, 'Proxy: null'].filter(Boolean).join('; ')
      : [`Service: ${style.service}`, status && `Status Code: ${status}`, `Request ID: ${$metadata?.requestId ?? 'local'}`].filter(Boolean).join(', ');
  return new TaskFailure(`${style.prefix}.${exception}`, `${text} (${details})`);
}
