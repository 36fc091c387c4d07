/**
 * `AWS::CloudFormation::CustomResource` and `Custom::*`: the runtime sends the Lambda behind
 * ServiceToken the same request CloudFormation sends, and waits for the response the function
 * PUTs to the pre-signed ResponseURL — here a one-shot URL on a local HTTP server.
 *
 * Like a stack update, a restart with persistent state sends Create only the first time, Update
 * when the properties changed, and nothing when they did not (the last response is kept in
 * `<stateDir>/custom-resources.json`).
 *
 * LIMITATIONS: only Lambda service tokens (no SNS); Delete is never sent (the local stack is not
 * torn down; `--reset` discards the state instead); the response must arrive within the
 * function's timeout plus a margin rather than CloudFormation's hour.
 *
 * DURABILITY: the last response is written after the function answered; a SIGKILL before that
 * sends the same Create or Update again at the next start, so handlers must be idempotent (as
 * CloudFormation may also resend a request).
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { Json } from '../../template/parse.js';
import { LOOPBACK } from '../../net.js';
import type { DeployedResource, ResolvedResource, ResourceProvider, RuntimeContext } from '../provider.js';
import type { LambdaInvoker } from '../lambda/runtime.js';

interface CustomResourceResponse {
  Status: 'SUCCESS' | 'FAILED';
  Reason?: string;
  PhysicalResourceId?: string;
  Data?: Record<string, string>;
}

interface Recorded {
  properties: Record<string, Json>;
  physicalId: string;
  data: Record<string, string>;
}

const RESPONSE_WAIT_MS = 60_000;

/** Receives the responses custom resource handlers PUT to their ResponseURL. */
class ResponseReceiver {
  private server: Server | undefined;
  private readonly pending = new Map<string, (response: CustomResourceResponse) => void>();

  async url(token: string): Promise<string> {
    if (!this.server) {
      this.server = createServer((request, response) => {
        let body = '';
        request.on('data', (chunk: Buffer) => (body += chunk.toString()));
        request.on('end', () => {
          const resolve = this.pending.get(request.url?.slice(1) ?? '');
          if (request.method !== 'PUT' || !resolve) {
            response.writeHead(404).end();
            return;
          }
          try {
            resolve(JSON.parse(body) as CustomResourceResponse);
            response.writeHead(200).end();
          } catch {
            resolve({ Status: 'FAILED', Reason: 'The response was not JSON' });
            response.writeHead(400).end();
          }
        });
      });
      await new Promise<void>((resolve) => this.server!.listen(0, LOOPBACK, resolve));
    }
    const address = this.server.address() as { port: number };
    return `http://${LOOPBACK}:${address.port}/${token}`;
  }

  wait(token: string): Promise<CustomResourceResponse> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(token);
        reject(new Error(`no response within ${RESPONSE_WAIT_MS / 1000} s`));
      }, RESPONSE_WAIT_MS);
      this.pending.set(token, (response) => {
        clearTimeout(timer);
        this.pending.delete(token);
        resolve(response);
      });
    });
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** The custom resource provider; `type` is the custom type it serves (`Custom::SeedInventory`, …). */
export function createCustomResourceProvider(
  type: string,
  lambda: LambdaInvoker,
): ResourceProvider {
  const receiver = new ResponseReceiver();
  let closing = false;
  return {
    type,
    async create(resource: ResolvedResource, context: RuntimeContext): Promise<DeployedResource> {
      if (!closing) {
        closing = true;
        context.onStop(() => receiver.close());
      }
      const { ServiceToken, ...properties } = resource.properties;
      if (typeof ServiceToken !== 'string' || !ServiceToken.startsWith('arn:aws:lambda:')) {
        throw new Error(`${resource.logicalId}: ServiceToken must be a Lambda function ARN locally`);
      }
      const recordFile = context.stateDir === undefined ? undefined : join(context.stateDir, 'custom-resources.json');
      const records: Record<string, Recorded> = recordFile && existsSync(recordFile) ? JSON.parse(readFileSync(recordFile, 'utf8')) : {};
      const previous = records[resource.logicalId];
      const allProperties = resource.properties;
      if (previous && isDeepStrictEqual(previous.properties, allProperties)) {
        return { physicalId: previous.physicalId, attributes: previous.data };
      }
      const token = randomUUID();
      const stackId = `arn:aws:cloudformation:${context.region}:${context.accountId}:stack/${context.stackName}/local`;
      const request = {
        RequestType: previous ? 'Update' : 'Create',
        ServiceToken,
        ResponseURL: await receiver.url(token),
        StackId: stackId,
        RequestId: token,
        LogicalResourceId: resource.logicalId,
        ResourceType: resource.type,
        ResourceProperties: { ServiceToken, ...stringified(properties) },
        ...(previous ? { PhysicalResourceId: previous.physicalId, OldResourceProperties: stringified(previous.properties) } : {}),
      };
      const answer = receiver.wait(token);
      const invoked = await lambda.invoke(ServiceToken, request);
      if (!invoked.ok) throw new Error(`${resource.logicalId}: the custom resource handler failed: ${invoked.errorType}: ${invoked.errorMessage}`);
      const response = await answer.catch((error: Error) => {
        throw new Error(`${resource.logicalId}: ${error.message} from the custom resource handler`);
      });
      if (response.Status !== 'SUCCESS') throw new Error(`${resource.logicalId}: ${response.Reason ?? 'the custom resource reported FAILED'}`);
      const physicalId = response.PhysicalResourceId ?? `${resource.logicalId}-${token}`;
      const data = response.Data ?? {};
      if (recordFile) {
        records[resource.logicalId] = { properties: allProperties, physicalId, data };
        mkdirSync(context.stateDir!, { recursive: true });
        writeFileSync(recordFile, `${JSON.stringify(records, null, 2)}\n`);
      }
      context.progress('cloudformation', `${resource.logicalId}: ${request.RequestType} succeeded`);
      return { physicalId, attributes: data };
    },
  };
}

/** A property value as a custom resource receives it: every scalar a string (null stays null). */
type Stringified = null | string | Stringified[] | { [key: string]: Stringified };

/** CloudFormation hands custom resources every scalar property as a string. */
function stringified(value: { [key: string]: Json }): { [key: string]: Stringified };
function stringified(value: Json): Stringified;
function stringified(value: Json): Stringified {
  if (Array.isArray(value)) return value.map(stringified);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, stringified(inner)]));
  return value === null ? value : String(value);
}
