/**
 * Provider for `AWS::DynamoDB::Table` on DynamoDB Local: CreateTable from the CloudFormation
 * properties, then UpdateTimeToLive. A table that already exists (persistent state from an
 * earlier run) is kept with its data. A global secondary index the template adds is created on
 * it, as a CloudFormation update does in place; other drift is logged, not repaired.
 *
 * LIMITATIONS: Tags, PointInTimeRecoverySpecification, SSESpecification, DeletionProtectionEnabled,
 * ContributorInsightsSpecification, TableClass, OnDemandThroughput, WarmThroughput and
 * ResourcePolicy (also per index / stream) are accepted and ignored: they change nothing a local
 * caller can observe. KinesisStreamSpecification and ImportSourceSpecification, or any other
 * property, are rejected. Provisioned capacity is recorded but not enforced (no throttling). The
 * Arn and StreamArn are DynamoDB Local's own (region `ddblocal`, account 000000000000), because
 * the Streams API only accepts those. With TTL enabled, DynamoDB Local deletes expired items
 * within seconds (AWS: up to days later) and streams the deletion with the event name
 * `UNKNOWN_TO_SDK_VERSION`; `toLambdaRecord` (../sources/stream-poller.ts) reports it as AWS does.
 *
 * DURABILITY: items and streams are DynamoDB Local's, in `<stateDir>/dynamodb/` (its own SQLite
 * file): a write DynamoDB Local acknowledged survives a SIGKILL of the runtime; whether it survives
 * a power loss depends on DynamoDB Local's own syncing, which is not measured here.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ResourceInUseException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type AttributeDefinition,
  type CreateTableCommandInput,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
  type KeyType,
  type LocalSecondaryIndex,
  type Projection,
  type ProvisionedThroughput,
  type ScalarAttributeType,
  type StreamViewType,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import type { Json } from '../../template/parse.js';
import type { DeployedResource, ResolvedResource, ResourceProvider, RuntimeContext } from '../provider.js';
import { localClientConfig, waitUntil } from '../../net.js';
import {
  ResourcePropertyError,
  checkProperties,
  expectArray,
  expectBoolean,
  expectNumber,
  expectObject,
  expectString,
  resourceName,
  where,
} from '../cfn-properties.js';

const SUPPORTED = [
  'TableName', 'KeySchema', 'AttributeDefinitions', 'BillingMode', 'ProvisionedThroughput',
  'GlobalSecondaryIndexes', 'LocalSecondaryIndexes', 'StreamSpecification', 'TimeToLiveSpecification',
];
const IGNORED = [
  'PointInTimeRecoverySpecification', 'SSESpecification', 'DeletionProtectionEnabled',
  'ContributorInsightsSpecification', 'TableClass', 'OnDemandThroughput', 'WarmThroughput', 'ResourcePolicy',
];
/** Index settings that change nothing locally. */
const IGNORED_INDEX_KEYS = ['ContributorInsightsSpecification', 'OnDemandThroughput', 'WarmThroughput'];

/** Reads one CloudFormation property of a resource, with errors that name it. */
class TableProperties {
  constructor(private readonly resource: ResolvedResource) {}

  private object(value: Json | undefined, path: string, allowed: readonly string[]): Record<string, Json> {
    const object = expectObject(value, where(this.resource, path));
    for (const key of Object.keys(object)) {
      if (!allowed.includes(key)) {
        throw new ResourcePropertyError(`${where(this.resource, `${path}.${key}`)} is not supported by the local runtime`);
      }
    }
    return object;
  }

  private string(value: Json | undefined, path: string): string {
    return expectString(value, where(this.resource, path));
  }

  private list<T>(value: Json | undefined, path: string, item: (value: Json, path: string) => T): T[] {
    return expectArray(value, where(this.resource, path)).map((element, i) => item(element, `${path}[${i}]`));
  }

  keySchema(value: Json | undefined, path: string): KeySchemaElement[] {
    return this.list(value, path, (element, at) => {
      const key = this.object(element, at, ['AttributeName', 'KeyType']);
      return {
        AttributeName: this.string(key.AttributeName, `${at}.AttributeName`),
        KeyType: this.string(key.KeyType, `${at}.KeyType`) as KeyType,
      };
    });
  }

  attributeDefinitions(value: Json | undefined): AttributeDefinition[] {
    return this.list(value, 'AttributeDefinitions', (element, at) => {
      const definition = this.object(element, at, ['AttributeName', 'AttributeType']);
      return {
        AttributeName: this.string(definition.AttributeName, `${at}.AttributeName`),
        AttributeType: this.string(definition.AttributeType, `${at}.AttributeType`) as ScalarAttributeType,
      };
    });
  }

  throughput(value: Json | undefined, path: string): ProvisionedThroughput | undefined {
    if (value === undefined) return undefined;
    const throughput = this.object(value, path, ['ReadCapacityUnits', 'WriteCapacityUnits']);
    return {
      ReadCapacityUnits: expectNumber(throughput.ReadCapacityUnits, where(this.resource, `${path}.ReadCapacityUnits`)),
      WriteCapacityUnits: expectNumber(throughput.WriteCapacityUnits, where(this.resource, `${path}.WriteCapacityUnits`)),
    };
  }

  projection(value: Json | undefined, path: string): Projection {
    const projection = this.object(value, path, ['ProjectionType', 'NonKeyAttributes']);
    return {
      ProjectionType: projection.ProjectionType === undefined
        ? undefined
        : (this.string(projection.ProjectionType, `${path}.ProjectionType`) as Projection['ProjectionType']),
      NonKeyAttributes: projection.NonKeyAttributes === undefined
        ? undefined
        : this.list(projection.NonKeyAttributes, `${path}.NonKeyAttributes`, (name, at) => this.string(name, at)),
    };
  }

  globalIndexes(value: Json | undefined): GlobalSecondaryIndex[] | undefined {
    if (value === undefined) return undefined;
    return this.list(value, 'GlobalSecondaryIndexes', (element, at) => {
      const index = this.object(element, at, ['IndexName', 'KeySchema', 'Projection', 'ProvisionedThroughput', ...IGNORED_INDEX_KEYS]);
      return {
        IndexName: this.string(index.IndexName, `${at}.IndexName`),
        KeySchema: this.keySchema(index.KeySchema, `${at}.KeySchema`),
        Projection: this.projection(index.Projection, `${at}.Projection`),
        ProvisionedThroughput: this.throughput(index.ProvisionedThroughput, `${at}.ProvisionedThroughput`),
      };
    });
  }

  localIndexes(value: Json | undefined): LocalSecondaryIndex[] | undefined {
    if (value === undefined) return undefined;
    return this.list(value, 'LocalSecondaryIndexes', (element, at) => {
      const index = this.object(element, at, ['IndexName', 'KeySchema', 'Projection']);
      return {
        IndexName: this.string(index.IndexName, `${at}.IndexName`),
        KeySchema: this.keySchema(index.KeySchema, `${at}.KeySchema`),
        Projection: this.projection(index.Projection, `${at}.Projection`),
      };
    });
  }

  streamViewType(value: Json | undefined): StreamViewType | undefined {
    if (value === undefined) return undefined;
    const stream = this.object(value, 'StreamSpecification', ['StreamViewType', 'ResourcePolicy']);
    return this.string(stream.StreamViewType, 'StreamSpecification.StreamViewType') as StreamViewType;
  }

  /** The TTL attribute name when TTL is enabled. */
  ttlAttribute(value: Json | undefined): string | undefined {
    if (value === undefined) return undefined;
    const ttl = this.object(value, 'TimeToLiveSpecification', ['AttributeName', 'Enabled']);
    const enabled = expectBoolean(ttl.Enabled, where(this.resource, 'TimeToLiveSpecification.Enabled'));
    return enabled ? this.string(ttl.AttributeName, 'TimeToLiveSpecification.AttributeName') : undefined;
  }
}

/** Builds the CreateTable request from the CloudFormation properties. */
function createTableInput(resource: ResolvedResource, stackName: string): CreateTableCommandInput & { TableName: string } {
  const p = resource.properties;
  const read = new TableProperties(resource);
  const streamViewType = read.streamViewType(p.StreamSpecification);
  return {
    TableName: resourceName(resource, 'TableName', stackName),
    KeySchema: read.keySchema(p.KeySchema, 'KeySchema'),
    AttributeDefinitions: read.attributeDefinitions(p.AttributeDefinitions),
    BillingMode: p.BillingMode === undefined
      ? undefined
      : (expectString(p.BillingMode, where(resource, 'BillingMode')) as CreateTableCommandInput['BillingMode']),
    ProvisionedThroughput: read.throughput(p.ProvisionedThroughput, 'ProvisionedThroughput'),
    GlobalSecondaryIndexes: read.globalIndexes(p.GlobalSecondaryIndexes),
    LocalSecondaryIndexes: read.localIndexes(p.LocalSecondaryIndexes),
    StreamSpecification: streamViewType ? { StreamEnabled: true, StreamViewType: streamViewType } : undefined,
  };
}

/** Describes how an existing table differs from the template, or returns undefined. */
function drift(existing: TableDescription, wanted: CreateTableCommandInput): string | undefined {
  const differences: string[] = [];
  if (JSON.stringify(existing.KeySchema) !== JSON.stringify(wanted.KeySchema)) differences.push('KeySchema');
  const indexNames = (indexes: Array<{ IndexName?: string }> | undefined): string =>
    (indexes ?? []).map((index) => index.IndexName).sort().join(',');
  if (indexNames(existing.GlobalSecondaryIndexes) !== indexNames(wanted.GlobalSecondaryIndexes)) {
    differences.push('GlobalSecondaryIndexes');
  }
  if (existing.StreamSpecification?.StreamViewType !== wanted.StreamSpecification?.StreamViewType) {
    differences.push('StreamSpecification');
  }
  return differences.length > 0 ? differences.join(', ') : undefined;
}

/**
 * The `AWS::DynamoDB::Table` provider for the DynamoDB Local at `dynamodb.endpoint`, which may
 * still be starting: each creation waits for `dynamodb.ready` (and fails with its start's error).
 */
export function createTableProvider(dynamodb: { endpoint: string; ready?: Promise<unknown> }): ResourceProvider {
  return {
    type: 'AWS::DynamoDB::Table',
    async create(resource: ResolvedResource, context: RuntimeContext): Promise<DeployedResource> {
      checkProperties(resource, SUPPORTED, IGNORED, context);
      const input = createTableInput(resource, context.stackName);
      await dynamodb.ready;
      const tableName = input.TableName;
      const ttlAttribute = new TableProperties(resource).ttlAttribute(resource.properties.TimeToLiveSpecification);
      const client = new DynamoDBClient(localClientConfig(dynamodb.endpoint, context.region));
      try {
        let table: TableDescription | undefined;
        try {
          table = (await client.send(new CreateTableCommand(input))).TableDescription;
          context.progress('dynamodb', `created table ${tableName}`);
        } catch (error) {
          if (!(error instanceof ResourceInUseException)) {
            throw new Error(`${resource.logicalId} (AWS::DynamoDB::Table): CreateTable ${tableName} failed: ${(error as Error).message}`, { cause: error });
          }
          table = (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
          if (table) table = await addMissingIndexes(client, table, input, context);
          const differences = table && drift(table, input);
          if (differences) context.log('dynamodb', `kept existing table ${tableName}, which differs from the template in ${differences}; delete the state folder to recreate it`);
          else context.progress('dynamodb', `kept existing table ${tableName}`);
        }
        if (ttlAttribute !== undefined) await enableTtl(client, tableName, ttlAttribute);
        if (!table?.TableArn) throw new Error(`${resource.logicalId} (AWS::DynamoDB::Table): DynamoDB Local returned no description of ${tableName}`);
        const attributes: Record<string, string> = { Arn: table.TableArn };
        if (table.LatestStreamArn) attributes.StreamArn = table.LatestStreamArn;
        return { physicalId: tableName, attributes };
      } finally {
        client.destroy();
      }
    },
  };
}

/**
 * Creates on a kept table each global secondary index the template has and the table lacks, one
 * UpdateTable at a time (DynamoDB takes one index creation per call, as CloudFormation does);
 * it is backfilled before it turns ACTIVE. Returns the table's new description.
 */
async function addMissingIndexes(
  client: DynamoDBClient,
  table: TableDescription,
  wanted: CreateTableCommandInput,
  context: RuntimeContext,
): Promise<TableDescription> {
  const existing = new Set((table.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
  let description = table;
  for (const index of wanted.GlobalSecondaryIndexes ?? []) {
    if (existing.has(index.IndexName)) continue;
    await client.send(new UpdateTableCommand({
      TableName: wanted.TableName,
      AttributeDefinitions: wanted.AttributeDefinitions,
      GlobalSecondaryIndexUpdates: [{ Create: index }],
    }));
    // A CREATING index fails queries (DynamoDB Local: InternalFailure); CloudFormation, too, waits for ACTIVE.
    description = await waitUntil(async () => {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: wanted.TableName }));
      const created = Table?.GlobalSecondaryIndexes?.find((candidate) => candidate.IndexName === index.IndexName);
      return created?.IndexStatus === 'ACTIVE' && Table;
    }, { timeoutMs: 60_000, intervalMs: 200, description: `index ${index.IndexName} of ${wanted.TableName} ACTIVE` });
    context.progress('dynamodb', `added index ${index.IndexName} to the existing table ${wanted.TableName}`);
  }
  return description;
}

/** UpdateTimeToLive fails when TTL is already on, which is the normal case for a kept table. */
async function enableTtl(client: DynamoDBClient, tableName: string, attributeName: string): Promise<void> {
  const current = (await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }))).TimeToLiveDescription;
  if (current?.TimeToLiveStatus === 'ENABLED' && current.AttributeName === attributeName) return;
  await client.send(new UpdateTimeToLiveCommand({
    TableName: tableName,
    TimeToLiveSpecification: { AttributeName: attributeName, Enabled: true },
  }));
}
