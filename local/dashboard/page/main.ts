/**
 * The dashboard page: a hash router over the views, each a function that reads the dashboard's
 * JSON API and renders plain DOM. The SSE stream's tick refreshes the topology's rates and
 * depths in place, and re-renders a data view only when the newest hop's number changed, at
 * most every few seconds (each re-render has the dashboard index the hops since).
 */
import { chart, el, fetchJson, formatTime, json, postJson } from './dom.js';
import { renderTopology, updateTopology, type Topology } from './topology.js';
// The runtime's own hop type (local/trace.ts imports nothing, so it type-checks in the page's DOM-only project).
import type { TraceHop as Hop } from '../../trace.js';

interface Tick {
  seq: number;
  rates: Record<string, number>;
  queues: Record<string, { visible: number; inFlight: number }>;
}

interface Correlated {
  id: string;
  firstTime: number;
  lastTime: number;
  hops: number;
  summary: Record<string, string>;
  failure?: { service: string; hop: string; resource: string; error: string };
}


interface HistoryEvent {
  id: number;
  type: string;
  timestamp: string;
  stateName?: string;
  error?: string;
  cause?: string;
  input?: unknown;
  output?: unknown;
}

interface Execution {
  executionArn: string;
  stateMachine?: string;
  stateMachineArn: string;
  name: string;
  status: string;
  startDate: string;
  stopDate: string;
  error?: string;
  cause?: string;
  events?: HistoryEvent[];
}

type View = (root: HTMLElement, argument: string) => Promise<void>;

const VIEWS: Record<string, { title: string; render: View; live: boolean }> = {
  topology: { title: 'Topology', render: topologyView, live: false },
  orders: { title: 'Orders', render: ordersView, live: true },
  trace: { title: 'Trace', render: traceView, live: true },
  queues: { title: 'Queues', render: queuesView, live: true },
  executions: { title: 'Executions', render: executionsView, live: true },
  execution: { title: 'Execution', render: executionView, live: false },
  outbox: { title: 'Outbox', render: outboxView, live: true },
  metrics: { title: 'Metrics', render: metricsView, live: true },
  alarms: { title: 'Alarms', render: alarmsView, live: true },
  replay: { title: 'Replay', render: replayView, live: false },
};
const NAV = ['topology', 'orders', 'queues', 'executions', 'outbox', 'metrics', 'alarms', 'replay'];

let topology: Topology | undefined;
/** A live view is re-rendered at most this often: under load, something changes every tick. */
const LIVE_RENDER_MS = 3000;
let renderedSeq = -1;
let renderedAt = 0;
let rendering = false;
let latestSeq = -1;

function route(): { name: string; argument: string } {
  const [name = 'topology', ...rest] = decodeURIComponent(location.hash.slice(1)).split('/');
  return { name: VIEWS[name] ? name : 'topology', argument: rest.join('/') };
}

async function render(): Promise<void> {
  const { name, argument } = route();
  const view = VIEWS[name]!;
  const root = document.getElementById('view')!;
  document.title = `WIMS local · ${view.title}`;
  document.querySelectorAll('#nav a').forEach((link) => link.classList.toggle('active', link.getAttribute('href') === `#${name}`));
  const fresh = el('section', { class: `view view-${name}`, 'data-view': name });
  rendering = true;
  renderedSeq = latestSeq;
  renderedAt = Date.now();
  try {
    await view.render(fresh, argument);
  } catch (error) {
    fresh.append(el('p', { class: 'error' }, `Could not load: ${(error as Error).message}`));
  } finally {
    rendering = false;
  }
  // A live re-render must not take the cursor away from a field being typed in.
  const focused = document.activeElement instanceof HTMLInputElement ? document.activeElement.id : '';
  root.replaceChildren(fresh);
  const input = focused === '' ? null : document.getElementById(focused);
  if (input instanceof HTMLInputElement) {
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  }
}

async function topologyView(root: HTMLElement): Promise<void> {
  topology ??= await fetchJson<Topology>('/api/topology');
  root.append(el('p', { class: 'hint' }, 'Derived from the template. Edges show hops per second into their target; queues show visible / in flight; a dead-letter queue with messages is red.'));
  root.append(renderTopology(topology));
}

async function ordersView(root: HTMLElement): Promise<void> {
  const query = (document.getElementById('order-search') as HTMLInputElement | null)?.value ?? '';
  const { keys, orders } = await fetchJson<{ keys: { correlationKeys: string[]; summaryKeys: string[] }; orders: Correlated[] }>(`/api/orders?q=${encodeURIComponent(query)}`);
  const search = el('input', { id: 'order-search', type: 'search', placeholder: `search ${[...keys.correlationKeys, ...keys.summaryKeys].join(', ')}`, value: query });
  search.addEventListener('input', () => void render());
  const rows = orders.map((order) => el('tr', { class: order.failure ? 'failed' : '' },
    el('td', {}, el('a', { href: `#trace/${order.id}`, class: 'order-link' }, order.id)),
    ...keys.summaryKeys.map((key) => el('td', { class: key === 'status' ? `status status-${order.summary[key] ?? ''}` : '' }, order.summary[key] ?? '')),
    el('td', {}, String(order.hops)),
    el('td', {}, formatTime(order.firstTime)),
    el('td', { class: 'error' }, order.failure ? `${order.failure.service} ${order.failure.hop}: ${order.failure.error}` : ''),
  ));
  root.append(search, el('table', { class: 'orders' },
    el('thead', {}, el('tr', {}, ...[keys.correlationKeys.join(' / '), ...keys.summaryKeys, 'hops', 'first seen', 'failure'].map((title) => el('th', {}, title)))),
    el('tbody', {}, ...rows)));
  if (orders.length === 0) root.append(el('p', { class: 'hint' }, 'No traced orders yet: place one through the API.'));
}

async function traceView(root: HTMLElement, id: string): Promise<void> {
  const trace = await fetchJson<{ order?: Correlated; hops?: Hop[]; error?: string }>(`/api/trace?id=${encodeURIComponent(id)}`);
  if (trace.order === undefined || trace.hops === undefined) {
    root.append(el('p', { class: 'hint' }, `Nothing traced for ${id} yet.`));
    return;
  }
  const { order, hops } = trace;
  const start = hops[0]?.time ?? order.firstTime;
  const span = Math.max(1, ...hops.map((hop) => hop.time + (hop.durationMs ?? 0) - start));
  root.append(el('h2', {}, `Trace of ${order.id}`, ...Object.entries(order.summary).map(([key, value]) => el('span', { class: `badge summary-${key} status-${value}` }, `${key} ${value}`))));
  if (order.failure) {
    root.append(el('p', { class: 'failure-banner' }, `Failed at ${order.failure.service} ${order.failure.hop} (${shortName(order.failure.resource)}): ${order.failure.error}`));
  }
  const list = el('ol', { class: 'timeline' });
  for (const hop of hops) {
    const item = el('li', { class: `hop service-${hop.service}${hop.error ? ' failed' : ''}`, 'data-hop': `${hop.service} ${hop.hop}` },
      el('span', { class: 'offset' }, `+${hop.time - start} ms`),
      el('span', { class: 'service' }, hop.service),
      el('span', { class: 'name' }, hop.hop),
      el('span', { class: 'resource' }, shortName(hop.resource)),
      el('span', { class: 'duration' }, hop.durationMs === undefined ? '' : `${hop.durationMs} ms`),
      el('span', { class: 'track' }, el('span', { class: 'bar', style: `left:${(((hop.time - start) / span) * 100).toFixed(2)}%;width:${Math.max(0.4, ((hop.durationMs ?? 0) / span) * 100).toFixed(2)}%` })),
      hop.error ? el('span', { class: 'error' }, hop.error) : '',
      el('details', {}, el('summary', {}, 'payload'), el('pre', {}, json(hop.payload))),
    );
    if (hop.service === 'states' && hop.hop === 'Execution') item.append(el('div', { class: 'states-of-hop' }, statesOf(hop.payload as Execution)));
    list.append(item);
  }
  root.append(list);
}

/** An execution's history, state by state: entered/exited pairs, retries and errors. */
function statesOf(execution: Execution): HTMLElement {
  const start = Date.parse(execution.startDate);
  let lastState = '';
  const rows = (execution.events ?? []).filter((event) => event.stateName !== undefined || /Failed|Execution/.test(event.type)).map((event) => {
    lastState = event.stateName ?? lastState;
    // An execution's failure names no state: it failed in the last one entered.
    const stateName = event.stateName ?? (event.error && lastState ? `(in ${lastState})` : '');
    return el('tr', { class: event.error ? 'failed' : '' },
      el('td', {}, `+${Date.parse(event.timestamp) - start} ms`),
      el('td', {}, event.type),
      el('td', { class: 'state-name' }, stateName),
      el('td', { class: 'error' }, event.error ? `${event.error}${event.cause ? `: ${event.cause}` : ''}` : ''));
  });
  return el('table', { class: 'states' }, el('tbody', {}, ...rows));
}

async function queuesView(root: HTMLElement): Promise<void> {
  const queues = await fetchJson<Array<{ queue: string; visible: number; inFlight: number; deadLetter: boolean; redrivesTo: string[] }>>('/api/queues');
  const table = el('table', { class: 'queues' }, el('thead', {}, el('tr', {}, ...['queue', 'visible', 'in flight', 'dead-letter queue of (redrive)', ''].map((title) => el('th', {}, title)))));
  const body = el('tbody');
  const peekArea = el('div', { class: 'peek' });
  for (const queue of queues) {
    const peek = el('button', { class: 'peek-button' }, 'peek');
    peek.addEventListener('click', () => void fetchJson<Array<{ messageId: string; body: string; receiveCount: number }>>(`/api/queues/peek?queue=${queue.queue}`).then((messages) => {
      peekArea.replaceChildren(el('h3', {}, `${queue.queue}: ${messages.length} message(s)`), ...messages.map((message) =>
        el('details', {}, el('summary', {}, `${message.messageId} (received ${message.receiveCount}×)`), el('pre', {}, json(tryParse(message.body))))));
    }));
    const actions = el('td', {}, peek);
    if (queue.redrivesTo.length === 1) {
      const redrive = el('button', { class: 'redrive-button', 'data-queue': queue.queue }, `redrive to ${queue.redrivesTo[0]}`);
      redrive.addEventListener('click', () => void postJson<{ moved: number }>('/api/queues/redrive', { queue: queue.queue }).then((result) => {
        peekArea.replaceChildren(el('p', { class: 'redrive-result' }, `moved ${result.moved} message(s) from ${queue.queue} to ${queue.redrivesTo[0]}`));
      }));
      actions.append(redrive);
    }
    const deadLetterWithMessages = queue.deadLetter && queue.visible + queue.inFlight > 0;
    body.append(el('tr', { class: deadLetterWithMessages ? 'dlq-alert' : '', 'data-queue': queue.queue },
      el('td', {}, queue.queue), el('td', { class: 'visible' }, String(queue.visible)), el('td', {}, String(queue.inFlight)),
      el('td', {}, queue.redrivesTo.join(', ')), actions));
  }
  table.append(body);
  // Kept across live re-renders, so a peek or a redrive result stays in view.
  const previous = document.querySelector('.peek');
  if (previous) peekArea.replaceChildren(...previous.childNodes);
  root.append(table, peekArea);
}

async function executionsView(root: HTMLElement): Promise<void> {
  const executions = await fetchJson<Execution[]>('/api/executions');
  root.append(el('table', { class: 'executions' },
    el('thead', {}, el('tr', {}, ...['state machine', 'name', 'status', 'started', 'duration', 'error'].map((title) => el('th', {}, title)))),
    el('tbody', {}, ...executions.map((execution) => el('tr', { class: execution.status === 'SUCCEEDED' ? '' : 'failed' },
      el('td', {}, execution.stateMachine ?? ''),
      el('td', {}, el('a', { href: `#execution/${execution.executionArn}` }, execution.name)),
      el('td', { class: `status status-${execution.status}` }, execution.status),
      el('td', {}, formatTime(Date.parse(execution.startDate))),
      el('td', {}, `${Date.parse(execution.stopDate) - Date.parse(execution.startDate)} ms`),
      el('td', { class: 'error' }, execution.error ?? ''))))));
}

async function executionView(root: HTMLElement, arn: string): Promise<void> {
  const execution = await fetchJson<Execution>(`/api/execution?arn=${encodeURIComponent(arn)}`);
  root.append(el('h2', {}, `${execution.name} `, el('span', { class: `badge status-${execution.status}` }, execution.status)), statesOf(execution),
    el('details', {}, el('summary', {}, 'full history'), el('pre', {}, json(execution))));
}

async function outboxView(root: HTMLElement): Promise<void> {
  const mails = await fetchJson<Array<{ to: string; subject: string | null; message: string; timestamp: string; topicArn: string }>>('/api/outbox');
  root.append(el('table', { class: 'outbox' },
    el('thead', {}, el('tr', {}, ...['sent', 'to', 'topic', 'subject', 'message'].map((title) => el('th', {}, title)))),
    el('tbody', {}, ...mails.map((mail) => el('tr', {}, el('td', {}, mail.timestamp), el('td', {}, mail.to), el('td', {}, shortName(mail.topicArn)),
      el('td', {}, mail.subject ?? ''), el('td', {}, el('pre', {}, json(tryParse(mail.message)))))))));
  if (mails.length === 0) root.append(el('p', { class: 'hint' }, 'No e-mail sent yet.'));
}

async function metricsView(root: HTMLElement): Promise<void> {
  const samples = await fetchJson<Array<{ time: number; values: Record<string, number> }>>('/api/metrics');
  const names = [...new Set(samples.flatMap((sample) => Object.keys(sample.values)))].sort();
  if (names.length === 0) root.append(el('p', { class: 'hint' }, 'No EMF metric yet.'));
  for (const name of names) {
    const points = samples.map((sample) => ({ time: sample.time, value: sample.values[name] ?? 0 }));
    root.append(el('figure', { class: 'metric' }, el('figcaption', {}, `${name}: ${points[points.length - 1]?.value ?? 0}`), chart(points)));
  }
}

async function alarmsView(root: HTMLElement): Promise<void> {
  const alarms = await fetchJson<Array<{ alarm: string; state: string; metric: string; reason: string; description: string }>>('/api/alarms');
  root.append(el('table', { class: 'alarms' },
    el('thead', {}, el('tr', {}, ...['alarm', 'state', 'metric', 'reason', 'description'].map((title) => el('th', {}, title)))),
    el('tbody', {}, ...alarms.map((alarm) => el('tr', { class: `alarm-${alarm.state}` }, el('td', {}, alarm.alarm),
      el('td', { class: `state state-${alarm.state}` }, alarm.state), el('td', {}, alarm.metric), el('td', {}, alarm.reason), el('td', {}, alarm.description))))));
}

async function replayView(root: HTMLElement): Promise<void> {
  const archives = await fetchJson<string[]>('/api/archives');
  const archive = el('select', { name: 'archive' }, ...archives.map((name) => el('option', { value: name }, name)));
  const from = el('input', { type: 'datetime-local', name: 'from', step: '1' });
  const to = el('input', { type: 'datetime-local', name: 'to', step: '1' });
  const result = el('p', { class: 'replay-result' });
  const start = el('button', { type: 'submit' }, 'start replay');
  const form = el('form', { class: 'replay' }, el('label', {}, 'archive ', archive), el('label', {}, 'from ', from), el('label', {}, 'to ', to), start);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const iso = (input: HTMLInputElement): string | undefined => (input.value === '' ? undefined : new Date(input.value).toISOString());
    result.textContent = 'replaying…';
    void postJson<{ replayed: number }>('/api/replay', { archive: (archive as HTMLSelectElement).value, from: iso(from as HTMLInputElement), to: iso(to as HTMLInputElement) })
      .then((answer) => (result.textContent = `replayed ${answer.replayed} events`))
      .catch((error: Error) => (result.textContent = `replay failed: ${error.message}`));
  });
  root.append(el('p', { class: 'hint' }, 'Re-sends the archive\'s events in the window (empty: from the beginning / until now) to its bus; every consumer is idempotent.'), form, result);
}

/** An ARN's resource part (`table/T/stream/…` → `T`), a name as it is. */
function shortName(resource: string): string {
  const part = resource.startsWith('arn:') ? resource.split(':').slice(5).join(':') : resource;
  return part.replace(/\/stream\/.*$/, '').replace(/^[a-zA-Z]+[/:]/, '');
}

function tryParse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function connect(): void {
  const live = document.getElementById('live')!;
  const stream = new EventSource('/api/stream');
  stream.addEventListener('open', () => (live.textContent = 'live'));
  stream.addEventListener('error', () => (live.textContent = 'reconnecting…'));
  stream.addEventListener('message', (message: MessageEvent<string>) => {
    const tick = JSON.parse(message.data) as Tick;
    live.textContent = `live · hop ${tick.seq}`;
    const { name } = route();
    if (name === 'topology' && topology) updateTopology(tick.rates, tick.queues);
    latestSeq = tick.seq;
    if (tick.seq !== renderedSeq && VIEWS[name]!.live && !rendering && Date.now() - renderedAt >= LIVE_RENDER_MS) void render();
  });
}

document.getElementById('nav')!.append(...NAV.map((name) => el('a', { href: `#${name}` }, VIEWS[name]!.title)));
window.addEventListener('hashchange', () => void render());
void render();
connect();
