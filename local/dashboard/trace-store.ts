/**
 * The dashboard's trace store: the sink of the runtime's event log (local/trace.ts). Adding a
 * hop costs a ring-buffer slot and a counter; finding which correlation ids a hop carries (by
 * walking its payload, and matching JSON text with a pattern rather than parsing it) happens
 * later, when a page asks, for the hops added since. The application names its correlation keys (e.g. `orderId`) in its template's metadata,
 * so the runtime knows no key of its data model.
 *
 * LIMITATIONS: the newest 20,000 hops are kept, and a trace shows those only (an order's older
 * hops are gone with them; its summary and failure stay); hops a page did not ask about before
 * they were dropped are never indexed (under a long benchmark without a page, only its end is
 * traced); payloads are shown as they are when a page reads them; summary values come from
 * DynamoDB stream records only (the table holds the truth of an item); one store per process.
 */
import type { TraceHop, TraceSink } from '../trace.js';

/** How much the store keeps, and which attributes it follows. */
export interface TraceStoreOptions {
  /** Attribute names whose values tie hops together (e.g. `orderId`). */
  correlationKeys: readonly string[];
  /** Attributes shown beside each id in the list, read from the newest change record (NewImage) that carries the id. */
  summaryKeys: readonly string[];
  /** Hops kept (the oldest are dropped first). */
  capacity?: number;
  /** Correlation ids kept (the oldest first seen are dropped first). */
  maxIds?: number;
  /** Hops kept per correlation id. */
  maxHopsPerId?: number;
}

/** One correlation id and what the store knows of it. */
export interface Correlated {
  id: string;
  firstTime: number;
  lastTime: number;
  hops: number;
  summary: Record<string, string>;
  /** The first hop that reported an error: the step that failed, and its error. */
  failure?: { service: string; hop: string; resource: string; error: string };
}

interface Entry extends Correlated {
  /** Where each hop sits in the ring: a hop the ring drops leaves every trail with it, so the ring bounds the memory. */
  trail: Array<{ slot: number; seq: number }>;
}

/** A hop as the page gets it: the payload serialised now, on request. */
export type TraceHopView = Omit<TraceHop, 'payload' | 'context'> & { payload: unknown };

const DEFAULT_CAPACITY = 20_000;
const DEFAULT_MAX_IDS = 20_000;
const DEFAULT_MAX_HOPS_PER_ID = 400;
/** JSON text longer than this is not searched for ids (payload limits are 256 KB; ids sit in small bodies). */
const MAX_PARSED_TEXT = 64 * 1024;
const MAX_DEPTH = 12;

/** Adds to a set the correlation ids a payload carries. */
type IdCollector = (value: unknown, ids: Set<string>) => void;

export class TraceStore implements TraceSink {
  private readonly ring: Array<TraceHop | undefined>;
  private next = 0;
  private indexedSeq = 0;
  private readonly entries = new Map<string, Entry>();
  private readonly collectIds: IdCollector;
  private readonly counts = new Map<string, number>();
  private newestSeq = 0;

  constructor(private readonly options: TraceStoreOptions) {
    this.ring = new Array<TraceHop | undefined>(options.capacity ?? DEFAULT_CAPACITY);
    this.collectIds = idCollector(options.correlationKeys);
  }

  add(hop: TraceHop): void {
    this.ring[this.next] = hop;
    this.next = (this.next + 1) % this.ring.length;
    this.newestSeq = hop.seq;
    this.counts.set(hop.resource, (this.counts.get(hop.resource) ?? 0) + 1);
  }

  /** Hops recorded so far per resource (name or ARN), since the start. */
  hopCounts(): ReadonlyMap<string, number> {
    return this.counts;
  }

  /** The newest hop's sequence number: it changes whenever anything happened. */
  latestSeq(): number {
    return this.newestSeq;
  }

  /** Correlation ids, newest activity first, whose id or summary contains `query` (case-insensitive). */
  list(query = '', limit = 100): Correlated[] {
    this.index();
    const needle = query.trim().toLowerCase();
    const found: Correlated[] = [];
    for (const entry of this.entries.values()) {
      const haystack = [entry.id, ...Object.values(entry.summary)].join(' ').toLowerCase();
      if (needle === '' || haystack.includes(needle)) found.push(summaryOf(entry));
    }
    return found.sort((a, b) => b.lastTime - a.lastTime).slice(0, limit);
  }

  /** Every hop of one correlation id, oldest first, with payloads; undefined for an unknown id. */
  trace(id: string): { order: Correlated; hops: TraceHopView[] } | undefined {
    this.index();
    const entry = this.entries.get(id);
    if (entry === undefined) return undefined;
    const hops = entry.trail
      .flatMap(({ slot, seq }) => {
        const hop = this.ring[slot];
        return hop?.seq === seq ? [hop] : [];
      })
      .sort((a, b) => a.time - b.time || a.seq - b.seq)
      .map(({ context: _context, payload, ...hop }) => ({ ...hop, payload: viewOf(payload) }));
    return { order: summaryOf(entry), hops };
  }

  /** Indexes the hops added since the last call: the lazy half of the store. */
  private index(): void {
    if (this.indexedSeq === this.newestSeq) return;
    const size = this.ring.length;
    for (let offset = 0; offset < size; offset++) {
      const slot = (this.next + offset) % size;
      const hop = this.ring[slot];
      if (hop === undefined || hop.seq <= this.indexedSeq) continue;
      this.indexHop(hop, slot);
      this.indexedSeq = hop.seq;
    }
  }

  private indexHop(hop: TraceHop, slot: number): void {
    const ids = new Set<string>();
    this.collectIds(hop.payload, ids);
    if (hop.context !== undefined) this.collectIds(hop.context, ids);
    for (const id of ids) {
      let entry = this.entries.get(id);
      if (entry === undefined) {
        entry = { id, firstTime: hop.time, lastTime: hop.time, hops: 0, summary: {}, trail: [] };
        this.entries.set(id, entry);
        this.evictIds();
      }
      entry.hops++;
      entry.lastTime = Math.max(entry.lastTime, hop.time + (hop.durationMs ?? 0));
      const cap = this.options.maxHopsPerId ?? DEFAULT_MAX_HOPS_PER_ID;
      if (entry.trail.length >= cap) entry.trail = entry.trail.filter((kept) => this.ring[kept.slot]?.seq === kept.seq);
      if (entry.trail.length < cap) entry.trail.push({ slot, seq: hop.seq });
      if (hop.error !== undefined && entry.failure === undefined) {
        entry.failure = { service: hop.service, hop: hop.hop, resource: hop.resource, error: hop.error };
      }
    }
    if (this.options.summaryKeys.length > 0) this.summarise(hop.payload);
  }

  /** Change records (DynamoDB stream records: `dynamodb.NewImage`) give each id its latest summary values. */
  private summarise(payload: unknown): void {
    if (!Array.isArray(payload)) return;
    for (const record of payload) {
      const image = (record as { dynamodb?: { NewImage?: Record<string, unknown> } } | null)?.dynamodb?.NewImage;
      if (image === undefined) continue;
      const ids = new Set<string>();
      this.collectIds(image, ids);
      for (const id of ids) {
        const entry = this.entries.get(id);
        if (entry === undefined) continue;
        for (const key of this.options.summaryKeys) {
          const value = scalarOf(image[key]);
          if (value !== undefined) entry.summary[key] = value;
        }
      }
    }
  }

  private evictIds(): void {
    const limit = this.options.maxIds ?? DEFAULT_MAX_IDS;
    for (const id of this.entries.keys()) {
      if (this.entries.size <= limit) return;
      this.entries.delete(id);
    }
  }
}

function summaryOf({ trail: _trail, summary, failure, ...entry }: Entry): Correlated {
  return { ...entry, summary: { ...summary }, ...(failure && { failure: { ...failure } }) };
}

/** A string, a number, or a DynamoDB attribute value of either (`{"S": …}`, `{"N": …}`). */
function scalarOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (value !== null && typeof value === 'object') {
    const attribute = value as { S?: unknown; N?: unknown };
    if (typeof attribute.S === 'string') return attribute.S;
    if (typeof attribute.N === 'string') return attribute.N;
  }
  return undefined;
}

function parsedText(text: string): unknown {
  const start = text.trimStart()[0];
  if ((start !== '{' && start !== '[') || text.length > MAX_PARSED_TEXT) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Finds the value of every correlation key in objects (plain or DynamoDB attribute values) and
 * in JSON text, however deeply the text is escaped inside other text: a pattern match, so the
 * text is never parsed.
 */
function idCollector(keys: readonly string[]): IdCollector {
  const keySet = new Set(keys);
  const quote = String.raw`\\*"`;
  const names = keys.map((key) => key.replace(/[.*+?^${}()|[\]\\]/g, String.raw`\$&`)).join('|');
  const inText = new RegExp(`${quote}(?:${names})${quote}\\s*:\\s*(?:\\{\\s*${quote}[SN]${quote}\\s*:\\s*)?${quote}([^"\\\\]+)`, 'g');
  const fromText = (text: string, ids: Set<string>): void => {
    if (text.length > MAX_PARSED_TEXT) return;
    for (const match of text.matchAll(inText)) ids.add(match[1]!);
  };
  const walk = (value: unknown, ids: Set<string>, depth: number): void => {
    if (depth > MAX_DEPTH || value === null || value === undefined) return;
    if (typeof value === 'string') return fromText(value, ids);
    if (typeof value !== 'object') return;
    if (value instanceof Uint8Array) return value.length <= MAX_PARSED_TEXT ? fromText(Buffer.from(value).toString('utf8'), ids) : undefined;
    if (Array.isArray(value)) {
      for (const element of value) walk(element, ids, depth + 1);
      return;
    }
    for (const [key, child] of Object.entries(value)) {
      const id = keySet.has(key) ? scalarOf(child) : undefined;
      if (id !== undefined) ids.add(id);
      else walk(child, ids, depth + 1);
    }
  };
  return keys.length === 0 ? () => undefined : (value, ids) => walk(value, ids, 0);
}

/** A payload as JSON can carry it: bytes become text, and JSON text is shown parsed. */
function viewOf(payload: unknown): unknown {
  return JSON.parse(JSON.stringify(payload, (_key, value: unknown) => {
    if (value !== null && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data)) {
      const text = Buffer.from((value as { data: number[] }).data).toString('utf8');
      return parsedText(text) ?? text;
    }
    if (typeof value === 'string') return parsedText(value) ?? value;
    return value;
  }) ?? null) as unknown;
}
