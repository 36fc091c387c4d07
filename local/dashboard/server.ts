/**
 * The dashboard: a web page served by the running stack on 127.0.0.1, with its JSON API and one
 * Server-Sent Events stream. The page's scripts (page/*.ts) are bundled by esbuild when the
 * dashboard starts, so it works offline. The stream sends one small tick a second while a page
 * is connected (hop rates, queue depths read every third tick, the newest hop's number); the
 * page re-reads what it shows only when the tick says something changed, at most every 3 s.
 *
 * The trace follows the correlation keys the template names in its metadata:
 *   Metadata: { WimsLocal: { Trace: { CorrelationKeys: [orderId], SummaryKeys: [customerId, status] } } }
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { SQSClient } from '@aws-sdk/client-sqs';
import { esbuild } from '../esbuild.js';
import { LOOPBACK, localClientConfig } from '../net.js';
import { removeTraceSink, setTraceSink, traceHop } from '../trace.js';
import { readTemplate } from '../template/parse.js';
import { archiveName, deadLetterSources, queueDepths, redriveDeadLetters } from '../admin.js';
import type { LocalStack } from '../runtime.js';
import type { ExecutionRecord } from '../services/stepfunctions/registry.js';
import { readOutbox } from '../services/messaging/topic-provider.js';
import { TraceStore } from './trace-store.js';
import { topologyOf, type Topology } from './topology.js';
import { executionRecord, executionSummaries, MetricSampler, peekQueue } from './operations.js';

export interface Dashboard {
  url: string;
  server: Server;
  /** What the dashboard's own work took since it started, for the cost benchmark (see {@link DashboardWork}). */
  work(): DashboardWork;
  stop(): Promise<void>;
}

/**
 * The dashboard's own work: `mainThreadMs` is the time its handlers and ticks ran on the main
 * thread (their synchronous parts: indexing, listing, serialising), an upper bound of their CPU;
 * `queueReadsMs` is the wall time of the queue-depth reads it made (I/O waits included).
 */
export interface DashboardWork {
  mainThreadMs: number;
  queueReadsMs: number;
  requests: number;
  ticks: number;
}

const TICK_MS = 1000;
/** Queue depths are read every this many ticks (five GetQueueAttributes calls a read), and repeated in between. */
const DEPTH_EVERY_TICKS = 3;
/** Bus events kept to correlate their deliveries (a delivery names only the event's id). */
const EVENTS_KEPT_FOR_DELIVERIES = 5000;

/** The trace settings in the template's `Metadata.WimsLocal.Trace`. */
function traceSettings(templatePath: string): { correlationKeys: string[]; summaryKeys: string[] } {
  const metadata = (readTemplate(templatePath) as { Metadata?: { WimsLocal?: { Trace?: { CorrelationKeys?: string[]; SummaryKeys?: string[] } } } }).Metadata;
  const trace = metadata?.WimsLocal?.Trace;
  return { correlationKeys: trace?.CorrelationKeys ?? [], summaryKeys: trace?.SummaryKeys ?? [] };
}

/** Feeds the bus's events and deliveries, and finished executions, to the event log. */
function recordStackEvents(stack: LocalStack): () => void {
  const events = new Map<string, unknown>();
  const unsubscribers = [
    stack.events.onEvent((record) => {
      events.set(record.event.id, record.event);
      if (events.size > EVENTS_KEPT_FOR_DELIVERIES) events.delete(events.keys().next().value!);
      traceHop('events', 'PutEvents', record.busName, record);
    }),
    stack.events.onDelivery((delivery) => {
      traceHop('events', 'Delivery', delivery.rule, delivery, {
        context: events.get(delivery.eventId),
        ...(delivery.ok ? {} : { error: `${delivery.error?.code ?? 'Failed'}: ${delivery.error?.message ?? ''}${delivery.deadLettered ? ' (dead-lettered)' : ''}` }),
      });
    }),
    stack.stepFunctions.registry.onExecutionFinished((record) => {
      const time = Date.parse(record.startDate);
      traceHop('states', 'Execution', record.stateMachineArn, record, {
        time,
        durationMs: Date.parse(record.stopDate) - time,
        ...(record.status === 'SUCCEEDED' ? {} : { error: `${record.status} in ${failedState(record) ?? 'no state'}: ${record.error ?? ''} ${record.cause ?? ''}`.trim() }),
      });
    }),
  ];
  return () => unsubscribers.forEach((unsubscribe) => unsubscribe());
}

/** The state an execution failed in: the last one it entered. */
function failedState(record: ExecutionRecord): string | undefined {
  return record.events.findLast((event) => event.stateName !== undefined)?.stateName;
}

async function bundlePage(): Promise<string> {
  const result = await esbuild({
    entryPoints: [fileURLToPath(new URL('page/main.ts', import.meta.url))],
    bundle: true,
    write: false,
    format: 'esm',
    target: 'es2022',
    minify: true,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>WIMS local dashboard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/app.css"></head>
<body><header><h1>WIMS local</h1><nav id="nav"></nav><span id="live" class="live">connecting…</span></header>
<main id="view"></main><script type="module" src="/app.js"></script></body></html>`;

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  let body = '';
  for await (const chunk of request) body += String(chunk);
  return body ? (JSON.parse(body) as Record<string, unknown>) : {};
}

/** Starts the dashboard of a running stack; `port` 0 (the default) lets the OS choose. */
export async function startDashboard(stack: LocalStack, templatePath: string, port = 0): Promise<Dashboard> {
  const [script, styles] = await Promise.all([bundlePage(), readFile(new URL('page/style.css', import.meta.url), 'utf8')]);
  const settings = traceSettings(templatePath);
  const traces = new TraceStore(settings);
  setTraceSink(traces);
  const stopRecording = recordStackEvents(stack);
  const sqs = new SQSClient(localClientConfig(stack.endpoints.sqs, stack.template.region));
  const cloudwatch = new CloudWatchClient(localClientConfig(stack.endpoints.aws, stack.template.region));
  const metrics = new MetricSampler(() => stack.logs.metrics());
  const topology: Topology = topologyOf(stack.template, stack.resources);
  const clients = new Set<ServerResponse>();
  let lastCounts = new Map<string, number>();
  let lastTick = Date.now();
  let lastDepths: Awaited<ReturnType<typeof queueDepths>> | undefined;
  const work: DashboardWork = { mainThreadMs: 0, queueReadsMs: 0, requests: 0, ticks: 0 };
  const timed = <T>(task: () => T): T => {
    const began = performance.now();
    try {
      return task();
    } finally {
      work.mainThreadMs += performance.now() - began;
    }
  };
  const readDepths = async (): ReturnType<typeof queueDepths> => {
    const began = performance.now();
    try {
      return await queueDepths(stack, sqs);
    } finally {
      work.queueReadsMs += performance.now() - began;
    }
  };

  const tick = async (): Promise<void> => {
    if (clients.size === 0) return;
    work.ticks++;
    const rates = timed(() => {
      const now = Date.now();
      const counts = traces.hopCounts();
      const perSecond: Record<string, number> = {};
      for (const node of topology.nodes) {
        let delta = 0;
        for (const alias of node.aliases) delta += (counts.get(alias) ?? 0) - (lastCounts.get(alias) ?? 0);
        if (delta > 0) perSecond[node.id] = Math.round((delta * 10_000) / (now - lastTick)) / 10;
      }
      lastCounts = new Map(counts);
      lastTick = now;
      return perSecond;
    });
    if (work.ticks % DEPTH_EVERY_TICKS === 1 || lastDepths === undefined) lastDepths = await readDepths();
    const queues = lastDepths;
    timed(() => {
      const data = `data: ${JSON.stringify({ seq: traces.latestSeq(), rates, queues })}\n\n`;
      for (const client of clients) client.write(data);
    });
  };
  let ticking = false;
  const ticker = setInterval(() => {
    if (ticking) return;
    ticking = true;
    tick().catch(() => undefined).finally(() => (ticking = false));
  }, TICK_MS).unref();

  const routes: Record<string, (url: URL, request: IncomingMessage) => Promise<unknown> | unknown> = {
    'GET /api/topology': () => topology,
    'GET /api/orders': (url) => ({ keys: settings, orders: traces.list(url.searchParams.get('q') ?? '') }),
    'GET /api/trace': (url) => traces.trace(url.searchParams.get('id') ?? '') ?? { error: 'NotFound' },
    'GET /api/queues': async () => {
      const depths = await readDepths();
      const deadLetterTargets = new Set(topology.edges.filter((edge) => edge.kind === 'dead-letter').map((edge) => edge.to));
      return Object.entries(depths).map(([queue, depth]) => ({
        queue, ...depth, deadLetter: deadLetterTargets.has(queue), redrivesTo: deadLetterSources(stack, queue),
      }));
    },
    'GET /api/queues/peek': (url) => peekQueue(stack, sqs, url.searchParams.get('queue') ?? ''),
    'POST /api/queues/redrive': async (_url, request) => ({ moved: await redriveDeadLetters(stack, String((await readJson(request)).queue)) }),
    'GET /api/executions': () => executionSummaries(stack),
    'GET /api/execution': (url) => executionRecord(stack, url.searchParams.get('arn') ?? '') ?? { error: 'ExecutionDoesNotExist' },
    'GET /api/outbox': async () => (await readOutbox(stack.outboxDir)).slice(-200).reverse(),
    'GET /api/metrics': () => metrics.series(),
    // One evaluation of alarms: the AWS endpoint's, as `aws cloudwatch describe-alarms` gets it.
    'GET /api/alarms': async () => {
      const { MetricAlarms = [] } = await cloudwatch.send(new DescribeAlarmsCommand({}));
      return MetricAlarms.map((alarm) => ({
        alarm: alarm.AlarmName, state: alarm.StateValue, metric: `${alarm.Namespace}/${alarm.MetricName}`, reason: alarm.StateReason, description: alarm.AlarmDescription ?? '',
      }));
    },
    'GET /api/archives': () => stack.template.resourcesOfType('AWS::Events::Archive'),
    'POST /api/replay': async (_url, request) => {
      const body = await readJson(request);
      return stack.events.replay({
        archiveName: archiveName(stack, typeof body.archive === 'string' ? body.archive : undefined),
        startTime: new Date(typeof body.from === 'string' ? body.from : 0),
        endTime: new Date(typeof body.to === 'string' ? body.to : Date.now()),
      });
    },
  };

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const send = (status: number, type: string, body: string): void => void response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
    if (request.method === 'GET' && url.pathname === '/api/stream') {
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      response.write(': connected\n\n');
      clients.add(response);
      request.on('close', () => clients.delete(response));
      return;
    }
    if (request.method === 'GET' && url.pathname === '/app.js') return send(200, 'text/javascript', script);
    if (request.method === 'GET' && url.pathname === '/app.css') return send(200, 'text/css', styles);
    const route = routes[`${request.method} ${url.pathname}`];
    if (route === undefined) return url.pathname.startsWith('/api/') ? send(404, 'application/json', '{"error":"NotFound"}') : send(200, 'text/html', PAGE);
    work.requests++;
    Promise.resolve()
      .then(() => timed(() => route(url, request)))
      .then((body) => send(200, 'application/json', timed(() => JSON.stringify(body))))
      .catch((error: Error) => send(400, 'application/json', JSON.stringify({ error: error.name, message: error.message })));
  });
  await new Promise<void>((resolve) => server.listen(port, LOOPBACK, resolve));
  const { port: bound } = server.address() as { port: number };
  return {
    url: `http://${LOOPBACK}:${bound}/`,
    server,
    work: () => ({ ...work }),
    async stop() {
      clearInterval(ticker);
      metrics.stop();
      stopRecording();
      removeTraceSink(traces);
      for (const client of clients) client.end();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      sqs.destroy();
      cloudwatch.destroy();
    },
  };
}
