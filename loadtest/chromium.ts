/**
 * Headless Chromium for the dashboard's browser tests and its CPU-cost benchmark: Debian's
 * `chromium` package, driven by playwright-core. No browser is ever downloaded (.npmrc sets
 * playwright_skip_browser_download; playwright-core itself downloads nothing).
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Why the browser cannot run here, or undefined when it can. */
export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing (Debian: apt-get install -y chromium; .ci/run installs it)`;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}
