/**
 * The environment of the unit tests, set before any test module loads: the handlers read their
 * configuration at load time (the tests inject real tables and clients into the raw functions),
 * Powertools runs in dev mode (no EMF output) and quiet, and the SDK gets dummy credentials and
 * DynamoDB Local's endpoint, so nothing can reach AWS.
 */
const endpoint = process.env.WIMS_TEST_DYNAMODB_ENDPOINT;
if (!endpoint) throw new Error('WIMS_TEST_DYNAMODB_ENDPOINT is not set: run the unit tests through Jest (its global setup starts DynamoDB Local)');

Object.assign(process.env, {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  AWS_ENDPOINT_URL_DYNAMODB: endpoint,
  POWERTOOLS_DEV: 'true',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_SERVICE_NAME: 'wims',
  POWERTOOLS_METRICS_NAMESPACE: 'WIMS',
  TABLE_NAME: 'configured-at-load',
  LEDGER_TABLE_NAME: 'configured-at-load',
  IDEMPOTENCY_TABLE_NAME: 'configured-at-load',
  LOW_STOCK_THRESHOLD: '100',
  PROVIDER_API_KEY: 'configured-at-load',
  PAYMENT_WEBHOOK_URL: 'http://127.0.0.1:9/configured-at-load',
  PAYMENT_WEBHOOK_SECRET: 'configured-at-load',
});
