/** A RuntimeContext for provider tests, without the runtime. */
import type { RuntimeContext } from '../../local/services/provider.js';

interface TestContextOptions {
  region?: string;
  accountId?: string;
  stackName?: string;
  stateDir?: string;
  /** Collects diagnostics, progress and not-emulated reports, one line each (`component: message`). */
  logged?: string[];
}

/** The context, and `stop()`, which runs the clean-up steps providers registered, last first. */
export function testRuntimeContext(options: TestContextOptions = {}): RuntimeContext & { logged: string[]; stop(): Promise<void> } {
  const steps: Array<() => Promise<void> | void> = [];
  const logged = options.logged ?? [];
  const log = (component: string, message: string): void => void logged.push(`${component}: ${message}`);
  return {
    region: options.region ?? 'us-east-1',
    accountId: options.accountId ?? '123456789012',
    stackName: options.stackName ?? 'wims-test',
    stateDir: options.stateDir,
    onStop: (step) => void steps.push(step),
    log,
    progress: log,
    notEmulated: (logicalId, features) => log('not emulated', `${logicalId}: ${features.join(', ')}`),
    logged,
    stop: async () => {
      for (const step of steps.splice(0).reverse()) await step();
    },
  };
}
