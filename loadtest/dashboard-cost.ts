/**
 * `npm run bench:dashboard`: what the dashboard costs the stack while `npm run bench -- --quick`
 * runs. Each round runs that benchmark three times, alternating: without the dashboard, with it
 * idle (its event log recording every hop, no page) and with a headless Chromium page open on
 * it. Printed per mode: the stack's CPU seconds (this process's threads and DynamoDB Local's JVM,
 * from /proc, from the first request until every order settled; Artillery and Chromium excluded)
 * and CPU milliseconds per accepted order; then the ratios (the bound: the page costs at
 * most 5 %). On a shared machine those ratios carry the noise of whole runs (idle against none
 * shows its size: the event log alone does almost nothing), so it also prints the dashboard's
 * own work, timed inside it (DashboardWork), as a share of the stack's CPU. Each run's result
 * is kept as loadtest/results/dashboard-<mode>-<round>.json.
 *
 *   npm run bench:dashboard                  1 round
 *   npm run bench:dashboard -- --rounds 2
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { BenchResult } from './report.js';
import type { DashboardWork } from '../local/dashboard/server.js';
import { DASHBOARD_WORK_FILE } from './dashboard-page.js';

type Mode = 'none' | 'idle' | 'page';
const MODES: readonly Mode[] = ['none', 'idle', 'page'];
const RESULTS = resolve('loadtest/results');

const { values: flags } = parseArgs({ options: { rounds: { type: 'string' } } });
const rounds = Number(flags.rounds ?? 1);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds takes a positive whole number, not ${flags.rounds}`);

interface Run { cpuSeconds: number; accepted: number; work?: DashboardWork }

/** Runs one quick benchmark: the stack's CPU seconds, the accepted orders and the dashboard's own work. */
function bench(mode: Mode, round: number): Run {
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
  const work = mode === 'none' ? undefined : (JSON.parse(readFileSync(DASHBOARD_WORK_FILE, 'utf8')) as DashboardWork);
  return { cpuSeconds, accepted: result.orders.accepted, ...(work && { work }) };
}

const totals = Object.fromEntries(MODES.map((mode) => [mode, { cpuSeconds: 0, accepted: 0, mainThreadMs: 0, queueReadsMs: 0 }])) as
  Record<Mode, { cpuSeconds: number; accepted: number; mainThreadMs: number; queueReadsMs: number }>;
for (let round = 1; round <= rounds; round++) {
  for (const mode of MODES) {
    const { cpuSeconds, accepted, work } = bench(mode, round);
    totals[mode].cpuSeconds += cpuSeconds;
    totals[mode].accepted += accepted;
    totals[mode].mainThreadMs += work?.mainThreadMs ?? 0;
    totals[mode].queueReadsMs += work?.queueReadsMs ?? 0;
    const own = work ? `; the dashboard's own work ${(work.mainThreadMs / 1000).toFixed(2)} s on the main thread, queue reads ${(work.queueReadsMs / 1000).toFixed(2)} s (${work.requests} requests, ${work.ticks} ticks)` : '';
    console.log(`  ${cpuSeconds.toFixed(2)} CPU s for ${accepted} orders${own}`);
  }
}
const perOrderMs = (mode: Mode): number => (totals[mode].cpuSeconds * 1000) / Math.max(1, totals[mode].accepted);
const ratio = (over: Mode, base: Mode): number => Math.round((perOrderMs(over) / perOrderMs(base) - 1) * 1000) / 10;
console.log(`\nstack CPU per accepted order over ${rounds} round(s) of npm run bench -- --quick:`);
for (const mode of MODES) console.log(`  dashboard ${mode.padEnd(4)}  ${perOrderMs(mode).toFixed(2)} ms/order  (${totals[mode].cpuSeconds.toFixed(1)} CPU s, ${totals[mode].accepted} orders)`);
const share = (ms: number, mode: Mode): number => Math.round((ms / 10) / totals[mode].cpuSeconds * 10) / 10;
const figures = {
  event_log_pct: ratio('idle', 'none'),
  page_pct: ratio('page', 'idle'),
  dashboard_with_page_pct: ratio('page', 'none'),
  page_own_work_pct: share(totals.page.mainThreadMs, 'page'),
  page_own_work_with_queue_reads_pct: share(totals.page.mainThreadMs + totals.page.queueReadsMs, 'page'),
};
console.log(`  the event log (idle dashboard) over none: ${figures.event_log_pct >= 0 ? '+' : ''}${figures.event_log_pct} %`);
console.log(`  the connected page over the idle dashboard: ${figures.page_pct >= 0 ? '+' : ''}${figures.page_pct} %  (bound: 5 %)`);
console.log(`  dashboard with its page over none: ${figures.dashboard_with_page_pct >= 0 ? '+' : ''}${figures.dashboard_with_page_pct} %`);
console.log(`  timed inside the dashboard, with a page: ${figures.page_own_work_pct} % of the stack's CPU on the main thread, ` +
  `${figures.page_own_work_with_queue_reads_pct} % counting the queue reads' whole wall time (bound: 5 %)`);
const file = join(RESULTS, 'dashboard-cost.json');
writeFileSync(file, `${JSON.stringify({ rounds, per_order_ms: Object.fromEntries(MODES.map((mode) => [mode, perOrderMs(mode)])), totals, ...figures }, null, 2)}\n`);
console.log(`written: ${file}`);
