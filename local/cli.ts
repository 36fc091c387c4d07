/**
 * `wims`: run the template locally and operate it.
 *
 *   wims up [--in-memory] [--reset] [--port 3000] [--aws-port 4580] [--dashboard-port 3100] [--state-dir .wims] [--parameter Name=Value]… [--verbose]
 *   wims env
 *   wims invoke <FunctionLogicalId> -e events/<function>/<event>.json
 *   wims status
 *   wims replay [--archive <ArchiveLogicalId>] [--from <ISO time>] [--to <ISO time>]
 *   wims dlq redrive <QueueLogicalId>
 *   wims schedule fire <ScheduleLogicalId>
 *
 * Commands other than `up` talk to the running stack (found through `<state-dir>/runtime.json`);
 * `invoke` boots a throwaway in-memory stack when none runs. Errors are one line.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startLocalStack, type LocalStack, type NotEmulated, type RuntimeOptions } from './runtime.js';
import { startAdminServer, type StackStatus } from './admin.js';
import { startDashboard } from './dashboard/server.js';
import { invokeFunction, redriveDeadLetterQueue, replayArchive, type RunningStack } from './aws-commands.js';

const USAGE = `usage:
  wims up [--in-memory] [--reset] [--port 3000] [--aws-port 4580] [--dashboard-port 3100] [--state-dir .wims] [--parameter Name=Value]... [--verbose]
  wims env                      # export AWS_ENDPOINT_URL=… for the AWS CLI and SDKs: eval "$(npx wims env)"
  wims invoke <FunctionLogicalId> -e <event.json>
  wims status
  wims replay [--archive <ArchiveLogicalId>] [--from <ISO time>] [--to <ISO time>]
  wims dlq redrive <QueueLogicalId>
  wims schedule fire <ScheduleLogicalId>`;

class UsageError extends Error {
  override name = 'UsageError';
}

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'in-memory': { type: 'boolean' },
    reset: { type: 'boolean' },
    port: { type: 'string' },
    'dashboard-port': { type: 'string' },
    'aws-port': { type: 'string' },
    'state-dir': { type: 'string' },
    template: { type: 'string' },
    parameter: { type: 'string', multiple: true },
    event: { type: 'string', short: 'e' },
    archive: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    quiet: { type: 'boolean' },
    verbose: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});

const stateDir = resolve(flags['state-dir'] ?? process.env.WIMS_STATE_DIR ?? '.wims');

/**
 * The AWS endpoint's port when neither --aws-port nor WIMS_AWS_PORT names one: fixed, so that a
 * command copied yesterday works today (not LocalStack's 4566, so that both can run side by side).
 */
const DEFAULT_AWS_PORT = 4580;
/** The region and dummy credentials the local stack runs with (the endpoint accepts any). */
const LOCAL_REGION = 'us-east-1';
const LOCAL_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' };

/** A TCP port from a flag or variable (0: any free one). */
function portSetting(text: string, what: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`${what} must be a TCP port (0: any free one), not ${text}`);
  return port;
}

function awsPort(): number {
  // An empty WIMS_AWS_PORT counts as unset, as an unset variable would.
  return portSetting(flags['aws-port'] ?? (process.env.WIMS_AWS_PORT || String(DEFAULT_AWS_PORT)), '--aws-port');
}

function runtimeOptions(): RuntimeOptions {
  const parameterOverrides: Record<string, string> = {};
  for (const pair of flags.parameter ?? []) {
    const equals = pair.indexOf('=');
    if (equals < 1) throw new UsageError(`--parameter takes Name=Value, not ${pair}`);
    parameterOverrides[pair.slice(0, equals)] = pair.slice(equals + 1);
  }
  // 0: ports the system chooses (printed at start-up).
  const port = portSetting(flags.port ?? process.env.WIMS_PORT ?? '3000', '--port');
  return {
    templatePath: flags.template ?? 'template.yaml',
    stateDir,
    inMemory: flags['in-memory'] ?? false,
    reset: flags.reset ?? false,
    apiPort: port,
    awsPort: awsPort(),
    region: LOCAL_REGION,
    parameterOverrides,
    log: flags.quiet ? undefined : (component, message) => console.log(`  [${component}] ${message}`),
    verbose: flags.verbose ?? false,
  };
}

/** One line: each setting the runtime does not emulate, with the resources that have it. */
function notEmulatedLine(reports: readonly NotEmulated[]): string | undefined {
  const byFeature = new Map<string, string[]>();
  for (const { logicalId, features } of reports) {
    for (const feature of features) byFeature.set(feature, [...(byFeature.get(feature) ?? []), logicalId]);
  }
  if (byFeature.size === 0) return undefined;
  return `  not emulated: ${[...byFeature].map(([feature, ids]) => `${feature} (${ids.join(', ')})`).join('; ')}`;
}

async function up(): Promise<void> {
  const options = runtimeOptions();
  console.log(`Starting ${options.templatePath} locally (${options.inMemory ? 'in memory' : `state in ${stateDir}`})…`);
  const stack = await startLocalStack(options);
  const admin = await startAdminServer(stack);
  // --port 0 (free ports, e.g. beside other stacks) picks a free one for the dashboard too.
  const dashboardPort = Number(flags['dashboard-port'] ?? process.env.WIMS_DASHBOARD_PORT ?? (options.apiPort === 0 ? 0 : 3100));
  if (!Number.isInteger(dashboardPort) || dashboardPort < 0 || dashboardPort > 65535) throw new UsageError(`--dashboard-port must be a TCP port (0: any free one), not ${flags['dashboard-port']}`);
  const dashboard = await startDashboard(stack, options.templatePath!, dashboardPort);
  // Written for in-memory runs too: it is how the other commands find this process.
  const runtimeFile = join(stateDir, 'runtime.json');
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(runtimeFile, `${JSON.stringify({
    pid: process.pid, admin: admin.url, dashboard: dashboard.url, region: LOCAL_REGION, stackName: stack.template.stackName,
    endpoints: stack.endpoints, outputs: stack.outputs,
  }, null, 2)}\n`);
  // Each API's default stage is listed first; its paths are also served without the stage prefix.
  const shown = new Set<string>();
  for (const api of stack.endpoints.apis) {
    if (shown.has(api.logicalId)) continue;
    shown.add(api.logicalId);
    console.log(`  API ${api.logicalId.padEnd(22)} ${new URL(api.url).origin}   (stage ${new URL(api.url).pathname.slice(1)})`);
  }
  console.log(`  AWS endpoint               ${stack.endpoints.aws}   (eval "$(npx wims env)", then aws dynamodb scan --table-name ${stack.outputs.TableName ?? '<table>'})`);
  console.log(`  E-mail outbox              ${stack.outboxDir}`);
  console.log(`  Dashboard                  ${dashboard.url}   (topology, order traces, queues, executions, metrics)`);
  const notEmulated = notEmulatedLine(stack.notEmulated);
  if (notEmulated && !flags.quiet) console.log(notEmulated);
  console.log(`ready in ${(stack.startupMs / 1000).toFixed(1)} s — Ctrl-C stops everything`);
  let stopping = false;
  const shutdown = (): void => {
    if (stopping) return;
    stopping = true;
    console.log('stopping…');
    admin.server.close();
    void dashboard.stop();
    rmSync(runtimeFile, { force: true });
    void stack.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

/** Calls the running stack's operator API. */
async function callRunning(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
  const runtimeFile = join(stateDir, 'runtime.json');
  if (!existsSync(runtimeFile)) throw new Error(`no running stack (no ${runtimeFile}): start one with 'npm start'`);
  const { admin } = JSON.parse(readFileSync(runtimeFile, 'utf8')) as { admin: string };
  const response = await fetch(`${admin}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  }).catch(() => {
    throw new Error(`the stack recorded in ${runtimeFile} does not answer: start one with 'npm start'`);
  });
  const answer = (await response.json()) as { message?: string };
  if (!response.ok) throw new Error(answer.message ?? `HTTP ${response.status}`);
  return answer;
}

/** The running stack's AWS endpoint, region and stack name, from its runtime.json. */
function runningStack(): RunningStack {
  const runtimeFile = join(stateDir, 'runtime.json');
  if (!existsSync(runtimeFile)) throw new Error(`no running stack (no ${runtimeFile}): start one with 'npm start'`);
  const { endpoints, region, stackName } = JSON.parse(readFileSync(runtimeFile, 'utf8')) as { endpoints: { aws: string }; region: string; stackName: string };
  return { endpoint: endpoints.aws, region, stackName };
}

/** `export …` lines that point the AWS CLI and SDKs at the running stack's endpoint (or at the one `wims up` would open). */
function printEnvironment(): void {
  const runtimeFile = join(stateDir, 'runtime.json');
  const running = existsSync(runtimeFile) ? (JSON.parse(readFileSync(runtimeFile, 'utf8')) as { endpoints?: { aws?: string } }) : {};
  const endpoint = running.endpoints?.aws ?? `http://127.0.0.1:${awsPort()}`;
  // The SDKs read AWS_REGION; the AWS CLI (botocore) reads AWS_DEFAULT_REGION.
  const variables = { AWS_ENDPOINT_URL: endpoint, AWS_REGION: LOCAL_REGION, AWS_DEFAULT_REGION: LOCAL_REGION, ...LOCAL_CREDENTIALS };
  console.log(`export ${Object.entries(variables).map(([name, value]) => `${name}=${value}`).join(' ')}`);
}

async function invoke(functionId: string | undefined): Promise<void> {
  if (!functionId || !flags.event) throw new UsageError('invoke needs a function logical id and -e <event.json>');
  const event: unknown = JSON.parse(readFileSync(flags.event, 'utf8'));
  let result: unknown;
  if (existsSync(join(stateDir, 'runtime.json'))) {
    result = await invokeFunction(runningStack(), functionId, event);
  } else {
    const stack: LocalStack = await startLocalStack({ ...runtimeOptions(), inMemory: true, awsPort: 0, log: undefined });
    try {
      if (stack.template.typeOf(functionId) !== 'AWS::Lambda::Function') throw new Error(`${functionId} is not a function of this template`);
      result = await stack.lambda.invoke(stack.resources.get(functionId)!.physicalId, event);
    } finally {
      await stack.stop();
    }
  }
  console.log(JSON.stringify(result, null, 2));
  if (!(result as { ok: boolean }).ok) process.exitCode = 1;
}

function printStatus(status: StackStatus): void {
  console.log('Queues (visible / in flight):');
  for (const [queue, depth] of Object.entries(status.queues)) console.log(`  ${queue.padEnd(28)} ${depth.visible} / ${depth.inFlight}`);
  console.log('Inventory:');
  for (const [sku, quantity] of Object.entries(status.inventory)) console.log(`  ${sku.padEnd(28)} ${quantity}`);
  console.log('Orders by status:');
  for (const [state, count] of Object.entries(status.ordersByStatus)) console.log(`  ${state.padEnd(28)} ${count}`);
  console.log('Payments by status:');
  for (const [state, count] of Object.entries(status.paymentsByStatus)) console.log(`  ${state.padEnd(28)} ${count}`);
  console.log(`E-mails in the outbox: ${status.outbox}`);
  console.log('Workflow executions (started / succeeded / failed):');
  for (const [machine, counts] of Object.entries(status.executions)) {
    console.log(`  ${machine.padEnd(28)} ${counts.started} / ${counts.succeeded} / ${counts.failed}`);
  }
}

async function main(): Promise<void> {
  const [command = 'up', ...rest] = positionals;
  if (flags.help) {
    console.log(USAGE);
    return;
  }
  switch (command) {
    case 'up':
      return up();
    case 'env':
      return printEnvironment();
    case 'invoke':
      return invoke(rest[0]);
    case 'status':
      return printStatus((await callRunning('GET', '/status')) as StackStatus);
    case 'replay': {
      const window = { from: new Date(flags.from ?? 0), to: flags.to === undefined ? new Date() : new Date(flags.to) };
      const replayName = await replayArchive(runningStack(), { archive: flags.archive, ...window });
      console.log(`replay ${replayName} completed: the archive's events are on the bus again`);
      return;
    }
    case 'dlq': {
      if (rest[0] !== 'redrive' || !rest[1]) throw new UsageError('dlq redrive <QueueLogicalId>');
      const moved = await redriveDeadLetterQueue(runningStack(), rest[1]);
      console.log(`moved ${moved} messages back to their source queue`);
      return;
    }
    case 'schedule': {
      if (rest[0] !== 'fire' || !rest[1]) throw new UsageError('schedule fire <ScheduleLogicalId>');
      const result = (await callRunning('POST', '/schedules/fire', { schedule: rest[1] })) as { ok: boolean; error?: string };
      if (!result.ok) throw new Error(`${rest[1]} fired, and its target failed: ${result.error ?? 'unknown error'}`);
      console.log(`fired ${rest[1]}`);
      return;
    }
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

main().catch((error: Error) => {
  console.error(`wims: ${error.message}`);
  if (error instanceof UsageError) console.error(USAGE);
  process.exit(1);
});
