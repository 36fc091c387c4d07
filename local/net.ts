/**
 * Small helpers for the local runtime's servers: pick a free loopback port, wait for a condition
 * or a listening port with a deadline (never sleep-and-hope), and make sure child processes die
 * with the parent.
 */
import type { ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';

/** The address every local server binds to. */
export const LOOPBACK = '127.0.0.1';

/**
 * Returns a TCP port that is free on 127.0.0.1 right now. Another process may still take it
 * before the caller binds, so callers that spawn a server should treat "address in use" as a
 * startup failure rather than assume the port stays free.
 */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('freePort: the OS returned no port'));
      });
    });
  });
}

/** Options for {@link waitUntil}. */
export interface WaitOptions {
  /** Give up after this many milliseconds (default 10 000). */
  timeoutMs?: number;
  /** Pause between attempts in milliseconds (default 25). */
  intervalMs?: number;
  /** Names what is awaited in the timeout error, e.g. "DynamoDB Local on port 8000". */
  description?: string;
  /** Checked before every attempt; a returned Error aborts the wait at once (e.g. the server process died). */
  abortIf?: () => Error | undefined;
}

/**
 * Calls `probe` until it returns a value other than `undefined`/`false` (or stops throwing) and
 * returns that value; throws once the deadline passes, with the last probe error as the cause.
 */
export async function waitUntil<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: WaitOptions = {},
): Promise<T> {
  const { timeoutMs = 10_000, intervalMs = 25, description = 'condition', abortIf } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    const aborted = abortIf?.();
    if (aborted) throw aborted;
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${description}`, { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Resolves once something accepts TCP connections on `host:port`; throws after the deadline. */
export async function waitForPort(port: number, options: WaitOptions & { host?: string } = {}): Promise<void> {
  const host = options.host ?? LOOPBACK;
  await waitUntil(
    () =>
      new Promise<boolean>((resolve) => {
        const socket = connect({ port, host });
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(false));
      }),
    { description: `a listener on ${host}:${port}`, ...options },
  );
}

const children = new Set<ChildProcess>();

function killAllChildren(): void {
  for (const child of children) child.kill('SIGKILL');
  untrack();
}

function onSignal(signal: NodeJS.Signals): void {
  // When someone else listens (the runtime's graceful shutdown), let it stop the children in
  // order; the 'exit' hook still kills whatever is left.
  if (process.listenerCount(signal) > 1) return;
  killAllChildren();
  // A signal listener suppresses Node's default "exit on signal": restore it, so Ctrl+C still
  // ends the process.
  process.kill(process.pid, signal);
}

/** Forgets the given child (or all of them) and removes the process hooks once none is left. */
function untrack(child?: ChildProcess): void {
  if (child) children.delete(child);
  else children.clear();
  if (children.size > 0) return;
  process.removeListener('exit', killAllChildren);
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
}

/**
 * Kills `child` (SIGKILL) when this process exits or receives SIGINT/SIGTERM, so a crashed or
 * interrupted runtime leaves no orphan servers. The hooks are removed once every tracked child
 * has exited. A SIGKILL of this process cannot be intercepted; such a child outlives it.
 */
export function killWithParent(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  if (children.size === 0) {
    process.on('exit', killAllChildren);
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  children.add(child);
  child.once('exit', () => untrack(child));
  child.once('error', () => untrack(child)); // e.g. the executable does not exist
}

/**
 * SDK client settings for a local emulator: its endpoint, a region, and fixed dummy credentials
 * (the emulators accept any, and the default chain would otherwise probe the EC2 metadata service).
 */
export function localClientConfig(endpoint: string, region: string) {
  return { endpoint, region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
}
