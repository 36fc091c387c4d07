/**
 * `npm run bench:dashboard`: what the dashboard costs the stack while `npm run bench -- --quick`
 * runs. Each round runs that benchmark three times, alternating: without the dashboard, with it
 * idle (its event log recording every hop, no page) and with a headless Chromium page open on
 * it. Printed per mode: the stack's CPU seconds (this process's threads and DynamoDB Local's JVM,
 * from /proc, from the first request until every order settled; Artillery and Chromium excluded)
 * and CPU milliseconds per accepted order; then the ratios (the bound: the page costs at
 * most 5 %). Each run's result is kept as loadtest/results/dashboard-<mode>-<round>.json.
 *
 *   npm run bench:dashboard                  1 round
 *   npm run bench:dashboard -- --rounds 2
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { BenchResult } from './report.js';

type Mode = 'none' | 'idle' | 'page';
const MODES: readonly Mode[] = ['none', 'idle', 'page'];
const RESULTS = resolve('loadtest/results');

const { values: flags } = parseArgs({ options: { rounds: { type: 'string' } } });
const rounds = Number(flags.rounds ?? 1);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds takes a positive whole number, not ${flags.rounds}`);

/** Runs one quick benchmark; resolves to the stack's CPU seconds and the accepted orders. */
function bench(mode: Mode, round: number): { cpuSeconds: number; accepted: number } {
  const args = ['tsx', 'loadtest/bench.ts', '--quick', ...(mode === 'none' ? [] : ['--dashboard', mode])];
  console.log(`round ${round}, dashboard ${mode}: npx ${args.join(' ')}`);
  const run = spawnSync('npx', args, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, NODE_OPTIONS: '--no-warnings=ExperimentalWarning' } });
  if (run.status !== 0) throw new Error(`the benchmark (dashboard ${mode}) exited with ${run.status}`);
  const kept = join(RESULTS, `dashboard-${mode}-${round}.json`);
  copyFileSync(join(RESULTS, 'latest.json'), kept);
  const result = JSON.parse(readFileSync(kept, 'utf8')) as BenchResult;
  if (result.stack.cpu === null) throw new Error('the benchmark measured no CPU');
  const cpuSeconds = Object.values(result.stack.cpu)
    .reduce((sum, phase) => sum + phase.cpu_s.main_thread_s + phase.cpu_s.other_threads_s + phase.cpu_s.dynamodb_local_s, 0);
  return { cpuSeconds, accepted: result.orders.accepted };
}

const totals = Object.fromEntries(MODES.map((mode) => [mode, { cpuSeconds: 0, accepted: 0 }])) as Record<Mode, { cpuSeconds: number; accepted: number }>;
for (let round = 1; round <= rounds; round++) {
  for (const mode of MODES) {
    const { cpuSeconds, accepted } = bench(mode, round);
    totals[mode].cpuSeconds += cpuSeconds;
    totals[mode].accepted += accepted;
    console.log(`  ${cpuSeconds.toFixed(2)} CPU s for ${accepted} orders`);
  }
}
const perOrderMs = (mode: Mode): number => (totals[mode].cpuSeconds * 1000) / Math.max(1, totals[mode].accepted);
const ratio = (over: Mode, base: Mode): number => Math.round((perOrderMs(over) / perOrderMs(base) - 1) * 1000) / 10;
console.log(`\nstack CPU per accepted order over ${rounds} round(s) of npm run bench -- --quick:`);
for (const mode of MODES) console.log(`  dashboard ${mode.padEnd(4)}  ${perOrderMs(mode).toFixed(2)} ms/order  (${totals[mode].cpuSeconds.toFixed(1)} CPU s, ${totals[mode].accepted} orders)`);
const figures = { event_log_pct: ratio('idle', 'none'), page_pct: ratio('page', 'idle'), dashboard_with_page_pct: ratio('page', 'none') };
console.log(`  the event log (idle dashboard) over none: ${figures.event_log_pct >= 0 ? '+' : ''}${figures.event_log_pct} %`);
console.log(`  the connected page over the idle dashboard: ${figures.page_pct >= 0 ? '+' : ''}${figures.page_pct} %  (bound: 5 %)`);
console.log(`  dashboard with its page over none: ${figures.dashboard_with_page_pct >= 0 ? '+' : ''}${figures.dashboard_with_page_pct} %`);
const file = join(RESULTS, 'dashboard-cost.json');
writeFileSync(file, `${JSON.stringify({ rounds, per_order_ms: Object.fromEntries(MODES.map((mode) => [mode, perOrderMs(mode)])), totals, ...figures }, null, 2)}\n`);
console.log(`written: ${file}`);
