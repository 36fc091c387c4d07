/**
 * What the running stack would have been billed for on AWS: the counters of every local service,
 * gathered into one report named after AWS's billing dimensions (us-east-1 price list). The
 * counters themselves are single increments on the services' hot paths; this module only reads
 * them (plus two listeners: finished Express executions for their duration, events on buses that
 * have a schema discoverer).
 *
 * Polling is reported apart (`sqs.emptyReceives`, `dynamodb.streamsEmptyReadRequests`): the local
 * pollers wait less between polls than AWS's (1 s SQS long polls instead of up to 20 s, a stream
 * read every 50 ms when idle), so their count measures the runtime, not what AWS would bill per
 * order.
 *
 * LIMITATIONS: Lambda and Express durations are this machine's; Express memory is billed at the
 * 64 MB minimum (the workflows here use 50 MB plus definition and payload, far below 128 MB);
 * Pipes requests and schema-discovery events are counted one per event (AWS: per 64 KB and 8 KB
 * chunk; the events here are a few KB); Standard workflows (billed per state transition),
 * CloudWatch Logs, X-Ray, storage and data transfer are not metered.
 */
import type { LoadedTemplate } from '../template/loader.js';
import type { MeteringProxy, TableUnits } from './dynamodb/metering-proxy.js';
import type { EventBridgeService } from './events/bus.js';
import type { LambdaRuntime } from './lambda/runtime.js';
import type { MessagingMeter, MessagingUsage } from './messaging/metering.js';
import type { Pipe } from './pipes/pipe.js';
import type { DeployedResource } from './provider.js';
import type { ApiGatewayThread } from './apigateway/thread.js';
import type { StateMachineRegistry } from './stepfunctions/registry.js';

/** Lambda's two price lists. */
export type LambdaArchitecture = 'arm64' | 'x86_64';

/**
 * Billable units since the stack started, per AWS service. Breakdowns (`by…`) are keyed by the
 * template's logical ids.
 */
export interface UsageReport {
  apiGateway: {
    /** REST API requests received, whatever their answer. */
    restRequests: number;
    byApi: Record<string, number>;
  };
  dynamodb: {
    /** On-demand write request units (1 KB each, transactional writes double). */
    writeRequestUnits: number;
    /** On-demand read request units (4 KB strongly consistent, half eventually consistent, transactional double). */
    readRequestUnits: number;
    byTable: Record<string, TableUnits>;
    /** Conditional writes refused by their condition (billed 1 write request unit each). */
    failedConditionalWrites: number;
    cancelledTransactions: number;
    /** DynamoDB Streams read request units: GetRecords calls that returned records. */
    streamsReadRequests: number;
    /** GetRecords calls that returned none: polling. */
    streamsEmptyReadRequests: number;
    /** Requests by action, billed or not (what the engine did; see DynamoDbUsage). */
    requestsByAction: Record<string, number>;
  };
  sqs: MessagingUsage['sqs'];
  sns: MessagingUsage['sns'];
  eventBridge: {
    /** Custom events put on buses, per 64 KB chunk (replays excluded). */
    customEvents: number;
    apiDestinationInvocations: number;
    /** Events archived and their bytes: archive processing is billed per GB. */
    archivedEvents: number;
    archiveProcessedBytes: number;
    replayedEvents: number;
    /** Events ingested by schema discovery (those on buses with a discoverer, replays included). */
    schemaDiscoveryEvents: number;
  };
  pipes: {
    /** Events that passed the filters (every attempt), one request each. */
    requests: number;
    byPipe: Record<string, number>;
  };
  stepFunctions: {
    /** Express executions started. */
    expressRequests: number;
    /** Express duration: 100 ms increments × 64 MB. */
    expressGbSeconds: number;
    byStateMachine: Record<string, { requests: number; gbSeconds: number }>;
  };
  lambda: {
    requests: number;
    /** Duration (rounded up to 1 ms) × MemorySize, per price list. */
    gbSeconds: Record<LambdaArchitecture, number>;
    byFunction: Record<string, { requests: number; gbSeconds: number; architecture: LambdaArchitecture }>;
  };
}

/** The running services a {@link UsageMeter} reads. */
export interface UsageSources {
  template: LoadedTemplate;
  resources: ReadonlyMap<string, DeployedResource>;
  dynamodb: Pick<MeteringProxy, 'usage'>;
  messaging: Pick<MessagingMeter, 'usage'>;
  lambda: Pick<LambdaRuntime, 'stats'>;
  events: Pick<EventBridgeService, 'status' | 'onEvent' | 'apiDestinations'>;
  stepFunctions: Pick<StateMachineRegistry, 'counters' | 'onExecutionFinished'>;
  apiGateway: Pick<ApiGatewayThread, 'stats'>;
  pipes: ReadonlyMap<string, Pick<Pipe, 'stats'>>;
}

/** Express workflows bill duration in 100 ms increments of their memory, at least 64 MB. */
const EXPRESS_INCREMENT_MS = 100;
const EXPRESS_GB = 64 / 1024;

/** Reads the services' counters as a {@link UsageReport}; `stop()` removes its listeners. */
export class UsageMeter {
  /** Logical id by physical id (table and function names, state machine ARNs, pipe names). */
  private readonly logicalIds = new Map<string, string>();
  private readonly architectures = new Map<string, LambdaArchitecture>();
  /** Billed 100 ms increments of finished Express executions, by state machine ARN. */
  private readonly expressIncrements = new Map<string, number>();
  private schemaDiscoveryEvents = 0;
  private readonly unsubscribe: Array<() => void>;

  constructor(private readonly sources: UsageSources) {
    const { template, resources, events, stepFunctions } = sources;
    for (const [logicalId, resource] of resources) this.logicalIds.set(resource.physicalId, logicalId);
    for (const logicalId of template.resourcesOfType('AWS::Lambda::Function')) {
      const { properties } = template.resolveResource(logicalId, resources);
      const [architecture] = (properties.Architectures ?? []) as string[];
      this.architectures.set(logicalId, architecture === 'arm64' ? 'arm64' : 'x86_64');
    }
    for (const counters of Object.values(stepFunctions.counters())) {
      if (counters.type === 'EXPRESS') this.expressIncrements.set(counters.stateMachineArn, 0);
    }
    const discovered = new Set(template.resourcesOfType('AWS::EventSchemas::Discoverer').map((logicalId) => {
      const sourceArn = String(template.resolveResource(logicalId, resources).properties.SourceArn);
      return sourceArn.slice(sourceArn.indexOf(':event-bus/') + ':event-bus/'.length);
    }));
    this.unsubscribe = [
      stepFunctions.onExecutionFinished((record) => {
        const increments = this.expressIncrements.get(record.stateMachineArn);
        if (increments === undefined) return;
        const durationMs = Date.parse(record.stopDate) - Date.parse(record.startDate);
        this.expressIncrements.set(record.stateMachineArn, increments + Math.max(1, Math.ceil(durationMs / EXPRESS_INCREMENT_MS)));
      }),
      events.onEvent((record) => {
        if (discovered.has(record.busName)) this.schemaDiscoveryEvents++;
      }),
    ];
  }

  /** Cumulative usage since the stack started. */
  usage(): UsageReport {
    const { dynamodb, messaging, events, apiGateway } = this.sources;
    const { byTable, ...tableTotals } = dynamodb.usage();
    const { sqs, sns } = messaging.usage();
    const bus = events.status();
    const apis = apiGateway.stats();
    return {
      apiGateway: {
        restRequests: sum(apis.map((api) => api.requests)),
        byApi: Object.fromEntries(apis.map((api) => [api.logicalId, api.requests])),
      },
      dynamodb: { ...tableTotals, byTable: this.byLogicalId(byTable) },
      sqs,
      sns,
      eventBridge: {
        customEvents: bus.putChunks,
        apiDestinationInvocations: sum(Object.values(events.apiDestinations.stats()).map((destination) => destination.calls)),
        archivedEvents: bus.archived,
        archiveProcessedBytes: bus.archivedBytes,
        replayedEvents: bus.replayed,
        schemaDiscoveryEvents: this.schemaDiscoveryEvents,
      },
      pipes: this.pipes(),
      stepFunctions: this.stepFunctions(),
      lambda: this.lambda(),
    };
  }

  stop(): void {
    for (const unsubscribe of this.unsubscribe.splice(0)) unsubscribe();
  }

  private pipes(): UsageReport['pipes'] {
    const byPipe = this.byLogicalId(Object.fromEntries([...this.sources.pipes].map(([name, pipe]) => [name, pipe.stats.records])));
    return { requests: sum(Object.values(byPipe)), byPipe };
  }

  private stepFunctions(): UsageReport['stepFunctions'] {
    const report: UsageReport['stepFunctions'] = { expressRequests: 0, expressGbSeconds: 0, byStateMachine: {} };
    let allIncrements = 0;
    for (const counters of Object.values(this.sources.stepFunctions.counters())) {
      const increments = this.expressIncrements.get(counters.stateMachineArn);
      if (increments === undefined) continue;
      allIncrements += increments;
      report.expressRequests += counters.started;
      report.byStateMachine[this.logicalIdOf(counters.stateMachineArn)] = { requests: counters.started, gbSeconds: expressGbSeconds(increments) };
    }
    // From the whole increments, so that the total carries no rounding of the parts.
    report.expressGbSeconds = expressGbSeconds(allIncrements);
    return report;
  }

  private lambda(): UsageReport['lambda'] {
    const report: UsageReport['lambda'] = { requests: 0, gbSeconds: { arm64: 0, x86_64: 0 }, byFunction: {} };
    for (const [name, stats] of Object.entries(this.sources.lambda.stats())) {
      const logicalId = this.logicalIdOf(name);
      const architecture = this.architectures.get(logicalId) ?? 'x86_64';
      const gbSeconds = (stats.billedMs / 1000) * (stats.memoryMb / 1024);
      report.requests += stats.invocations;
      report.gbSeconds[architecture] += gbSeconds;
      report.byFunction[logicalId] = { requests: stats.invocations, gbSeconds, architecture };
    }
    return report;
  }

  private logicalIdOf(physicalId: string): string {
    return this.logicalIds.get(physicalId) ?? physicalId;
  }

  private byLogicalId<T>(byPhysicalId: Record<string, T>): Record<string, T> {
    return Object.fromEntries(Object.entries(byPhysicalId).map(([physicalId, value]) => [this.logicalIdOf(physicalId), value]));
  }
}

function expressGbSeconds(increments: number): number {
  return (increments * EXPRESS_INCREMENT_MS * EXPRESS_GB) / 1000;
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
