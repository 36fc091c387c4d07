/**
 * Source-mapped stacks in the local Lambda sandboxes follow the function's NODE_OPTIONS, as on
 * Lambda: a worker ignores NODE_OPTIONS, so the runtime passes --enable-source-maps on itself.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { LambdaRuntime } from '../../../local/services/lambda/runtime.js';
import { LogStore } from '../../../local/services/logs/store.js';

/** A handler that answers with its own stack; the bundle maps its frames back to stack-source.ts. */
const SOURCE = `export const handler = async (): Promise<string> => new Error('where am I').stack ?? '';\n`;

let workDir: string;
let lambda: LambdaRuntime;

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'wims-source-maps-'));
  writeFileSync(join(workDir, 'stack-source.ts'), SOURCE);
  await build({ entryPoints: [join(workDir, 'stack-source.ts')], outfile: join(workDir, 'handler.mjs'), bundle: true, format: 'esm', platform: 'node', minify: true, sourcemap: true, logLevel: 'silent' });
  lambda = new LambdaRuntime(new LogStore(join(workDir, 'logs')), {});
  for (const [name, nodeOptions] of [['mapped', '--max-old-space-size=200 --enable-source-maps'], ['unmapped', '']] as const) {
    lambda.register({
      name,
      arn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
      bundlePath: join(workDir, 'handler.mjs'),
      exportName: 'handler',
      environment: nodeOptions ? { NODE_OPTIONS: nodeOptions } : {},
      timeoutSeconds: 5,
      memoryMb: 128,
    });
  }
});

afterAll(async () => {
  await lambda?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

describe('a local sandbox', () => {
  it('maps stacks to the source when the function NODE_OPTIONS has --enable-source-maps', async () => {
    // Act
    const result = await lambda.invoke('mapped', {});

    // Assess
    expect(result).toMatchObject({ ok: true, payload: expect.stringContaining('stack-source.ts:1') });
  });

  it('leaves stacks on the bundle otherwise', async () => {
    // Act
    const result = await lambda.invoke('unmapped', {});

    // Assess
    expect(result).toMatchObject({ ok: true, payload: expect.stringContaining('handler.mjs:1') });
    expect(result).not.toMatchObject({ payload: expect.stringContaining('stack-source.ts') });
  });
});
