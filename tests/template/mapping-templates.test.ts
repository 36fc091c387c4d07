import { beforeAll, describe, expect, it } from '@jest/globals';
import { loadCheckContext } from '../../local/check/context.js';
import { dynamoDbRequestProblems, mappingTemplates, type MappingTemplate } from '../../local/check/mapping-templates.js';
import { renderMappingTemplate, type MappingInput, type MappingResult } from '../../local/services/apigateway/vtl.js';

/** OrdersApi's templates, rendered by the local engine on the requests and DynamoDB answers API Gateway would give them. */
let templates: MappingTemplate[];
beforeAll(() => {
  const { context } = loadCheckContext('template.yaml');
  templates = mappingTemplates(context!).filter((template) => template.api === 'OrdersApi');
});

const CONTEXT = { requestId: 'b3c1d2e4-0000-4000-8000-000000000001', requestTimeEpoch: 1700000000123, stage: 'dev' };

function renderer(method: string, path: string, selectionPattern?: string) {
  return (input: Partial<MappingInput> = {}): MappingResult => {
    const template = templates.find(
      (candidate) => candidate.method === method && candidate.path === path && candidate.kind === (selectionPattern ? 'response' : 'request') && candidate.selectionPattern === selectionPattern,
    );
    if (!template) throw new Error(`no template for ${method} ${path} ${selectionPattern ?? 'request'}`);
    return renderMappingTemplate(template.template, { body: '', headers: {}, queryStringParameters: {}, pathParameters: {}, context: CONTEXT, ...input });
  };
}

/** The fields of a rendered DynamoDB request these tests read (Item: a PutItem's). */
interface DynamoDbRequest {
  Item: Record<'pk' | 'sk' | 'orderId' | 'customerId', { S: string }>;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
  KeyConditionExpression?: string;
}

/** The output as JSON, after checking that it is a valid DynamoDB request (every attribute value a single known type). */
function dynamoDbRequest(result: MappingResult): DynamoDbRequest {
  const request = JSON.parse(result.output);
  expect(dynamoDbRequestProblems(request)).toEqual([]);
  return request as DynamoDbRequest;
}

const dynamoDbError = (type: string): string => JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message: `sample ${type}` });

const HOSTILE_CUSTOMER_IDS = [
  'double"quote',
  'back\\slash\\',
  "it's",
  "\\'",
  '</script><script>alert(1)</script>',
  'line\nbreak\r\n\ttab',
  'ünïcødé 😀 \u2028\u2029',
  '$context.requestId #set($x = 1)',
];

describe('POST /orders → DynamoDB PutItem', () => {
  const request = renderer('POST', '/orders');
  const order = (body: object, headers: Record<string, string> = {}) => dynamoDbRequest(request({ body: JSON.stringify(body), headers }));

  it('writes a PENDING order named by the request id, with the default SKU', () => {
    expect(order({ customerId: 'c-1', quantity: 3 })).toEqual({
      TableName: 'WimsTable',
      ConditionExpression: 'attribute_not_exists(pk)',
      Item: {
        pk: { S: 'CUSTOMER#c-1' },
        sk: { S: `ORDER#${CONTEXT.requestTimeEpoch}#${CONTEXT.requestId}` },
        orderId: { S: CONTEXT.requestId },
        customerId: { S: 'c-1' },
        sku: { S: 'MACGUFFIN-LX' },
        product: { S: 'MACGUFFIN' },
        model: { S: 'LX' },
        quantity: { N: '3' },
        status: { S: 'PENDING' },
        createdAt: { N: String(CONTEXT.requestTimeEpoch) },
        // The OpenOrders index: shard = the request time mod 4, opened at the request time.
        openShard: { S: `OPEN#${CONTEXT.requestTimeEpoch % 4}` },
        openSince: { N: String(CONTEXT.requestTimeEpoch) },
      },
    });
  });

  it('names the order by the Idempotency-Key, and splits the SKU into product and model', () => {
    const { Item } = order({ customerId: 'c-1', quantity: 1, sku: 'WIDGET-X2' }, { 'Idempotency-Key': 'key-1' });
    expect(Item).toMatchObject({ sk: { S: 'ORDER#key-1' }, orderId: { S: 'key-1' }, sku: { S: 'WIDGET-X2' }, product: { S: 'WIDGET' }, model: { S: 'X2' } });
  });

  it.each(['idempotency-key', 'IDEMPOTENCY-KEY', 'Idempotency-Key'])('reads the key from a header named %s', (header) => {
    expect(order({ customerId: 'c-1', quantity: 1 }, { [header]: 'Checkout_42:v1.0' }).Item.orderId.S).toBe('Checkout_42:v1.0');
  });

  it('accepts a key of 64 characters', () => {
    const key = 'k'.repeat(64);
    expect(order({ customerId: 'c-1', quantity: 1 }, { 'Idempotency-Key': key }).Item.sk.S).toBe(`ORDER#${key}`);
  });

  it.each(['', 'k'.repeat(65), 'has space', 'quote"', "it's", 'back\\slash', 'hash#1', 'ünïcødé', '😀', 'line\nbreak'])(
    'refuses the Idempotency-Key %j with a request DynamoDB rejects before writing, naming the marker', (key) => {
      const request = order({ customerId: 'c-1', quantity: 1 }, { 'Idempotency-Key': key });
      expect(request.ExpressionAttributeNames).toEqual({ '#invalidIdempotencyKey': 'pk' });
      expect(request.Item.orderId.S).toBe(CONTEXT.requestId);
    },
  );
  it.each(HOSTILE_CUSTOMER_IDS)('keeps a hostile customerId exactly (%j)', (customerId) => {
    const { Item } = order({ customerId, quantity: 2 });
    expect(Item.customerId.S).toBe(customerId);
    expect(Item.pk.S).toBe(`CUSTOMER#${customerId}`);
  });
});

describe('POST /orders ← DynamoDB answer', () => {
  const accepted = renderer('POST', '/orders', '2\\d{2}');
  const rejected = renderer('POST', '/orders', '4\\d{2}');
  const failed = renderer('POST', '/orders', '5\\d{2}');

  it('answers the order id: the Idempotency-Key under any header case, or the request id', () => {
    expect(JSON.parse(accepted({ body: '{}' }).output)).toEqual({ orderId: CONTEXT.requestId, status: 'PENDING' });
    expect(JSON.parse(accepted({ body: '{}', headers: { 'idempotency-key': 'k:1' } }).output)).toEqual({ orderId: 'k:1', status: 'PENDING' });
    // The header loop writes nothing of its own into the answer.
    expect(accepted({ body: '{}', headers: { 'idempotency-key': 'k:1', accept: '*/*', host: 'x' } }).output.trim()).toBe('{"orderId": "k:1", "status": "PENDING"}');
    expect(accepted({ body: '{}', headers: { 'idempotency-key': 'k:1', accept: '*/*', host: 'x' } }).output).toMatch(/^\{/);
  });

  it('turns a failed condition into 409, throttling into 503 with Retry-After, anything else into 500', () => {
    const answer = (type: string) => {
      const result = rejected({ body: dynamoDbError(type) });
      return { status: result.responseOverride.status, headers: result.responseOverride.headers, body: JSON.parse(result.output) };
    };
    expect(answer('ConditionalCheckFailedException')).toEqual({ status: 409, headers: {}, body: expect.objectContaining({ error: 'DuplicateOrder' }) });
    for (const type of ['ThrottlingException', 'ProvisionedThroughputExceededException', 'RequestLimitExceeded']) {
      expect(answer(type)).toEqual({ status: 503, headers: { 'Retry-After': '1' }, body: expect.objectContaining({ error: 'ServiceUnavailable' }) });
    }
    expect(answer('ValidationException')).toEqual({ status: 500, headers: {}, body: expect.objectContaining({ error: 'InternalError' }) });
    for (const field of ['message', 'Message']) {
      const invalidKey = rejected({ body: JSON.stringify({ __type: 'com.amazon.coral.validate#ValidationException', [field]: 'Value provided in ExpressionAttributeNames unused in expressions: keys: {#invalidIdempotencyKey}' }) });
      expect(invalidKey.responseOverride.status).toBe(400);
      expect(JSON.parse(invalidKey.output)).toEqual({ message: expect.stringContaining('Idempotency-Key'), error: 'InvalidIdempotencyKey' });
    }
  });

  it('answers JSON to a DynamoDB server error', () => {
    expect(JSON.parse(failed({ body: dynamoDbError('InternalServerError') }).output)).toEqual(expect.objectContaining({ error: 'ServiceUnavailable' }));
  });
});

describe('GET /inventory → DynamoDB Query', () => {
  const request = renderer('GET', '/inventory');

  it('queries every inventory item without ?sku=', () => {
    expect(dynamoDbRequest(request())).toEqual({
      TableName: 'WimsTable',
      IndexName: 'ByEntityType',
      KeyConditionExpression: 'entityType = :inventory',
      ExpressionAttributeValues: { ':inventory': { S: 'INVENTORY' } },
    });
  });

  it.each(['MACGUFFIN-LX', ...HOSTILE_CUSTOMER_IDS])('queries one SKU with ?sku=%j, kept exactly', (sku) => {
    const query = dynamoDbRequest(request({ queryStringParameters: { sku } }));
    expect(query.KeyConditionExpression).toBe('entityType = :inventory AND sku = :sku');
    expect(query.ExpressionAttributeValues).toEqual({ ':inventory': { S: 'INVENTORY' }, ':sku': { S: sku } });
  });
});

describe('GET /inventory ← DynamoDB answer', () => {
  const answer = renderer('GET', '/inventory', '2\\d{2}');
  const item = (sku: string, productName: string) => ({
    pk: { S: 'INVENTORY#X' }, sk: { S: 'MODEL#Y' }, entityType: { S: 'INVENTORY' },
    sku: { S: sku }, productName: { S: productName }, quantity: { N: '42' }, lowStockThreshold: { N: '100' }, priceCents: { N: '2500' },
  });

  it('answers {"items": []} when there are none', () => {
    expect(JSON.parse(answer({ body: JSON.stringify({ Items: [], Count: 0, ScannedCount: 0 }) }).output)).toEqual({ items: [] });
  });

  it('answers every item, text kept exactly', () => {
    const body = JSON.stringify({ Items: [item('MACGUFFIN-LX', 'MacGuffin "LX" </script>'), item('A-B', "it's\n😀")], Count: 2, ScannedCount: 2 });
    expect(JSON.parse(answer({ body }).output)).toEqual({
      items: [
        { sku: 'MACGUFFIN-LX', productName: 'MacGuffin "LX" </script>', quantity: 42, lowStockThreshold: 100, priceCents: 2500 },
        { sku: 'A-B', productName: "it's\n😀", quantity: 42, lowStockThreshold: 100, priceCents: 2500 },
      ],
    });
  });

  it('answers JSON to an error', () => {
    const failed = renderer('GET', '/inventory', '4\\d{2}|5\\d{2}');
    expect(JSON.parse(failed({ body: dynamoDbError('ThrottlingException') }).output)).toEqual(expect.objectContaining({ error: 'ServiceUnavailable' }));
  });
});

describe('GET /orders/{customerId} → DynamoDB Query', () => {
  const request = renderer('GET', '/orders/{customerId}');

  it.each(['c-1', ...HOSTILE_CUSTOMER_IDS])('queries the customer\'s orders, newest first (customerId %j kept exactly)', (customerId) => {
    expect(dynamoDbRequest(request({ pathParameters: { customerId } }))).toEqual({
      TableName: 'WimsTable',
      IndexName: 'ByCustomerNewest',
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: `CUSTOMER#${customerId}` } },
      ScanIndexForward: false,
      Limit: 100,
    });
  });
});

describe('GET /orders/{customerId} ← DynamoDB answer', () => {
  const answer = renderer('GET', '/orders/{customerId}', '2\\d{2}');
  const order = (orderId: string, paymentStatus?: string) => ({
    pk: { S: 'CUSTOMER#c-1' }, sk: { S: `ORDER#${orderId}` }, orderId: { S: orderId }, customerId: { S: 'c-1' }, sku: { S: 'MACGUFFIN-LX' },
    quantity: { N: '2' }, status: { S: 'RESERVED' }, createdAt: { N: '1700000000000' }, ...(paymentStatus ? { paymentStatus: { S: paymentStatus } } : {}),
  });

  it('answers {"orders": []} when there are none', () => {
    expect(JSON.parse(answer({ body: JSON.stringify({ Items: [], Count: 0, ScannedCount: 0 }) }).output)).toEqual({ orders: [] });
  });

  it('answers every order, paymentStatus null until there is one, order ids kept exactly', () => {
    const body = JSON.stringify({ Items: [order('k"\'1', 'PAID'), order('o-2')], Count: 2, ScannedCount: 2 });
    expect(JSON.parse(answer({ body }).output)).toEqual({
      orders: [
        { orderId: 'k"\'1', sku: 'MACGUFFIN-LX', quantity: 2, status: 'RESERVED', paymentStatus: 'PAID', createdAt: 1700000000000 },
        { orderId: 'o-2', sku: 'MACGUFFIN-LX', quantity: 2, status: 'RESERVED', paymentStatus: null, createdAt: 1700000000000 },
      ],
    });
  });
});
