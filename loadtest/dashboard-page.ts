/**
 * The dashboard beside a benchmark (`npm run bench -- --dashboard idle|page`): `idle` starts it (its
 * event log records every hop) with no page; `page` also keeps a headless Chromium page open on
 * the orders view, which the stream's tick re-renders each second something happened.
 */
import type { LocalStack } from '../local/runtime.js';
import { startDashboard } from '../local/dashboard/server.js';
import { launchChromium } from './chromium.js';

export type DashboardMode = 'idle' | 'page';

/** Starts the dashboard (and its page); resolves to what stops them. */
export async function startBenchDashboard(stack: LocalStack, mode: DashboardMode): Promise<() => Promise<void>> {
  const dashboard = await startDashboard(stack, 'template.yaml');
  if (mode === 'idle') return () => dashboard.stop();
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1500, height: 950 } });
  await page.goto(`${dashboard.url}#orders`);
  await page.waitForSelector('[data-view=orders]');
  return async () => {
    await browser.close();
    await dashboard.stop();
  };
}
