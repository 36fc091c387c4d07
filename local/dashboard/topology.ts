/**
 * The template as a graph, for the dashboard: a node per resource that carries data, an edge per
 * reference between two of them. The direction comes from the property that holds the
 * reference: a pipe's Source, a rule's EventBusName and a mapping's EventSourceArn point in,
 * everything else (targets, dead-letter queues, what a function or state machine names) points out.
 */
import type { Json } from '../template/parse.js';
import type { LoadedTemplate } from '../template/loader.js';
import type { DeployedResource } from '../services/provider.js';

/** Resource types drawn as nodes, with the short kind the page styles them by. */
const NODE_KINDS: Readonly<Record<string, string>> = {
  'AWS::ApiGateway::RestApi': 'api',
  'AWS::DynamoDB::Table': 'table',
  'AWS::Pipes::Pipe': 'pipe',
  'AWS::Events::EventBus': 'bus',
  'AWS::Events::Rule': 'rule',
  'AWS::Events::ApiDestination': 'api-destination',
  'AWS::Events::Archive': 'archive',
  'AWS::StepFunctions::StateMachine': 'state-machine',
  'AWS::SQS::Queue': 'queue',
  'AWS::SNS::Topic': 'topic',
  'AWS::Lambda::Function': 'function',
  'AWS::Scheduler::Schedule': 'schedule',
};

/** Properties whose reference is where data comes from, by resource type. */
const INBOUND: Readonly<Record<string, readonly string[]>> = {
  'AWS::Pipes::Pipe': ['Source'],
  'AWS::Events::Rule': ['EventBusName'],
  'AWS::Events::Archive': ['SourceArn'],
};

export interface TopologyNode {
  id: string;
  kind: string;
  type: string;
  /** Names and ARNs the runtime's event log may use for this resource (filled in once deployed). */
  aliases: string[];
  /** Column in a left-to-right layout: the longest path from a node nothing flows into. */
  layer: number;
}

export interface TopologyEdge {
  from: string;
  to: string;
  /** `dead-letter` for a DLQ or a redrive policy, `data` otherwise. */
  kind: 'data' | 'dead-letter';
}

export interface Topology {
  nodes: TopologyNode[];
  edges: TopologyEdge[];
}

/** Builds the graph of `template`; `deployed` (when running) gives each node the names its hops carry. */
export function topologyOf(template: LoadedTemplate, deployed?: ReadonlyMap<string, DeployedResource>): Topology {
  const resources = template.template.Resources;
  const ids = Object.keys(resources).filter((id) => NODE_KINDS[resources[id]!.Type] !== undefined);
  const isNode = new Set(ids);
  const edges = new Map<string, TopologyEdge>();
  const addEdge = (from: string, to: string, kind: TopologyEdge['kind']): void => {
    if (from !== to && isNode.has(from) && isNode.has(to)) edges.set(`${from}>${to}`, { from, to, kind });
  };
  for (const [id, resource] of Object.entries(resources)) {
    const properties = (resource.Properties ?? {}) as Record<string, Json>;
    if (resource.Type === 'AWS::Lambda::EventSourceMapping') {
      for (const source of referencesIn(properties.EventSourceArn)) for (const fn of referencesIn(properties.FunctionName)) addEdge(source, fn, 'data');
      continue;
    }
    if (!isNode.has(id)) continue;
    const inbound = INBOUND[resource.Type] ?? [];
    for (const [name, value] of Object.entries(properties)) {
      const deadLetters = deadLetterReferences(name, value);
      for (const reference of referencesIn(value)) {
        if (inbound.includes(name)) addEdge(reference, id, 'data');
        else addEdge(id, reference, deadLetters.has(reference) ? 'dead-letter' : 'data');
      }
    }
  }
  const edgeList = [...edges.values()];
  const nodes = ids.map((id): TopologyNode => ({
    id,
    kind: NODE_KINDS[resources[id]!.Type]!,
    type: resources[id]!.Type,
    aliases: aliasesOf(id, deployed?.get(id)),
    layer: 0,
  }));
  // A function calling an API (a webhook) is a callback: the API stays an entry point on the left.
  const kindOf = (id: string): string => NODE_KINDS[resources[id]!.Type]!;
  assignLayers(nodes, edgeList.filter((edge) => !(kindOf(edge.from) === 'function' && kindOf(edge.to) === 'api')));
  return { nodes, edges: edgeList };
}

function aliasesOf(id: string, deployed: DeployedResource | undefined): string[] {
  if (deployed === undefined) return [id];
  const values = [id, deployed.physicalId, ...Object.values(deployed.attributes)];
  const names = values.flatMap((value) => [value, value.slice(value.lastIndexOf(':') + 1), value.slice(value.lastIndexOf('/') + 1)]);
  return [...new Set(names.filter((name) => name.length > 0))];
}

/** Logical ids referenced (Ref, Fn::GetAtt, Fn::Sub's `${Id}` / `${Id.Attr}`) anywhere in `value`. */
function referencesIn(value: Json | undefined): string[] {
  const found = new Set<string>();
  const walk = (node: Json | undefined): void => {
    if (node === null || node === undefined || typeof node !== 'object') return;
    if (Array.isArray(node)) return node.forEach(walk);
    for (const [key, child] of Object.entries(node)) {
      if (key === 'Ref' && typeof child === 'string') found.add(child);
      else if (key === 'Fn::GetAtt') found.add(Array.isArray(child) ? String(child[0]) : String(child).split('.')[0]!);
      else if (key === 'Fn::Sub') {
        const text = Array.isArray(child) ? child[0] : child;
        if (typeof text === 'string') for (const match of text.matchAll(/\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}/g)) found.add(match[1]!);
        if (Array.isArray(child)) walk(child[1]);
      } else walk(child);
    }
  };
  walk(value);
  return [...found];
}

/** References under a dead-letter setting (a DeadLetterConfig, a RedrivePolicy's deadLetterTargetArn). */
function deadLetterReferences(name: string, value: Json): Set<string> {
  const found = new Set<string>();
  const walk = (key: string, node: Json): void => {
    if (/DeadLetter|deadLetterTargetArn/.test(key)) return void referencesIn(node).forEach((reference) => found.add(reference));
    if (node === null || typeof node !== 'object') return;
    for (const [childKey, child] of Object.entries(node)) walk(childKey, child);
  };
  walk(name, value);
  return found;
}

/** Longest-path layering (a cycle is cut where the path revisits a node). */
function assignLayers(nodes: TopologyNode[], edges: TopologyEdge[]): void {
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const outgoing = new Map<string, string[]>();
  const incoming = new Map<string, number>();
  for (const { from, to } of edges) {
    outgoing.set(from, [...(outgoing.get(from) ?? []), to]);
    incoming.set(to, (incoming.get(to) ?? 0) + 1);
  }
  const visit = (id: string, layer: number, path: Set<string>): void => {
    const node = byId.get(id)!;
    if (path.has(id) || node.layer >= layer && layer > 0) return;
    node.layer = Math.max(node.layer, layer);
    path.add(id);
    for (const next of outgoing.get(id) ?? []) visit(next, layer + 1, path);
    path.delete(id);
  };
  for (const node of nodes) if (!incoming.has(node.id)) visit(node.id, 0, new Set());
}
