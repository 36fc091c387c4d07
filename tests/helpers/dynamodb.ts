/**
 * Clients for the unit tests' DynamoDB Local, and tables created from template.yaml's own
 * definitions (so a test table has exactly the deployed key schema and indexes).
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { CreateTableCommand, DynamoDBClient, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { readTemplate } from '../../local/template/parse.js';

const TEMPLATE = fileURLToPath(new URL('../../template.yaml', import.meta.url));

/** A client and a document client on the DynamoDB Local started by the unit tests' global setup. */
export function localDynamoDb(): { client: DynamoDBClient; documentClient: DynamoDBDocumentClient } {
  const endpoint = process.env.WIMS_TEST_DYNAMODB_ENDPOINT;
  if (!endpoint) throw new Error('WIMS_TEST_DYNAMODB_ENDPOINT is not set (the unit tests\' global setup starts DynamoDB Local)');
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  return { client, documentClient: DynamoDBDocumentClient.from(client) };
}

/**
 * Creates a fresh table (unique name) with the key schema, attributes, indexes and stream of
 * the template's `AWS::DynamoDB::Table` resource `logicalId`; returns its name.
 */
export async function createTableLike(client: DynamoDBClient, logicalId: string): Promise<string> {
  const resource = readTemplate(TEMPLATE).Resources[logicalId];
  if (resource?.Type !== 'AWS::DynamoDB::Table') throw new Error(`template.yaml has no table ${logicalId}`);
  const { AttributeDefinitions, KeySchema, GlobalSecondaryIndexes, BillingMode, StreamSpecification } =
    resource.Properties as unknown as CreateTableCommandInput;
  const tableName = `${logicalId}-${randomUUID()}`;
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions,
      KeySchema,
      GlobalSecondaryIndexes,
      BillingMode,
      ...(StreamSpecification && { StreamSpecification: { ...StreamSpecification, StreamEnabled: true } }),
    }),
  );
  return tableName;
}
