/**
 * The dashboard in a real browser (Debian's headless Chromium through playwright-core): an order
 * placed through the API is followed live to READY_FOR_FULFILLMENT on its trace; a poison order's
 * trace shows the step that failed; a dead-letter redrive from the page moves the messages.
 * Each view is saved as a screenshot under screenshots/ (git-ignored); trace-readme.png is the
 * one in docs/ for the README.
 *
 * Without /usr/bin/chromium the suite is skipped with the reason in its name, except under
 * CI=true, where it fails: .ci/run installs the browser.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PutItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Browser, Page } from 'playwright-core';
import { chromiumMissing, launchChromium } from '../../../loadtest/chromium.js';
import { startDashboard, type Dashboard } from '../../../local/dashboard/server.js';
import { localClientConfig, waitUntil } from '../../../local/net.js';
import { startLocalStack, type LocalStack } from '../../../local/runtime.js';
import { startTestStack, type TestStack } from '../../helpers/stack.js';

const SCREENSHOTS = fileURLToPath(new URL('../../../screenshots/', import.meta.url));
const missing = process.env.CI === 'true' ? undefined : chromiumMissing();
if (missing !== undefined) console.log(`dashboard browser tests skipped: ${missing}`);
const describeInBrowser = missing === undefined ? describe : describe.skip;

let browser: Browser;
let page: Page;

async function shoot(name: string): Promise<void> {
  await page.screenshot({ path: `${SCREENSHOTS}${name}.png`, fullPage: true });
}

describeInBrowser(`the dashboard in headless Chromium${missing === undefined ? '' : ` (skipped: ${missing})`}`, () => {
  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1500, height: 950 } });
  }, 60_000);

  afterAll(() => browser?.close(), 30_000);

  describe('on the template', () => {
    let running: TestStack;
    let dashboard: Dashboard;

    beforeAll(async () => {
      running = await startTestStack({ stackName: 'wims-dashboard' });
      dashboard = await startDashboard(running.stack, 'template.yaml');
    }, 120_000);

    afterAll(async () => {
      await dashboard?.stop();
      await running?.stop();
    }, 60_000);

    it('follows an order placed through the API to READY_FOR_FULFILLMENT on its trace', async () => {
      // Prepare
      await page.goto(`${dashboard.url}#orders`);
      await page.waitForSelector('[data-view=orders]');

      // Act
      const response = await fetch(`${running.api}/orders`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ customerId: 'browser-1', quantity: 2 }),
      });
      expect(response.status).toBe(202);
      const { orderId } = (await response.json()) as { orderId: string };
      await page.fill('#order-search', 'browser-1');
      await page.click(`a.order-link:text("${orderId}")`, { timeout: 30_000 });

      // Assess: the live trace reaches the terminal status, every service on the way shows a hop.
      await page.waitForSelector('.badge.summary-status.status-READY_FOR_FULFILLMENT', { timeout: 60_000 });
      const hops = await page.$$eval('.timeline .hop', (items) => items.map((item) => item.getAttribute('data-hop')));
      for (const expected of ['apigateway POST /orders', 'dynamodb PutItem', 'dynamodb GetRecords', 'pipes Enrichment', 'events PutEvents',
        'events Delivery', 'states Execution', 'sqs ReceiveMessage', 'events ApiDestination', 'apigateway POST /payments/webhook', 'sqs SendMessage']) {
        expect(hops).toContain(expected);
      }
      expect(await page.$$('.hop.failed')).toHaveLength(0);
      await shoot('trace');
      await page.screenshot({ path: `${SCREENSHOTS}trace-readme.png` });
      await page.click('.hop[data-hop="states Execution"] details summary');
      await shoot('trace-payload');

      for (const view of ['topology', 'orders', 'queues', 'executions', 'outbox', 'metrics', 'alarms', 'replay']) {
        await page.goto(`${dashboard.url}#${view}`);
        await page.waitForSelector(`[data-view=${view}]`);
        await shoot(view);
        if (view === 'topology') expect(await page.$$('.topology .edge')).not.toHaveLength(0);
      }
    }, 120_000);

    it("shows a poison order's failed step and its error on its trace", async () => {
      // Prepare: an order no API would write (its quantity is not a number).
      const orderId = `poison-${Date.now()}`;
      const now = String(Date.now());
      const dynamodb = new DynamoDBClient(localClientConfig(running.stack.endpoints.dynamodb, 'us-east-1'));
      try {
        // Act
        await dynamodb.send(new PutItemCommand({
          TableName: running.table,
          Item: {
            pk: { S: 'CUSTOMER#browser-poison' }, sk: { S: `ORDER#${orderId}` }, orderId: { S: orderId }, customerId: { S: 'browser-poison' },
            status: { S: 'PENDING' }, quantity: { S: 'many' }, sku: { S: 'MACGUFFIN-LX' }, createdAt: { N: now }, openShard: { S: 'OPEN#0' }, openSince: { N: now },
          },
        }));
      } finally {
        dynamodb.destroy();
      }
      await page.goto(`${dashboard.url}#trace/${orderId}`);

      // Assess: the banner names the failed execution's state and error; the state's row is marked.
      const banner = await page.waitForSelector('.failure-banner', { timeout: 60_000 });
      expect(await banner.textContent()).toMatch(/Failed at states Execution .*FAILED in \w+: \S+/);
      const failedRows = await page.$$eval('.hop.failed table.states tr.failed .state-name', (cells) => cells.map((cell) => cell.textContent));
      expect(failedRows.join(' ')).toMatch(/\w+/);
      await shoot('trace-failed');
    }, 120_000);
  });

  describe('on a template with a dead-letter queue nothing consumes', () => {
    let stack: LocalStack;
    let dashboard: Dashboard;
    let sqs: SQSClient;

    beforeAll(async () => {
      const templatePath = fileURLToPath(new URL('../fixtures/dashboard-dlq.yaml', import.meta.url));
      stack = await startLocalStack({ templatePath, inMemory: true, apiPort: 0, stackName: 'wims-dashboard-dlq' });
      dashboard = await startDashboard(stack, templatePath);
      sqs = new SQSClient(localClientConfig(stack.endpoints.sqs, 'us-east-1'));
    }, 120_000);

    afterAll(async () => {
      sqs?.destroy();
      await dashboard?.stop();
      await stack?.stop();
    }, 60_000);

    const visible = async (logicalId: string): Promise<number> => {
      const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({
        QueueUrl: stack.resources.get(logicalId)!.physicalId, AttributeNames: ['ApproximateNumberOfMessages'],
      }));
      return Number(Attributes.ApproximateNumberOfMessages);
    };

    it('moves the dead letters back to their source queue when the page asks', async () => {
      // Prepare: three dead letters.
      for (const index of [1, 2, 3]) {
        await sqs.send(new SendMessageCommand({ QueueUrl: stack.resources.get('WorkDeadLetterQueue')!.physicalId, MessageBody: JSON.stringify({ letter: index }) }));
      }
      await page.goto(`${dashboard.url}#queues`);
      await page.waitForSelector('tr.dlq-alert[data-queue=WorkDeadLetterQueue]', { timeout: 15_000 });
      await shoot('queues-dead-letters');

      // Act
      await page.click('.redrive-button[data-queue=WorkDeadLetterQueue]');

      // Assess: the page reports the move, and the queues hold what it says.
      await page.waitForSelector('.redrive-result:text("moved 3 message(s) from WorkDeadLetterQueue to WorkQueue")', { timeout: 15_000 });
      expect(await visible('WorkDeadLetterQueue')).toBe(0);
      await waitUntil(async () => (await visible('WorkQueue')) === 3, { timeoutMs: 10_000, description: 'three messages back in WorkQueue' });
      await page.waitForSelector('tr[data-queue=WorkQueue] .visible:text("3")', { timeout: 15_000 });
      await shoot('queues-redriven');
    }, 120_000);
  });
});
