/**
 * The dashboard beside a benchmark (`npm run bench -- --dashboard idle|page`): `idle` starts it (its
 * event log records every hop) with no page; `page` also keeps a headless Chromium page open on
 * the orders view, which re-renders as the stream's ticks report hops. On stop, the dashboard's
 * own work (see DashboardWork) is written to loadtest/results/dashboard-work.json.
 */
import { writeFileSync } from 'node:fs';
import type { LocalStack } from '../local/runtime.js';
import { startDashboard } from '../local/dashboard/server.js';
import { launchChromium } from './chromium.js';

export type DashboardMode = 'idle' | 'page';

export const DASHBOARD_WORK_FILE = 'loadtest/results/dashboard-work.json';

/** Starts the dashboard (and its page); resolves to what stops them. */
export async function startBenchDashboard(stack: LocalStack, mode: DashboardMode): Promise<() => Promise<void>> {
  const dashboard = await startDashboard(stack, 'template.yaml');
  const stop = async (): Promise<void> => {
    writeFileSync(DASHBOARD_WORK_FILE, `${JSON.stringify(dashboard.work(), null, 2)}\n`);
    await dashboard.stop();
  };
  if (mode === 'idle') return stop;
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1500, height: 950 } });
  await page.goto(`${dashboard.url}#orders`);
  await page.waitForSelector('[data-view=orders]');
  return async () => {
    await browser.close();
    await stop();
  };
}
