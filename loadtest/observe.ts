/**
 * What the benchmark reads from the stack under test. Against the in-process local stack it reads
 * the tables directly (strongly consistent) and the runtime's counters; against a stack reached
 * only over HTTP (`--target`) it uses the public API, and every figure HTTP cannot give is
 * reported as null with the reason (see {@link Observer.unavailable}).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { localClientConfig } from '../local/net.js';
import type { LocalStack } from '../local/runtime.js';
import type { ObservedOrder } from './stats.js';

/** The SKU the write-up's orders buy (the API's default). */
export const SKU = 'MACGUFFIN-LX';

/** The business metrics of the outcomes stats.ts's isSettled accepts: ready, backordered, payment failed. */
const SETTLED_METRICS = ['OrdersReadyForFulfillment', 'OrdersBackordered', 'PaymentsFailed'];

/** Reads the stack's state; the optional methods exist only where the stack's internals are reachable. */
export interface Observer {
  /** What kind of read {@link stock} is, for the report. */
  readonly stockRead: string;
  /** Why the internal-only figures are null (undefined when they are measured). */
  readonly unavailable: string | undefined;
  /** Units of {@link SKU} in stock. */
  stock(): Promise<number>;
  /** The orders of these customers, by orderId. */
  orders(customerIds: ReadonlySet<string>): Promise<Map<string, ObservedOrder>>;
  /** Charges in the payment provider's ledger. */
  ledger?(): Promise<Array<{ orderId: string }>>;
  /** Messages in the payments dead-letter queue (visible and in flight); a billed SQS request, so read it last. */
  deadLetters?(): Promise<number>;
  /** Read request units the observer's own table reads consumed, by table logical id: not the orders' cost. */
  ownReadUnits?(): Record<string, number>;
  /** The observer's own DynamoDB requests so far, by action. */
  ownRequests?(): Record<string, number>;
  /** Orders settled so far by the stack's own business metrics: a hint that costs no table read (redeliveries may count twice). */
  settledHint?(): number;
  /** 429 answers of the payment provider's API so far. */
  provider429?(): number;
  close(): void;
}

/**
 * Reads an in-process local stack directly. Its table reads pass the runtime's usage meter like any
 * client's, so each asks for its consumed capacity and the total is kept apart (see ownReadUnits).
 */
export class LocalObserver implements Observer {
  readonly stockRead = 'GetItem on the table, strongly consistent';
  readonly unavailable = undefined;
  private readonly readUnits = new Map<string, number>();
  private readonly requests: Record<string, number> = {};
  private readonly documents: DynamoDBDocumentClient;
  private readonly sqs: SQSClient;
  private readonly stockKey: { pk: string; sk: string };

  constructor(private readonly stack: LocalStack) {
    this.documents = DynamoDBDocumentClient.from(new DynamoDBClient(localClientConfig(stack.endpoints.dynamodb, 'us-east-1')));
    this.sqs = new SQSClient(localClientConfig(stack.endpoints.sqs, 'us-east-1'));
    // The intake API derives the inventory key from the SKU the same way: PRODUCT-MODEL.
    const [product, ...model] = SKU.split('-');
    this.stockKey = { pk: `INVENTORY#${product}`, sk: `MODEL#${model.join('-')}` };
  }

  async stock(): Promise<number> {
    const table = this.output('TableName');
    const { Item, ConsumedCapacity } = await this.documents.send(new GetCommand({
      TableName: table, Key: this.stockKey, ConsistentRead: true, ReturnConsumedCapacity: 'TOTAL',
    }));
    this.countRead(table, 'GetItem', ConsumedCapacity?.CapacityUnits);
    if (Item === undefined) throw new Error(`No inventory item ${this.stockKey.pk}/${this.stockKey.sk}`);
    return Number(Item.quantity);
  }

  async orders(customerIds: ReadonlySet<string>): Promise<Map<string, ObservedOrder>> {
    const items = await this.scan(this.output('TableName'), 'begins_with(pk, :customer)', { ':customer': 'CUSTOMER#' });
    const orders = new Map<string, ObservedOrder>();
    for (const item of items) {
      if (!customerIds.has(String(item.customerId))) continue;
      orders.set(String(item.orderId), {
        orderId: String(item.orderId),
        customerId: String(item.customerId),
        quantity: Number(item.quantity),
        status: String(item.status),
        paymentStatus: item.paymentStatus === undefined ? null : String(item.paymentStatus),
        createdAt: Number(item.createdAt),
        reservedAt: epochMs(item.reservedAt),
        paidAt: epochMs(item.paidAt),
      });
    }
    return orders;
  }

  async ledger(): Promise<Array<{ orderId: string }>> {
    return (await this.scan(this.output('ProviderLedgerTableName'))).map((item) => ({ orderId: String(item.orderId) }));
  }

  async deadLetters(): Promise<number> {
    const { Attributes = {} } = await this.sqs.send(new GetQueueAttributesCommand({
      QueueUrl: this.output('PaymentsDeadLetterQueueUrl'),
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }));
    return Number(Attributes.ApproximateNumberOfMessages ?? 0) + Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
  }

  provider429(): number {
    // The provider's API is the one whose id the PaymentProviderUrl output names.
    const url = this.output('PaymentProviderUrl');
    const api = this.stack.apiGateway.stats().find((entry) => url.includes(`//${entry.apiId}.`));
    if (api === undefined) throw new Error(`No local API serves ${url}`);
    return api.status429;
  }

  ownReadUnits(): Record<string, number> {
    // The usage report names tables by logical id.
    const logicalIds = new Map([...this.stack.resources].map(([logicalId, resource]) => [resource.physicalId, logicalId]));
    return Object.fromEntries([...this.readUnits].map(([table, units]) => [logicalIds.get(table) ?? table, units]));
  }

  ownRequests(): Record<string, number> {
    return { ...this.requests };
  }

  settledHint(): number {
    // Metric names are the functions' (functions/shared/powertools.ts), summed over namespaces.
    return Object.entries(this.stack.logs.metrics())
      .filter(([key]) => SETTLED_METRICS.some((name) => key.endsWith(`/${name}`)))
      .reduce((sum, [, count]) => sum + count, 0);
  }

  close(): void {
    this.documents.destroy();
    this.sqs.destroy();
  }

  private countRead(table: string, action: string, units: number | undefined): void {
    this.readUnits.set(table, (this.readUnits.get(table) ?? 0) + (units ?? 0));
    this.requests[action] = (this.requests[action] ?? 0) + 1;
  }

  private output(name: string): string {
    const value = this.stack.outputs[name];
    if (value === undefined) throw new Error(`The stack has no output ${name}`);
    return value;
  }

  private async scan(table: string, filter?: string, values?: Record<string, unknown>): Promise<Array<Record<string, unknown>>> {
    const items: Array<Record<string, unknown>> = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(new ScanCommand({
        TableName: table,
        ConsistentRead: true,
        ExclusiveStartKey: start,
        ReturnConsumedCapacity: 'TOTAL',
        ...(filter ? { FilterExpression: filter, ExpressionAttributeValues: values } : {}),
      }));
      this.countRead(table, 'Scan', page.ConsumedCapacity?.CapacityUnits);
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return items;
  }
}

/** Customers whose orders are fetched at once over HTTP. */
const HTTP_CONCURRENCY = 8;

/** Reads a running or deployed stack through its public API only. */
export class HttpObserver implements Observer {
  readonly stockRead = 'GET /inventory (on AWS a GSI read, eventually consistent)';
  readonly unavailable = 'not reachable over HTTP (reservedAt, paidAt, the provider ledger, the DLQ and the provider counters are internal): run against the in-process stack';

  constructor(private readonly baseUrl: string) {}

  async stock(): Promise<number> {
    const { items } = (await this.get(`/inventory?sku=${SKU}`)) as { items: Array<{ quantity: number }> };
    if (items[0] === undefined) throw new Error(`GET /inventory?sku=${SKU} lists no item`);
    return items[0].quantity;
  }

  async orders(customerIds: ReadonlySet<string>): Promise<Map<string, ObservedOrder>> {
    const orders = new Map<string, ObservedOrder>();
    const queue = [...customerIds];
    const worker = async (): Promise<void> => {
      for (let customerId = queue.pop(); customerId !== undefined; customerId = queue.pop()) {
        const { orders: list } = (await this.get(`/orders/${encodeURIComponent(customerId)}`)) as { orders: Array<Omit<ObservedOrder, 'customerId'>> };
        for (const order of list) orders.set(order.orderId, { ...order, customerId });
      }
    };
    await Promise.all(Array.from({ length: HTTP_CONCURRENCY }, worker));
    return orders;
  }

  close(): void {}

  private async get(path: string): Promise<unknown> {
    const response = await fetch(`${this.baseUrl.replace(/\/$/, '')}${path}`);
    if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
    return response.json();
  }
}

function epochMs(value: unknown): number | undefined {
  return typeof value === 'string' ? Date.parse(value) : undefined;
}
