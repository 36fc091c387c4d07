/**
 * Connections and API destinations against a real HTTP server on 127.0.0.1: the enforced
 * invocation rate, the connection's authorization and parameters, execute-api URL rewriting,
 * path wildcards, and how responses become deliveries or (retryable) failures.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LOOPBACK } from '../../../local/net.js';
import { ApiDestinationService } from '../../../local/services/events/api-destinations.js';
import { apiDestinationSender } from '../../../local/services/targets/api-destination.js';
import { TargetError } from '../../../local/services/targets/error.js';
import { TargetSenders } from '../../../local/services/targets/registry.js';

interface Received {
  at: number;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

const region = 'us-east-1';
const accountId = '123456789012';
/** An execute-api URL of a "local" API, rewritten to the test server through the endpoint map. */
const apiId = 'abc123def4';

let server: Server;
let baseUrl: string;
let received: Received[];
let service: ApiDestinationService;

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      received.push({ at: performance.now(), method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
      const status = Number(/status=(\d+)/.exec(request.url ?? '')?.[1] ?? 201);
      response.writeHead(status, status === 429 ? { 'retry-after': '2' } : {}).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  baseUrl = `http://${LOOPBACK}:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  received = [];
  service = new ApiDestinationService({ region, accountId });
});

function apiKeyConnection(extra: Parameters<ApiDestinationService['createConnection']>[0]['AuthParameters'] = {}) {
  return service.createConnection({
    Name: 'provider',
    AuthorizationType: 'API_KEY',
    AuthParameters: { ApiKeyAuthParameters: { ApiKeyName: 'x-api-key', ApiKeyValue: 'secret-key' }, ...extra },
  });
}

describe('API destinations', () => {
  test('at 5 rps, 20 calls are spread over 19 intervals of 200 ms, so a provider throttling at 5 rps (burst 5) refuses none; each has the API key', async () => {
    // Prepare
    const connection = apiKeyConnection();
    const destination = service.createApiDestination({
      Name: 'payments',
      ConnectionArn: connection.arn,
      HttpMethod: 'POST',
      InvocationEndpoint: `https://${apiId}.execute-api.${region}.amazonaws.com/prod/payments`,
      InvocationRateLimitPerSecond: 5,
    });

    const endpoints = { [apiId]: baseUrl };
    // The first fetch of a process pays for HTTP client start-up; warmed so that only the limiter is measured.
    await service.invoke(destination.arn, '{"warm-up":true}', { endpoints });
    received = [];

    // Act: all 20 at once, as a burst of events would arrive
    await Promise.all(Array.from({ length: 20 }, (_, i) => service.invoke(destination.arn, JSON.stringify({ n: i }), { endpoints })));

    // Assess: no burst — 20 calls take 19 intervals of 200 ms (less 50 ms of arrival jitter)…
    expect(received).toHaveLength(20);
    const arrivals = received.map((call) => call.at).sort((a, b) => a - b);
    expect(arrivals[19]! - arrivals[0]!).toBeGreaterThanOrEqual(19 * 200 - 50);
    // …and a provider throttling at 5 rps with a burst of 5 (the template's stand-in) refuses none of them.
    let tokens = 5;
    let last = arrivals[0]!;
    for (const at of arrivals) {
      tokens = Math.min(5, tokens + ((at - last) / 1000) * 5);
      last = at;
      expect(tokens).toBeGreaterThanOrEqual(1);
      tokens -= 1;
    }
    expect(received.every((call) => call.headers['x-api-key'] === 'secret-key')).toBe(true);
    expect(received.every((call) => call.url === '/prod/payments' && call.method === 'POST')).toBe(true);
    expect(received[0]?.headers['content-type']).toBe('application/json');
    expect(received.map((call) => JSON.parse(call.body).n).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(service.stats()).toEqual({ payments: { calls: 21, succeeded: 21, throttled: 0, failed: 0 } });
  }, 30_000);

  test('merges the caller\'s parameters with the connection\'s, the connection winning, and fills path wildcards', async () => {
    // Prepare
    const connection = apiKeyConnection({
      InvocationHttpParameters: {
        HeaderParameters: [{ Key: 'X-Tenant', Value: 'from-connection' }],
        QueryStringParameters: [{ Key: 'region', Value: 'eu' }],
        BodyParameters: [{ Key: 'merchant', Value: 'wims' }],
      },
    });
    const destination = service.createApiDestination({
      Name: 'orders', ConnectionArn: connection.arn, HttpMethod: 'PUT', InvocationEndpoint: `${baseUrl}/orders/*/items/*`,
    });

    // Act
    await service.invoke(destination.arn, '{"amount":5}', {
      endpoints: {},
      httpParameters: {
        HeaderParameters: { 'x-tenant': 'from-caller', 'Idempotency-Key': 'k-1', 'x-api-key': 'forged' },
        QueryStringParameters: { region: 'us', page: '2' },
        PathParameterValues: ['o 1', 'i-2'],
      },
    });

    // Assess
    const [call] = received;
    expect(call?.method).toBe('PUT');
    expect(call?.url).toBe('/orders/o%201/items/i-2?region=eu&page=2');
    expect(call?.headers).toMatchObject({ 'x-tenant': 'from-connection', 'idempotency-key': 'k-1', 'x-api-key': 'secret-key' });
    expect(JSON.parse(call?.body ?? '')).toEqual({ amount: 5, merchant: 'wims' });
  });

  test('sends Basic authorization for a BASIC connection', async () => {
    // Prepare
    const connection = service.createConnection({
      Name: 'basic', AuthorizationType: 'BASIC', AuthParameters: { BasicAuthParameters: { Username: 'user', Password: 'pass' } },
    });
    const destination = service.createApiDestination({ Name: 'basic', ConnectionArn: connection.arn, HttpMethod: 'POST', InvocationEndpoint: `${baseUrl}/b` });

    // Act
    await service.invoke(destination.arn, '{}', { endpoints: {} });

    // Assess
    expect(received[0]?.headers.authorization).toBe(`Basic ${Buffer.from('user:pass').toString('base64')}`);
    expect(connection.secretArn).toMatch(/^arn:aws:secretsmanager:us-east-1:123456789012:secret:events!connection\/basic\//);
  });

  test('refuses OAuth connections clearly', () => {
    // Act / Assess
    expect(() => service.createConnection({ Name: 'oauth', AuthorizationType: 'OAUTH_CLIENT_CREDENTIALS', AuthParameters: { OAuthParameters: {} } }))
      .toThrow('OAUTH_CLIENT_CREDENTIALS is not supported locally');
  });

  test.each([
    [429, 'THROTTLING', true],
    [503, 'SDK_CLIENT_ERROR', true],
    [400, 'SDK_CLIENT_ERROR', false],
  ])('a %i response is a TargetError %s (retryable: %s)', async (status, code, retryable) => {
    // Prepare
    const connection = apiKeyConnection();
    const destination = service.createApiDestination({
      Name: 'failing', ConnectionArn: connection.arn, HttpMethod: 'POST', InvocationEndpoint: `${baseUrl}/fail?status=${status}`,
    });

    // Act
    const failure = await service.invoke(destination.arn, '{}', { endpoints: {} }).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(TargetError);
    expect(failure).toMatchObject({ code, retryable, retryAfterMs: status === 429 ? 2000 : undefined });
    expect(service.stats().failing).toEqual({ calls: 1, succeeded: 0, throttled: status === 429 ? 1 : 0, failed: status === 429 ? 0 : 1 });
  });

  test('a connection failure is retryable', async () => {
    // Prepare: a port nothing listens on
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, LOOPBACK, resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const destination = service.createApiDestination({
      Name: 'down', ConnectionArn: apiKeyConnection().arn, HttpMethod: 'POST', InvocationEndpoint: `http://${LOOPBACK}:${port}/x`,
    });

    // Act
    const failure = await service.invoke(destination.arn, '{}', { endpoints: {} }).catch((error: unknown) => error);

    // Assess
    expect(failure).toMatchObject({ code: 'CONNECTION_FAILURE', retryable: true });
  });

  test('the senders reach an API destination by its ARN with the local API endpoints', async () => {
    // Prepare
    const destination = service.createApiDestination({
      Name: 'via-senders',
      ConnectionArn: apiKeyConnection().arn,
      HttpMethod: 'POST',
      InvocationEndpoint: `https://${apiId}.execute-api.${region}.amazonaws.com/prod/payments`,
    });
    const senders = new TargetSenders({ 'api-destination': apiDestinationSender(service, { [apiId]: baseUrl }) });

    // Act
    await senders.deliver(destination.arn, '{"orderId":"o-1"}', { httpParameters: { HeaderParameters: { 'Idempotency-Key': 'o-1' } } });

    // Assess
    expect(received).toEqual([expect.objectContaining({ url: '/prod/payments', body: '{"orderId":"o-1"}' })]);
    expect(received[0]?.headers['idempotency-key']).toBe('o-1');
  });
});
