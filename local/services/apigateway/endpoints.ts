/**
 * Where each API Gateway REST API of the template is served locally. Functions and API
 * destinations call APIs by their AWS URL (`https://<api-id>.execute-api.<region>.amazonaws.com/<stage>/…`,
 * built by the template's `Fn::Sub`); these URLs are rewritten to the local server, so no handler
 * needs to know it runs locally.
 */

const EXECUTE_API_HOST = /^([a-z0-9]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;

/** Maps a REST API id to the base URL of its local server (`http://127.0.0.1:3000`). */
export type ApiEndpointMap = Record<string, string>;

/**
 * Rewrites an execute-api URL of a locally served API to its local address (stage and path are
 * kept: the local server accepts them with or without the stage prefix); any other URL is
 * returned unchanged.
 */
export function toLocalUrl(url: string, endpoints: ApiEndpointMap): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  const apiId = EXECUTE_API_HOST.exec(parsed.hostname)?.[1];
  const base = apiId === undefined ? undefined : endpoints[apiId];
  if (base === undefined) return url;
  return `${base}${parsed.pathname}${parsed.search}`;
}
