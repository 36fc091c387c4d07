/**
 * The `Custom::SeedInventory` resource: puts the starting stock in place. Create and Update write
 * each item's catalogue attributes but set `quantity` only where the item has none, so a
 * redeploy never resets live stock; Delete leaves the items alone (stock outlives the stack's
 * seed). Every request gets its response PUT to CloudFormation, FAILED with the reason when
 * anything goes wrong, and before the function would time out: CloudFormation is never left
 * waiting for its hour-long timeout.
 */
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type {
  CloudFormationCustomResourceEvent,
  CloudFormationCustomResourceResponse,
  Context,
} from 'aws-lambda';
import { createDocumentClient } from '#shared/dynamodb.js';
import { CloudFormationResponseError, DeadlineExceededError, InvalidInputError } from '#shared/errors.js';
import { INVENTORY_ENTITY_TYPE, inventoryKey, isSku } from '#shared/keys.js';
import { logger, withPowertools } from '#shared/powertools.js';
import { isNonEmptyString, isObject } from '#shared/validate.js';

/** One item of the resource's `Items` property. */
export interface SeedItem {
  sku: string;
  productName: string;
  quantity: number;
  priceCents: number;
  lowStockThreshold: number;
}

/** What {@link seedInventory} needs. */
export interface SeedInventoryDeps {
  documentClient: DynamoDBDocumentClient;
}

/** Time kept back from the Lambda timeout to PUT the response. */
const RESPONSE_MARGIN_MS = 2000;
/** CloudFormation refuses response bodies over 4096 bytes; the reason is the only unbounded part. */
const MAX_REASON_LENGTH = 1000;

const deps: SeedInventoryDeps = { documentClient: createDocumentClient() };

/** A whole number ≥ `min`. CloudFormation passes every scalar property as a string. */
function wholeNumber(value: unknown, field: string, min: number): number {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || !/^\d+$/.test(text) || !Number.isSafeInteger(Number(text)) || Number(text) < min) {
    throw new InvalidInputError(`${field} must be a whole number of at least ${min}`);
  }
  return Number(text);
}

/**
 * Reads the resource's properties: `TableName` and `Items` (Sku, ProductName, Quantity,
 * PriceCents, LowStockThreshold).
 *
 * @throws InvalidInputError naming the first property that is wrong.
 */
export function parseSeedProperties(properties: Record<string, unknown>): { tableName: string; items: SeedItem[] } {
  const { TableName, Items } = properties;
  if (!isNonEmptyString(TableName)) throw new InvalidInputError('TableName must be a non-empty string');
  if (!Array.isArray(Items) || Items.length === 0) throw new InvalidInputError('Items must be a non-empty list');
  const items = Items.map((item: unknown, index): SeedItem => {
    const at = `Items[${index}]`;
    if (!isObject(item)) throw new InvalidInputError(`${at} must be an object`);
    if (!isSku(item.Sku)) throw new InvalidInputError(`${at}.Sku must look like <PRODUCT>-<MODEL>`);
    if (!isNonEmptyString(item.ProductName)) throw new InvalidInputError(`${at}.ProductName must be a non-empty string`);
    return {
      sku: item.Sku,
      productName: item.ProductName,
      quantity: wholeNumber(item.Quantity, `${at}.Quantity`, 0),
      priceCents: wholeNumber(item.PriceCents, `${at}.PriceCents`, 1),
      lowStockThreshold: wholeNumber(item.LowStockThreshold, `${at}.LowStockThreshold`, 0),
    };
  });
  return { tableName: TableName, items };
}

async function seedItem(item: SeedItem, tableName: string, { documentClient }: SeedInventoryDeps): Promise<void> {
  await documentClient.send(
    new UpdateCommand({
      TableName: tableName,
      Key: inventoryKey(item.sku),
      // if_not_exists: a redeploy updates the catalogue but never resets stock that orders have moved.
      UpdateExpression:
        'SET productName = :productName, priceCents = :priceCents, lowStockThreshold = :lowStockThreshold, ' +
        'entityType = :entityType, sku = :sku, #quantity = if_not_exists(#quantity, :quantity)',
      ExpressionAttributeNames: { '#quantity': 'quantity' },
      ExpressionAttributeValues: {
        ':productName': item.productName,
        ':priceCents': item.priceCents,
        ':lowStockThreshold': item.lowStockThreshold,
        ':entityType': INVENTORY_ENTITY_TYPE,
        ':sku': item.sku,
        ':quantity': item.quantity,
      },
    }),
  );
}

/** Runs `work`, failing with DeadlineExceededError if it takes more than `ms` (none when ≤ 0). */
async function beforeDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  const budget = Math.max(0, ms);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceededError(`Seeding did not finish within ${budget} ms`)), budget);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** PUTs the response to the request's pre-signed S3 URL. */
async function sendResponse(url: string, response: CloudFormationCustomResourceResponse): Promise<void> {
  let answer: Response;
  try {
    // The URL is signed for an empty content type.
    answer = await fetch(url, { method: 'PUT', headers: { 'content-type': '' }, body: JSON.stringify(response) });
  } catch (error) {
    throw new CloudFormationResponseError('The CloudFormation response URL could not be reached', { cause: error });
  }
  await answer.body?.cancel();
  if (!answer.ok) throw new CloudFormationResponseError(`The CloudFormation response URL answered ${answer.status}`);
}

/**
 * Handles one custom resource request and PUTs its response to `event.ResponseURL`.
 *
 * @returns the response sent.
 * @throws CloudFormationResponseError only when the response itself could not be delivered
 *   (Lambda then retries the asynchronous invocation).
 */
export async function seedInventory(
  event: CloudFormationCustomResourceEvent,
  deps: SeedInventoryDeps,
  context?: Pick<Context, 'getRemainingTimeInMillis' | 'logStreamName'>,
): Promise<CloudFormationCustomResourceResponse> {
  const { StackId, RequestId, LogicalResourceId } = event;
  const PhysicalResourceId = event.RequestType === 'Create' ? `${LogicalResourceId}-${RequestId}` : event.PhysicalResourceId;
  let response: CloudFormationCustomResourceResponse;
  try {
    let seeded: string[] = [];
    if (event.RequestType !== 'Delete') {
      const { tableName, items } = parseSeedProperties(event.ResourceProperties);
      const work = Promise.all(items.map((item) => seedItem(item, tableName, deps)));
      await (context ? beforeDeadline(work, context.getRemainingTimeInMillis() - RESPONSE_MARGIN_MS) : work);
      seeded = items.map((item) => item.sku);
    }
    logger.info('Custom resource request handled', { requestType: event.RequestType, seeded });
    response = { Status: 'SUCCESS', PhysicalResourceId, StackId, RequestId, LogicalResourceId, Data: { Skus: seeded.join(',') } };
  } catch (error) {
    logger.error('Custom resource request failed', { requestType: event.RequestType, error: error as Error });
    const where = context ? ` (log stream ${context.logStreamName})` : '';
    const Reason = `${(error as Error).message}${where}`.slice(0, MAX_REASON_LENGTH);
    response = { Status: 'FAILED', Reason, PhysicalResourceId, StackId, RequestId, LogicalResourceId, Data: {} };
  }
  await sendResponse(event.ResponseURL, response);
  return response;
}

/** Lambda entry point. */
export const handler = withPowertools((event: CloudFormationCustomResourceEvent, context: Context) =>
  seedInventory(event, deps, context),
);
