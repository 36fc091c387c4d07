/**
 * The error classes the functions throw. Each sets `name` explicitly (minified bundles rename
 * classes) and takes the standard `{ cause }` option, so logs show what failed and why.
 */

/** A required setting is missing or invalid: the deployment is wrong, not the input. */
export class ConfigurationError extends Error {
  override name = 'ConfigurationError';
}

/** An event, message or request body does not have the documented shape; retrying cannot help. */
export class InvalidInputError extends Error {
  override name = 'InvalidInputError';
}

/** A payment names a SKU that has no inventory item (or no price), so it cannot be priced. */
export class UnknownSkuError extends Error {
  override name = 'UnknownSkuError';
}

/** The payment webhook did not acknowledge a confirmation. */
export class WebhookDeliveryError extends Error {
  override name = 'WebhookDeliveryError';
}

/** CloudFormation's pre-signed response URL did not accept a custom resource response. */
export class CloudFormationResponseError extends Error {
  override name = 'CloudFormationResponseError';
}

/** Work did not finish before its deadline (e.g. before the Lambda timeout). */
export class DeadlineExceededError extends Error {
  override name = 'DeadlineExceededError';
}

/** A failure the stand-in payment provider injects on purpose (fault injection). */
export class InjectedFaultError extends Error {
  override name = 'InjectedFaultError';
}
