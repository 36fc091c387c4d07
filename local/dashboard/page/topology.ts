/** The topology view: the template's graph as SVG, laid out in columns by the server's layers. */
import { svg } from './dom.js';

export interface Topology {
  nodes: Array<{ id: string; kind: string; type: string; layer: number }>;
  edges: Array<{ from: string; to: string; kind: 'data' | 'dead-letter' }>;
}

const COLUMN = 190;
const ROW = 46;
const BOX = { width: 170, height: 32 };

/** Draws the graph; nodes and edges carry data attributes that {@link updateTopology} fills in. */
export function renderTopology(topology: Topology): SVGSVGElement {
  const rows = new Map<number, number>();
  const position = new Map<string, { x: number; y: number }>();
  for (const node of [...topology.nodes].sort((a, b) => a.layer - b.layer || a.kind.localeCompare(b.kind))) {
    const row = rows.get(node.layer) ?? 0;
    rows.set(node.layer, row + 1);
    position.set(node.id, { x: 10 + node.layer * COLUMN, y: 10 + row * ROW });
  }
  const width = 20 + (Math.max(0, ...topology.nodes.map((node) => node.layer)) + 1) * COLUMN;
  const height = 20 + Math.max(1, ...rows.values()) * ROW;
  const edges = topology.edges.map((edge) => {
    const from = position.get(edge.from)!;
    const to = position.get(edge.to)!;
    const [x1, y1, x2, y2] = [from.x + BOX.width, from.y + BOX.height / 2, to.x, to.y + BOX.height / 2];
    const bend = Math.max(30, Math.abs(x2 - x1) / 2);
    return svg('g', { class: `edge edge-${edge.kind}`, 'data-from': edge.from, 'data-to': edge.to },
      svg('path', { d: `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`, 'marker-end': 'url(#arrow)' }),
      svg('text', { x: (x1 + x2) / 2, y: (y1 + y2) / 2 - 3, class: 'rate' }));
  });
  const nodes = topology.nodes.map((node) => {
    const { x, y } = position.get(node.id)!;
    return svg('g', { class: `node kind-${node.kind}`, 'data-node': node.id, transform: `translate(${x},${y})` },
      svg('title', {}, `${node.id} (${node.type})`),
      svg('rect', { width: BOX.width, height: BOX.height, rx: 6 }),
      svg('text', { x: 8, y: 13, class: 'kind' }, node.kind),
      svg('text', { x: 8, y: 26, class: 'name' }, node.id.length > 24 ? `${node.id.slice(0, 23)}…` : node.id),
      svg('text', { x: BOX.width - 6, y: 13, class: 'depth', 'text-anchor': 'end' }));
  });
  return svg('svg', { class: 'topology', viewBox: `0 0 ${width} ${height}`, width, height },
    svg('defs', {}, svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 6, markerHeight: 6, orient: 'auto' }, svg('path', { d: 'M0,0 L10,5 L0,10 z' }))),
    ...edges, ...nodes);
}

/** Live values: hops per second on the edges into each node, and each queue's depth. */
export function updateTopology(rates: Record<string, number>, queues: Record<string, { visible: number; inFlight: number }>): void {
  document.querySelectorAll<SVGGElement>('.topology .edge').forEach((edge) => {
    const rate = rates[edge.dataset.to ?? ''];
    edge.classList.toggle('active', rate !== undefined);
    edge.querySelector('.rate')!.textContent = rate === undefined ? '' : `${rate}/s`;
  });
  const deadLetterQueues = new Set([...document.querySelectorAll<SVGGElement>('.topology .edge-dead-letter')].map((edge) => edge.dataset.to));
  document.querySelectorAll<SVGGElement>('.topology .node').forEach((node) => {
    const depth = queues[node.dataset.node ?? ''];
    if (depth === undefined) return;
    node.querySelector('.depth')!.textContent = `${depth.visible} / ${depth.inFlight}`;
    node.classList.toggle('dlq-alert', deadLetterQueues.has(node.dataset.node) && depth.visible + depth.inFlight > 0);
  });
}
