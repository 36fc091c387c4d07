/**
 * A whole local stack for end-to-end suites (in memory, on free ports), with the clients they
 * read it through: one per suite, started in beforeAll and stopped in afterAll.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { localClientConfig } from '../../local/net.js';
import { startLocalStack, type LocalStack, type RuntimeOptions } from '../../local/runtime.js';

export interface TestStack {
  stack: LocalStack;
  /** The OrdersApi's base URL. */
  api: string;
  table: string;
  documents: DynamoDBDocumentClient;
  sqs: SQSClient;
  stop(): Promise<void>;
}

/** Starts the template (or `options.templatePath`) in memory on free ports. */
export async function startTestStack(options: RuntimeOptions & { stackName: string }): Promise<TestStack> {
  const stack = await startLocalStack({ inMemory: true, apiPort: 0, ...options });
  const api = stack.endpoints.apis.find((entry) => entry.logicalId === 'OrdersApi');
  if (api === undefined) throw new Error('The stack serves no OrdersApi');
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient(localClientConfig(stack.endpoints.dynamodb, 'us-east-1')));
  const sqs = new SQSClient(localClientConfig(stack.endpoints.sqs, 'us-east-1'));
  return {
    stack,
    api: api.url,
    table: stack.outputs.TableName ?? '',
    documents,
    sqs,
    async stop() {
      documents.destroy();
      sqs.destroy();
      await stack.stop();
    },
  };
}
