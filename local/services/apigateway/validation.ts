/**
 * Request validation, as a method's request validator asks: required parameters first (present
 * and not blank; API Gateway checks nothing else about them), then the body against the model
 * for the request's content type (`application/json` when absent; no model for it, no body
 * validation). Failures are the BAD_REQUEST_PARAMETERS and BAD_REQUEST_BODY gateway responses,
 * with AWS's messages ("Missing required request parameters: [a, b]", "Invalid request body").
 *
 * LIMITATIONS: `$context.error.validationErrorString` lists ajv's messages
 * (`[instance /quantity must be <= 1000]`), not the wording of API Gateway's validator; an empty
 * body is validated as `{}`.
 */
import type { ErrorObject } from 'ajv-draft-04';
import { GatewayResponseError } from './gateway-responses.ts';
import { mediaType } from './mapping.ts';
import type { Operation } from './openapi.ts';
import { headerValue, type MethodRequest } from './request.ts';

/** Throws the gateway response for the first validation that fails, if the method validates. */
export function validateRequest(operation: Operation, request: MethodRequest): void {
  if (operation.validateParameters) {
    const missing = operation.requiredParameters.filter((parameter) => {
      const value =
        parameter.in === 'header' ? headerValue(request.headers, parameter.name)
        : parameter.in === 'query' ? request.query[parameter.name]
        : request.pathParameters[parameter.name];
      return value === undefined || value.trim() === '';
    });
    if (missing.length > 0) {
      throw new GatewayResponseError('BAD_REQUEST_PARAMETERS', `Missing required request parameters: [${missing.map((parameter) => parameter.name).join(', ')}]`);
    }
  }
  if (!operation.validateBody) return;
  const contentType = mediaType(headerValue(request.headers, 'content-type')) ?? 'application/json';
  const model = operation.models.get(contentType) ?? operation.models.get('$default');
  if (!model) return;
  const text = request.body.toString('utf8');
  let document: unknown;
  try {
    document = text.trim() === '' ? {} : JSON.parse(text);
  } catch (error) {
    throw new GatewayResponseError('BAD_REQUEST_BODY', 'Invalid request body', { validationError: `[${(error as Error).message}]` });
  }
  if (!model(document)) {
    throw new GatewayResponseError('BAD_REQUEST_BODY', 'Invalid request body', { validationError: describeErrors(model.errors) });
  }
}

function describeErrors(errors: ErrorObject[] | null | undefined): string {
  const messages = (errors ?? []).map((error) => `instance${error.instancePath === '' ? '' : ` ${error.instancePath}`} ${error.message ?? 'is invalid'}`);
  return `[${messages.join(', ')}]`;
}
