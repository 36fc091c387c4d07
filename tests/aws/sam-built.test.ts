/**
 * What `sam build` builds is what runs: the local runtime boots SAM's own output,
 * .aws-sam/build/template.yaml, with each function's code taken as SAM built it (not bundled
 * again), invokes every function on its sample events (events/<folder>/, the folder of its
 * EntryPoints) and drives one order through all of them over HTTP. The build is reused when it
 * is newer than its sources (`npm run check:aws` builds just before `npm test` in CI); otherwise
 * this suite runs `sam build` first.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startLocalStack, type LocalStack } from '../../local/runtime.js';
import { waitUntil } from '../../local/net.js';
import { readTemplate } from '../../local/template/parse.js';
import { awsToolPath, describeWithAwsTools, PROJECT_ROOT, samEnvironment } from '../helpers/aws-tools.js';
import { loadEvent } from '../helpers/events.js';
import { startRecordingServer, type RecordingServer } from '../helpers/http.js';

const BUILT_TEMPLATE = join(PROJECT_ROOT, '.aws-sam', 'build', 'template.yaml');
const SAM_BUILD_TIMEOUT_MS = 15 * 60_000;

/** The newest modification time among the files `sam build` reads. */
function newestSourceMs(): number {
  const files = ['template.yaml', 'package.json', 'package-lock.json', 'tsconfig.json']
    .map((file) => join(PROJECT_ROOT, file))
    .concat(readdirSync(join(PROJECT_ROOT, 'functions'), { recursive: true, encoding: 'utf8' }).map((file) => join(PROJECT_ROOT, 'functions', file)));
  return Math.max(...files.filter((file) => existsSync(file)).map((file) => statSync(file).mtimeMs));
}

function ensureSamBuild(): void {
  if (existsSync(BUILT_TEMPLATE) && statSync(BUILT_TEMPLATE).mtimeMs > newestSourceMs()) return;
  console.log('sam-built: .aws-sam/build is missing or older than its sources; running sam build');
  const result = spawnSync(awsToolPath('sam'), ['build'], { cwd: PROJECT_ROOT, env: samEnvironment(), encoding: 'utf8', timeout: SAM_BUILD_TIMEOUT_MS });
  if (result.status !== 0) throw new Error(`sam build failed:\n${result.stdout}${result.stderr}`);
}

/** Each function of the built template with the folder of its sample events. */
function functionsWithEvents(): Array<{ logicalId: string; eventFiles: string[] }> {
  const { Resources } = readTemplate(join(PROJECT_ROOT, 'template.yaml'));
  return Object.entries(Resources)
    .filter(([, resource]) => resource.Type === 'AWS::Serverless::Function')
    .map(([logicalId, resource]) => {
      const entryPoint = String((resource.Metadata as { BuildProperties: { EntryPoints: string[] } }).BuildProperties.EntryPoints[0]);
      const folder = entryPoint.split('/').at(-2)!;
      return { logicalId, eventFiles: readdirSync(join(PROJECT_ROOT, 'events', folder)).map((file) => `${folder}/${file}`) };
    });
}

/**
 * What each sample event must produce. The webhook samples are both refused: the confirmation
 * was signed on 27 November 2026, outside the handler's tolerance of the clock (the order below
 * proves the webhook's accepting path with a fresh signature).
 */
const EXPECTED: Record<string, (payload: unknown) => void> = {
  'cdc-enrichment': (payload) => expect(payload).toEqual([expect.objectContaining({ meta: expect.any(Object), data: expect.any(Object) })]),
  // The key the provider's sample charge carries: the samples tell one payment's story.
  'payments-enrichment': (payload) => expect(payload).toEqual([expect.objectContaining({
    idempotencyKey: loadEvent<{ headers: Record<string, string> }>('payments-provider/charge-requested.json').headers['Idempotency-Key'],
  })]),
  'payment-failed': (payload) => expect(payload).toEqual({ batchItemFailures: [] }),
  'payments-provider': (payload) => expect(payload).toMatchObject({ statusCode: 201 }),
  'payment-webhook': (payload) => expect(payload).toMatchObject({ statusCode: 401 }),
  'seed-inventory': (payload) => expect(payload).toMatchObject({ Status: 'SUCCESS' }),
  'reconciler-clock': (payload) => expect(payload).toEqual({ nowMs: expect.stringMatching(/^\d+$/), cutoffMs: expect.stringMatching(/^\d+$/) }),
};

/** The fields of a sample event this test fills in or reads (those of a custom resource request). */
interface SampleEvent {
  ResourceProperties?: Record<string, unknown>;
  ResponseURL?: string;
  RequestId?: string;
}

let stack: LocalStack;
let cloudFormation: RecordingServer;

describeWithAwsTools('the artifacts sam build writes', ['sam'], () => {
  beforeAll(async () => {
    ensureSamBuild();
    cloudFormation = await startRecordingServer();
    stack = await startLocalStack({ templatePath: BUILT_TEMPLATE, prebuiltCode: true, inMemory: true, apiPort: 0, stackName: 'wims-sam-built' });
  }, SAM_BUILD_TIMEOUT_MS + 120_000);

  afterAll(async () => {
    await stack?.stop();
    await cloudFormation?.close();
  }, 60_000);

  it.each(functionsWithEvents().flatMap(({ logicalId, eventFiles }) => eventFiles.map((eventFile) => [logicalId, eventFile] as const)))(
    '%s runs on events/%s',
    async (logicalId, eventFile) => {
      // Prepare
      const event = loadEvent<SampleEvent>(eventFile);
      const folder = eventFile.split('/')[0]!;
      if (folder === 'seed-inventory') {
        event.ResourceProperties!.TableName = stack.outputs.TableName;
        event.ResponseURL = `${cloudFormation.url}${eventFile}?X-Amz-Signature=local`;
      }

      // Act
      const result = await stack.lambda.invoke(stack.resources.get(logicalId)!.physicalId, event);

      // Assess
      expect(result).toMatchObject({ ok: true });
      EXPECTED[folder]!(result.ok ? result.payload : undefined);
      if (folder === 'seed-inventory') {
        const response = cloudFormation.requests.find((request) => request.url.startsWith(`/${eventFile}`));
        expect(JSON.parse(response!.body)).toMatchObject({ Status: 'SUCCESS', RequestId: event.RequestId });
      }
    },
    30_000,
  );

  it('carry an order through intake, reservation, payment and the webhook to READY_FOR_FULFILLMENT', async () => {
    // Prepare
    const api = stack.endpoints.apis.find((entry) => entry.logicalId === 'OrdersApi')!.url;

    // Act
    const response = await fetch(`${api}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ customerId: 'sam-built', quantity: 1 }),
    });

    // Assess
    expect(response.status).toBe(202);
    const { orderId } = (await response.json()) as { orderId: string };
    const order = await waitUntil(async () => {
      const { orders } = (await (await fetch(`${api}/orders/sam-built`)).json()) as { orders: Array<{ orderId: string; status: string }> };
      return orders.find((candidate) => candidate.orderId === orderId && candidate.status === 'READY_FOR_FULFILLMENT');
    }, { timeoutMs: 30_000, description: 'the order READY_FOR_FULFILLMENT' });
    expect(order).toMatchObject({ paymentStatus: 'PAID' });
  }, 60_000);
});
