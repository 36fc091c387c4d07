/**
 * `npm run bench:cold-start`: what `NODE_OPTIONS=--enable-source-maps` costs a Lambda cold start.
 * Every function is bundled as `sam build` bundles it (minified, with its source map beside it);
 * then, alternating the two settings, each sample is a fresh Node process (a new sandbox) with the
 * function's template environment that loads the handler's module. Printed per function and
 * setting: p50 and p90 of the init (process start to handler loaded) and of the first error's
 * stack (an error the handler throws from inside the bundle, which the flag maps back to the
 * TypeScript source), and the ratio of the p50s.
 *
 *   npm run bench:cold-start                    20 samples per function and setting
 *   npm run bench:cold-start -- --samples 50
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { buildFunctions } from '../scripts/build-functions.js';
import { PROJECT_ROOT } from '../scripts/aws-tools.js';
import { loadTemplate } from '../local/template/loader.js';
import type { DeployedResource } from '../local/services/provider.js';
import { percentile } from './stats.js';

const SETTINGS = { without: '', with: '--enable-source-maps' } as const;
type Setting = keyof typeof SETTINGS;

/** Loads the module, then calls the handler on no event: the error it throws from inside the bundle has its stack read once. */
const PROBE = `
const started = performance.now();
const { handler } = await import(process.env.PROBE_MODULE);
const initMs = performance.now();
let stackMs = null;
try { await handler(undefined, {}); } catch (error) {
  const before = performance.now();
  const stack = String(error.stack);
  if (stack.includes('handler')) stackMs = performance.now() - before;
}
console.log(JSON.stringify({ initMs, importMs: initMs - started, stackMs }));
`;

interface Sample { initMs: number; importMs: number; stackMs: number | null }

/** Each function's template environment, references answered with placeholders (nothing is called). */
function functionEnvironments(): Map<string, Record<string, string>> {
  const loaded = loadTemplate(join(PROJECT_ROOT, 'template.yaml'));
  const placeholders = new Proxy({}, { get: () => 'bench-placeholder', has: () => true });
  const deployed = new Map<string, DeployedResource>(
    loaded.deploymentOrder().map((id) => [id, { physicalId: `bench-${id}`, attributes: placeholders }]),
  );
  return new Map(loaded.resourcesOfType('AWS::Lambda::Function').map((id) => {
    const variables = (loaded.resolveResource(id, deployed).properties as { Environment?: { Variables?: Record<string, unknown> } })
      .Environment?.Variables ?? {};
    const { NODE_OPTIONS: _setting, ...rest } = variables;
    return [id, Object.fromEntries(Object.entries(rest).map(([name, value]) => [name, String(value)]))];
  }));
}

function sample(module: string, environment: Record<string, string>, setting: Setting): Sample {
  const result = spawnSync(process.execPath, ['--input-type=module', '--no-warnings', '-e', PROBE], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH ?? '',
      ...environment,
      NODE_OPTIONS: SETTINGS[setting],
      PROBE_MODULE: pathToFileURL(module).href,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      // Any AWS call the handler tries fails at once instead of reaching a network.
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      AWS_MAX_ATTEMPTS: '1',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    },
  });
  const line = result.stdout.trim().split('\n').at(-1) ?? '';
  if (result.status !== 0 || !line.startsWith('{')) throw new Error(`${module}: the probe failed\n${result.stderr}`);
  return JSON.parse(line) as Sample;
}

const ms = (value: number | null): string => (value === null ? '   -' : value.toFixed(1).padStart(6));

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { samples: { type: 'string', default: '20' } } });
  const samples = Number(values.samples);
  if (!Number.isInteger(samples) || samples < 1) throw new Error(`--samples must be a positive integer, not ${values.samples}`);

  const outDir = mkdtempSync(join(tmpdir(), 'wims-cold-start-'));
  try {
    const built = await buildFunctions(outDir);
    const environments = functionEnvironments();
    console.log(`${samples} cold starts per function and setting, Node ${process.version}; milliseconds\n`);
    console.log(`${'function'.padEnd(28)} ${'source maps'.padEnd(12)} init p50   p90 | 1st stack p50   p90 | init ratio`);
    for (const { logicalId, bundlePath } of built) {
      const runs: Record<Setting, Sample[]> = { without: [], with: [] };
      for (let round = 0; round < samples; round++) {
        // Alternate which setting goes first, so drift on a shared machine falls on both.
        const order: Setting[] = round % 2 === 0 ? ['without', 'with'] : ['with', 'without'];
        for (const setting of order) runs[setting].push(sample(bundlePath, environments.get(logicalId) ?? {}, setting));
      }
      const p = (setting: Setting, field: 'initMs' | 'stackMs', q: number): number | null =>
        percentile(runs[setting].map((run) => run[field]).filter((value): value is number => value !== null), q);
      for (const setting of ['without', 'with'] as const) {
        const ratio = setting === 'with' ? `${(p('with', 'initMs', 50)! / p('without', 'initMs', 50)!).toFixed(2)}x` : '';
        console.log(`${logicalId.padEnd(28)} ${setting.padEnd(12)} ${ms(p(setting, 'initMs', 50))} ${ms(p(setting, 'initMs', 90))} |     ${ms(p(setting, 'stackMs', 50))} ${ms(p(setting, 'stackMs', 90))} | ${ratio}`);
      }
    }
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
