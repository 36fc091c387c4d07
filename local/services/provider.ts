/**
 * The contract between the local runtime and its per-service providers. The runtime walks the
 * (SAM-transformed) template in dependency order, resolves each resource's intrinsics with what
 * earlier resources returned, and hands the resolved resource to the provider of its type.
 */
import type { Json } from '../template/parse.js';

/** A resource whose intrinsic functions have all been resolved to plain values. */
export interface ResolvedResource {
  logicalId: string;
  type: string;
  properties: Record<string, Json>;
  metadata: Record<string, Json>;
}

/** What `Ref` and `Fn::GetAtt` return for a created resource. */
export interface DeployedResource {
  /** The value of `Ref` (a name, URL or ARN, as CloudFormation documents per type). */
  physicalId: string;
  /** The values of `Fn::GetAtt` by attribute name (`Arn`, `StreamArn`, `QueueUrl`, …). */
  attributes: Record<string, string>;
}

/** Facts every provider may use; the runtime builds one per run. */
export interface RuntimeContext {
  region: string;
  accountId: string;
  stackName: string;
  /** Folder for persistent state, or undefined for an in-memory run. */
  stateDir: string | undefined;
  /** Registers a clean-up step; steps run in reverse order when the runtime stops. */
  onStop(step: () => Promise<void> | void): void;
  /** One-line, human-readable diagnostics: what went wrong, or will. */
  log(component: string, message: string): void;
  /** One-line start-up progress (a resource created), shown only when asked for. */
  progress(component: string, message: string): void;
  /** Records settings of a resource the local runtime accepts but does not emulate (RoleArn, tracing, …). */
  notEmulated(logicalId: string, features: readonly string[]): void;
}

/** Creates resources of one CloudFormation type. */
export interface ResourceProvider {
  readonly type: string;
  create(resource: ResolvedResource, context: RuntimeContext): Promise<DeployedResource>;
}
