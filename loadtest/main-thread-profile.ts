/**
 * Where the runtime's main thread spends its CPU, by local service: V8's sampling profiler runs
 * in this process (the in-process stack's) while the benchmark measures, and each sample is
 * charged to the innermost frame of the stack that belongs to a service folder
 * (`local/services/<service>/`), to an engine the runtime embeds, or to the benchmark itself
 * (`loadtest/`). A sample in a library (the AWS SDK, node:http) is charged to the service that
 * called it. A sample with no such frame (a socket read before any service code runs, an SDK
 * answer being parsed, a timer) is charged to the kind of plumbing its innermost frame is in
 * (HTTP and sockets, the AWS SDK, fetch, other). The shares are applied to the thread's CPU time from /proc,
 * so the profile decides only how the measured time is split.
 */
import { Session } from 'node:inspector/promises';

/** Microseconds between samples: coarse enough to cost little (~1 % here), fine enough for a minute-long run. */
const SAMPLING_INTERVAL_US = 2000;

/** Libraries that are a service's engine rather than shared plumbing, charged to that service. */
const ENGINES: Array<[RegExp, string]> = [
  [/node_modules\/fauxqs\//, 'messaging'],
  [/node_modules\/aws-local-stepfunctions\//, 'stepfunctions'],
  [/node_modules\/velocityjs\//, 'apigateway'],
];
const SERVICE_FOLDER = /\/local\/services\/([\w-]+)\//;
/** What a sample outside every service is doing, by the code its innermost frame is in. */
const PLUMBING: Array<[RegExp, string]> = [
  [/node_modules\/(@smithy|@aws-sdk)\//, 'plumbing: AWS SDK'],
  [/node:internal\/deps\/undici/, 'plumbing: fetch'],
  [/^node:(_http|net|internal\/streams|internal\/stream_base|internal\/webstreams)/, 'plumbing: HTTP and sockets'],
];
const OTHER_PLUMBING = 'plumbing: other (timers, microtasks, the runtime\'s own)';
const BENCHMARK_FOLDER = /\/loadtest\//;
const NOT_CPU = new Set(['(idle)', '(program)']);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

/** A running profile of this thread. */
export class MainThreadProfile {
  private constructor(private readonly session: Session) {}

  static async start(): Promise<MainThreadProfile> {
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: SAMPLING_INTERVAL_US });
    await session.post('Profiler.start');
    return new MainThreadProfile(session);
  }

  /** Stops the profile; returns each owner's share of the samples that were CPU (0–1). */
  async stop(): Promise<Record<string, number>> {
    const { profile } = await this.session.post('Profiler.stop');
    this.session.disconnect();
    return shares(profile.nodes as ProfileNode[], profile.samples ?? []);
  }
}

function shares(nodes: ProfileNode[], samples: number[]): Record<string, number> {
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const ownerCache = new Map<number, string | null>();
  /** The service (or engine, or the benchmark) of the innermost frame that has one; null if none does. */
  const ownerOf = (id: number): string | null => {
    const cached = ownerCache.get(id);
    if (cached !== undefined) return cached;
    const { url } = byId.get(id)!.callFrame;
    const parent = parentOf.get(id);
    const owner = SERVICE_FOLDER.exec(url)?.[1]
      ?? ENGINES.find(([pattern]) => pattern.test(url))?.[1]
      ?? (BENCHMARK_FOLDER.test(url) ? 'benchmark' : parent === undefined ? null : ownerOf(parent));
    ownerCache.set(id, owner);
    return owner;
  };
  const chargedTo = (id: number): string => {
    const { url, functionName } = byId.get(id)!.callFrame;
    if (functionName === '(garbage collector)') return 'garbage collector';
    return ownerOf(id) ?? PLUMBING.find(([pattern]) => pattern.test(url))?.[1] ?? OTHER_PLUMBING;
  };
  const counts = new Map<string, number>();
  let cpuSamples = 0;
  for (const id of samples) {
    if (NOT_CPU.has(byId.get(id)!.callFrame.functionName)) continue;
    cpuSamples++;
    const owner = chargedTo(id);
    counts.set(owner, (counts.get(owner) ?? 0) + 1);
  }
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]).map(([owner, count]) => [owner, count / Math.max(1, cpuSamples)]));
}
