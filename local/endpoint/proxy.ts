/**
 * Forwards a request unchanged to an engine that speaks the AWS protocol itself (DynamoDB Local
 * behind its metering proxy, fauxqs) and streams its answer back.
 */
import { request as httpRequest, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { AwsApiError } from '../services/api.js';

/** Sends `body` to `upstream` (an `http://host:port` origin) with the caller's method, path and headers. */
export function forward(
  upstream: string,
  incoming: { method: string; url: string; headers: IncomingHttpHeaders },
  body: Buffer,
  response: ServerResponse,
): Promise<void> {
  const { hostname, port } = new URL(upstream);
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ hostname, port, method: incoming.method, path: incoming.url, headers: incoming.headers }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
      answer.once('end', resolve);
      answer.once('error', reject);
    });
    outgoing.once('error', (error) => reject(new AwsApiError('ServiceUnavailable', `the local engine at ${upstream} does not answer: ${error.message}`, 503)));
    outgoing.end(body);
  });
}
