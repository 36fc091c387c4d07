/** Stops the DynamoDB Local the global setup started. */
export default async function globalTeardown(): Promise<void> {
  await globalThis.wimsUnitDynamoDb?.stop();
  globalThis.wimsUnitDynamoDb = undefined;
}
