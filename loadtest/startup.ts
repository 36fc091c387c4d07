/**
 * Start-up and idle memory as a user meets them: `node bin/wims.js up` (what `npm start` runs) in a child
 * process, timed from its spawn to its "ready" line, then left idle for a moment and its whole
 * process tree's resident memory summed (Node with its worker threads, DynamoDB Local's JVM and
 * anything else it started). Cold: an empty cache (local/cache.ts) and state folder; warm: the same again,
 * with nothing changed since.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { rssBytes } from './resources.js';

/** How long the stack is left alone before its memory is read: its start-up work has ended. */
const SETTLE_BEFORE_MEMORY_MS = 3000;
const READY_TIMEOUT_MS = 120_000;

/** One start of `wims up`. */
export interface StartFigures {
  ready_ms: number;
  idle_rss_mb: number;
  /** The tree's processes at the time, by command name. */
  processes: Record<string, number>;
}

/** A cold start, then a warm one, of template.yaml in a fresh state folder. */
export async function measureStarts(): Promise<{ cold: StartFigures; warm: StartFigures }> {
  const scratch = mkdtempSync(join(tmpdir(), 'wims-start-'));
  try {
    const environment = { ...process.env, WIMS_CACHE_DIR: join(scratch, 'cache') };
    const cold = await startOnce(join(scratch, 'state'), environment);
    const warm = await startOnce(join(scratch, 'state'), environment);
    return { cold, warm };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function startOnce(stateDir: string, environment: NodeJS.ProcessEnv): Promise<StartFigures> {
  const started = performance.now();
  // What `npm start` runs.
  const child = spawn(process.execPath, [resolve('bin/wims.js'), 'up', '--state-dir', stateDir, '--port', '0', '--quiet'], {
    env: environment,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((done) => child.once('close', () => done()));
  let output = '';
  try {
    const readyMs = await new Promise<number>((ready, fail) => {
      const timer = setTimeout(() => fail(new Error(`wims up was not ready within ${READY_TIMEOUT_MS} ms:\n${output}`)), READY_TIMEOUT_MS);
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (/^ready in /m.test(output)) {
          clearTimeout(timer);
          ready(performance.now() - started);
        }
      });
      child.stderr.on('data', (chunk: Buffer) => void (output += chunk.toString()));
      child.once('close', (code) => {
        clearTimeout(timer);
        fail(new Error(`wims up exited with ${code} before it was ready:\n${output}`));
      });
    });
    await sleep(SETTLE_BEFORE_MEMORY_MS);
    const processes: Record<string, number> = {};
    let total = 0;
    for (const pid of processTree(child.pid!)) {
      const bytes = rssBytes(pid);
      total += bytes;
      const name = commandName(pid);
      processes[name] = Math.round((processes[name] ?? 0) + bytes / 2 ** 20);
    }
    return { ready_ms: Math.round(readyMs), idle_rss_mb: Math.round(total / 2 ** 20), processes };
  } finally {
    child.kill('SIGINT');
    await exited;
  }
}

/** A process and all its descendants (Linux /proc). */
function processTree(pid: number): number[] {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // the process has ended
  }
  return [pid, ...children.flatMap(processTree)];
}

function commandName(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return 'ended';
  }
}
