/**
 * The local Lambda service's sandboxes: warmed from registration, one warm sandbox taken by the
 * first invocation, a module that fails to load reported by warmAll() (the stack's start) and to
 * each invocation as Lambda reports it, and each sandbox's CPU counted per function.
 */
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LambdaRuntime, type FunctionConfig } from '../../../local/services/lambda/runtime.js';
import { LogStore } from '../../../local/services/logs/store.js';

const workDir = mkdtempSync(join(tmpdir(), 'wims-sandboxes-'));
writeFileSync(join(workDir, 'ok.mjs'), 'let calls = 0;\nexport const handler = async () => ({ calls: ++calls });\n');
writeFileSync(join(workDir, 'broken.mjs'), "throw new Error('the module cannot load');\n");
let lambda: LambdaRuntime | undefined;

function config(name: string, file: string): FunctionConfig {
  const arn = `arn:aws:lambda:us-east-1:000000000000:function:${name}`;
  return { name, arn, bundlePath: join(workDir, file), exportName: 'handler', environment: {}, timeoutSeconds: 5, memoryMb: 128 };
}

afterEach(async () => {
  await lambda?.stop();
});

afterAll(() => rmSync(workDir, { recursive: true, force: true }));

describe('local Lambda sandboxes', () => {
  it('warm from registration: the first invocation runs in that sandbox, and its CPU is counted', async () => {
    // Prepare
    lambda = new LambdaRuntime(new LogStore(undefined), {});
    lambda.register(config('ok', 'ok.mjs'));

    // Act: invoked while its sandbox is still being warmed
    const first = await lambda.invoke('ok', {});
    const second = await lambda.invoke('ok', {});
    await lambda.warmAll();

    // Assess: one module state across both calls, so one sandbox (a second started for the first call would have answered 1 twice)
    expect([first, second]).toMatchObject([{ ok: true, payload: { calls: 1 } }, { ok: true, payload: { calls: 2 } }]);
    expect(lambda.stats().ok).toMatchObject({ invocations: 2, cpuMs: expect.any(Number) });
    expect(lambda.stats().ok!.cpuMs).toBeGreaterThan(0);
  });

  it('report a module that fails to load from warmAll(), and to every invocation as Runtime.ImportModuleError', async () => {
    // Prepare
    lambda = new LambdaRuntime(new LogStore(undefined), {});
    lambda.register(config('broken', 'broken.mjs'));

    // Act
    const warmed = lambda.warmAll().then(() => 'warmed', (error: Error) => error.message);
    const invoked = await lambda.invoke('broken', {});

    // Assess
    expect(await warmed).toBe('broken: the handler module failed to load: the module cannot load');
    expect(invoked).toMatchObject({ ok: false, errorType: 'Runtime.ImportModuleError', errorMessage: 'the module cannot load' });
  });
});
