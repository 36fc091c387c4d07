/**
 * Starts the one DynamoDB Local the unit tests share and publishes its endpoint to the test
 * workers (started after this runs, they inherit the environment).
 */
import { tsImport } from 'tsx/esm/api';
import type { DynamoDbLocal } from '../../local/services/dynamodb/engine.js';

declare global {
  // Handed to the global teardown, which runs in this same context.
  var wimsUnitDynamoDb: DynamoDbLocal | undefined;
}

type Engine = typeof import('../../local/services/dynamodb/engine.js');

export default async function globalSetup(): Promise<void> {
  // Jest transforms this file but not what it imports: tsx loads the TypeScript engine.
  const { startDynamoDbLocal } = (await tsImport('../../local/services/dynamodb/engine.ts', import.meta.url)) as Engine;
  const dynamoDb = await startDynamoDbLocal();
  globalThis.wimsUnitDynamoDb = dynamoDb;
  process.env.WIMS_TEST_DYNAMODB_ENDPOINT = dynamoDb.endpoint;
}
