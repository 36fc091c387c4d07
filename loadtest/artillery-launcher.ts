/**
 * The thread Artillery is started from (see ArtilleryLauncher in artillery.ts): it spawns the
 * process it is asked for and posts back its pid, its output and how it ended. It runs without
 * a TypeScript loader (Node strips the types itself).
 */
import { spawn } from 'node:child_process';
import { parentPort } from 'node:worker_threads';

/** What the thread is asked to start. */
export interface LaunchRequest {
  command: string;
  args: string[];
  env: Record<string, string | undefined>;
}

/** What it posts back, in order: the pid, output chunks, then the end. */
export type LaunchReport = { pid: number | undefined } | { output: Uint8Array } | { error: string } | { exitCode: number | null };

const port = parentPort!;
port.on('message', ({ command, args, env }: LaunchRequest) => {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  const post = (report: LaunchReport): void => port.postMessage(report);
  post({ pid: child.pid });
  for (const stream of [child.stdout, child.stderr]) stream.on('data', (chunk: Buffer) => post({ output: chunk }));
  child.once('error', (error) => post({ error: error.message }));
  child.once('close', (exitCode) => post({ exitCode }));
});
