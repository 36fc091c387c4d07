/**
 * Gateway responses: the answers API Gateway itself gives (unknown route, failed validation,
 * throttling, integration errors), customised by the API's `x-amazon-apigateway-gateway-responses`
 * and falling back to `DEFAULT_4XX`/`DEFAULT_5XX` and then to AWS's defaults. Statuses are those
 * of "Gateway response types for API Gateway"; AWS's default body is
 * `{"message":$context.error.messageString}`.
 *
 * As documented, gateway response templates are not run through VTL: only `$context.*` and
 * `$stageVariables.*` references are substituted.
 *
 * LIMITATIONS: only the response types the local server produces exist here (no authorizer,
 * API key, WAF, quota or payload-size types).
 */
import type { GatewayResponseDefinition } from './openapi.ts';
import { mapHeaders, parameterText, pickTemplate, valueAt, type HttpAnswer } from './mapping.ts';
import { headerValue, type MethodRequest } from './request.ts';

/** Default status of each response type the local server produces (DEFAULT_5XX has none). */
const DEFAULT_STATUS = {
  MISSING_AUTHENTICATION_TOKEN: 403,
  BAD_REQUEST_PARAMETERS: 400,
  BAD_REQUEST_BODY: 400,
  UNSUPPORTED_MEDIA_TYPE: 415,
  THROTTLED: 429,
  API_CONFIGURATION_ERROR: 500,
  INTEGRATION_FAILURE: 504,
  INTEGRATION_TIMEOUT: 504,
  DEFAULT_5XX: undefined,
} as const;

/** A gateway response type the local server can produce. */
export type GatewayResponseType = keyof typeof DEFAULT_STATUS;

const DEFAULT_TEMPLATE = '{"message":$context.error.messageString}';

/** Ends a request with a gateway response instead of an integration's answer. */
export class GatewayResponseError extends Error {
  override name = 'GatewayResponseError';
  readonly type: GatewayResponseType;
  readonly status: number;
  readonly validationError: string;

  /**
   * @param type the gateway response type
   * @param message `$context.error.message` (what AWS says, e.g. "Invalid request body")
   * @param options `status` for DEFAULT_5XX answers (e.g. 502 for a failed Lambda proxy call),
   *   `validationError` for `$context.error.validationErrorString`, `cause` for the log
   */
  constructor(
    type: GatewayResponseType,
    message: string,
    options: { status?: number; validationError?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.type = type;
    const status = options.status ?? DEFAULT_STATUS[type];
    if (status === undefined) throw new TypeError(`${type} needs an explicit status`);
    this.status = status;
    this.validationError = options.validationError ?? '';
  }
}

/**
 * Renders the gateway response for `error`. `request` may lack routing facts (an unknown route
 * has no resource, so its `$context.resourcePath` is empty).
 */
export function renderGatewayResponse(
  error: GatewayResponseError,
  definitions: Record<string, GatewayResponseDefinition>,
  request: MethodRequest,
): HttpAnswer {
  const family = error.status >= 500 ? 'DEFAULT_5XX' : 'DEFAULT_4XX';
  const specific = error.type === family ? undefined : definitions[error.type];
  const fallback = definitions[family];
  const status = specific?.statusCode ?? fallback?.statusCode ?? error.status;
  const templates = [specific?.responseTemplates, fallback?.responseTemplates].find((map) => map && Object.keys(map).length > 0) ??
    { 'application/json': DEFAULT_TEMPLATE };
  const context = {
    ...request.context,
    error: {
      message: error.message,
      messageString: JSON.stringify(error.message),
      responseType: error.type,
      // Kept JSON-safe: templates put it inside a quoted string.
      validationErrorString: JSON.stringify(error.validationError).slice(1, -1),
    },
  };
  const chosen = pickTemplate(templates, headerValue(request.headers, 'accept'));
  const body = chosen ? substitute(chosen.template, context, request.stageVariables) : '';
  const parameters = { ...fallback?.responseParameters, ...specific?.responseParameters };
  return {
    status,
    headers: {
      'Content-Type': chosen?.contentType ?? 'application/json',
      ...mapHeaders(parameters, 'gatewayresponse.header.', { request: { ...request, context } }),
    },
    body,
  };
}

/** Replaces `$context.a.b` and `$stageVariables.x` references; unknown ones become empty. */
function substitute(template: string, context: object, stageVariables: Record<string, string>): string {
  return template.replace(
    /\$(context|stageVariables)((?:\.\w+)+)/g,
    (_match, root: string, path: string) => parameterText(valueAt(root === 'context' ? context : stageVariables, path.slice(1).split('.'))) ?? '',
  );
}
