/** Small DOM helpers for the dashboard page: element building, JSON calls, an SVG line chart. */

type Child = Node | string;

/** `document.createElement` with attributes and children in one call. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Record<string, string> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === 'value' && element instanceof HTMLInputElement) element.value = value;
    else if (value !== '') element.setAttribute(name, value);
  }
  element.append(...children);
  return element;
}

export async function fetchJson<T>(url: string): Promise<T> {
  const response = await fetch(url);
  const body = (await response.json()) as T & { message?: string };
  if (!response.ok) throw new Error(body.message ?? `HTTP ${response.status}`);
  return body;
}

export async function postJson<T>(url: string, body: unknown): Promise<T> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const answer = (await response.json()) as T & { message?: string };
  if (!response.ok) throw new Error(answer.message ?? `HTTP ${response.status}`);
  return answer;
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

export function formatTime(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(11, 23);
}

const SVG = 'http://www.w3.org/2000/svg';

/** An SVG element with attributes. */
export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | number> = {},
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  element.append(...children);
  return element;
}

/** A line chart of a running sum: the increase per sample, so a rate shows as a height. */
export function chart(points: Array<{ time: number; value: number }>, width = 480, height = 90): SVGSVGElement {
  const increases = points.slice(1).map((point, index) => ({ time: point.time, value: Math.max(0, point.value - points[index]!.value) }));
  const peak = Math.max(1, ...increases.map((point) => point.value));
  const first = increases[0]?.time ?? 0;
  const span = Math.max(1, (increases[increases.length - 1]?.time ?? 1) - first);
  const path = increases.map((point, index) => `${index === 0 ? 'M' : 'L'}${(((point.time - first) / span) * (width - 40) + 35).toFixed(1)},${(height - 15 - (point.value / peak) * (height - 25)).toFixed(1)}`).join(' ');
  return svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', width, height },
    svg('line', { x1: 35, y1: height - 15, x2: width - 5, y2: height - 15, class: 'axis' }),
    svg('text', { x: 0, y: 14, class: 'tick' }, String(peak)),
    svg('text', { x: 0, y: height - 15, class: 'tick' }, '0'),
    svg('path', { d: path || `M35,${height - 15}`, class: 'line' }));
}
