import { afterEach, describe, expect, it, jest } from '@jest/globals';
import type { DynamoDBRecord } from 'aws-lambda';
import { businessMetrics, enrichChanges, handler } from '../../functions/cdc-enrichment/handler.js';
import { CDC_DETAIL_TYPE, CDC_SOURCE, type ChangeEvent } from '../../functions/shared/events.js';
import { metrics } from '../../functions/shared/powertools.js';
import { loadEvent } from '../helpers/events.js';
import { lambdaContext } from '../helpers/lambda.js';

const config = { lowStockThreshold: 100 };

interface BusEvent {
  source: string;
  'detail-type': string;
  detail: ChangeEvent;
}

describe('cdc-enrichment', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('turns an order INSERT into a plain-JSON change event and counts OrdersCreated', () => {
    // Prepare
    const records = loadEvent<DynamoDBRecord[]>('cdc-enrichment/order-inserted.json');

    // Act
    const [change, ...rest] = enrichChanges(records, config);

    // Assess
    expect(rest).toHaveLength(0);
    expect(change).toEqual({
      meta: {
        eventId: '7de3041dd709b024af6f29e4fa13d34c',
        eventName: 'INSERT',
        sequenceNumber: '113800000000076512543609',
        approximateCreationTime: '2026-11-27T10:00:00.000Z',
      },
      data: {
        pk: 'CUSTOMER#c-7f3a9e21',
        sk: 'ORDER#1795773600123#d4f9a3c2-5b1e-4c8a-9f0e-2a7b6c3d1e58',
        entity: 'ORDER',
        eventType: 'INSERT',
        NewImage: expect.objectContaining({ quantity: 2, createdAt: 1795773600123, status: 'PENDING', sku: 'MACGUFFIN-LX' }),
      },
    });
    expect(change?.data).not.toHaveProperty('OldImage');
    expect(businessMetrics(change!, config.lowStockThreshold)).toEqual(['OrdersCreated']);
  });

  it('labels MODIFY as UPDATE and counts a status transition once', () => {
    // Prepare
    const records = loadEvent<DynamoDBRecord[]>('cdc-enrichment/order-reserved.json');

    // Act
    const [reserved] = enrichChanges(records, config);

    // Assess
    expect(reserved?.meta.eventName).toBe('MODIFY');
    expect(reserved?.data.eventType).toBe('UPDATE');
    expect(reserved?.data.OldImage?.status).toBe('PENDING');
    expect(businessMetrics(reserved!, 100)).toEqual(['OrdersReserved']);
    const rewrite: ChangeEvent = { ...reserved!, data: { ...reserved!.data, OldImage: reserved!.data.NewImage } };
    expect(businessMetrics(rewrite, 100)).toEqual([]);
  });

  it('counts LowStock only when the quantity crosses the threshold', () => {
    // Prepare
    const [crossing] = enrichChanges(loadEvent<DynamoDBRecord[]>('cdc-enrichment/inventory-low-stock.json'), config);
    const below = {
      ...crossing!,
      data: { ...crossing!.data, OldImage: { ...crossing!.data.OldImage, quantity: 99 }, NewImage: { ...crossing!.data.NewImage, quantity: 97 } },
    };

    // Act / Assess
    expect(crossing?.data.entity).toBe('INVENTORY');
    expect(businessMetrics(crossing!, 100)).toEqual(['LowStock']);
    expect(businessMetrics(below, 100)).toEqual([]);
    expect(businessMetrics(crossing!, 98)).toEqual([]);
  });

  it('emits exactly the detail of the sample bus events the workflows are started with', () => {
    // Prepare
    const created = loadEvent<BusEvent>('orders-state-machine/order-created.json');
    const paid = loadEvent<BusEvent>('fulfillment-state-machine/reserved-and-paid.json');

    // Act
    const [insert] = enrichChanges(loadEvent('cdc-enrichment/order-inserted.json'), config);
    const [payment] = enrichChanges(loadEvent('cdc-enrichment/order-paid.json'), config);

    // Assess
    for (const event of [created, paid]) {
      expect(event.source).toBe(CDC_SOURCE);
      expect(event['detail-type']).toBe(CDC_DETAIL_TYPE);
    }
    expect(created.detail).toEqual(insert);
    expect(paid.detail).toEqual(payment);
  });

  it('adds the batch\'s metrics once the whole batch has converted', async () => {
    // Prepare
    const addMetric = jest.spyOn(metrics, 'addMetric');
    const batch = [
      ...loadEvent<DynamoDBRecord[]>('cdc-enrichment/order-inserted.json'),
      ...loadEvent<DynamoDBRecord[]>('cdc-enrichment/order-reserved.json'),
      ...loadEvent<DynamoDBRecord[]>('cdc-enrichment/inventory-low-stock.json'),
    ];

    // Act
    const changes = await handler(batch, lambdaContext('CdcEnrichmentFunction'));

    // Assess
    expect(changes.map((change) => change.meta.eventId)).toEqual(batch.map((record) => record.eventID));
    expect(addMetric.mock.calls.map(([name, , value]) => [name, value]).sort()).toEqual([
      ['LowStock', 1],
      ['OrdersCreated', 1],
      ['OrdersReserved', 1],
    ]);
  });

  it('converts a record without ApproximateCreationDateTime (optional in the Streams API), leaving out its time', () => {
    // Prepare
    const [good] = loadEvent<DynamoDBRecord[]>('cdc-enrichment/order-inserted.json');
    const { ApproximateCreationDateTime: _time, ...untimed } = good!.dynamodb!;
    const record: DynamoDBRecord = { ...good!, eventID: 'untimed-1', dynamodb: untimed };

    // Act
    const [change, next] = enrichChanges([record, good!], config);

    // Assess
    expect(change?.meta).toEqual({ eventId: 'untimed-1', eventName: 'INSERT', sequenceNumber: good!.dynamodb!.SequenceNumber });
    expect(change?.data).toEqual(next?.data);
    expect(businessMetrics(change!, config.lowStockThreshold)).toEqual(['OrdersCreated']);
  });

  it('rejects a record without keys, and counts nothing for the failed batch', () => {
    // Prepare
    const addMetric = jest.spyOn(metrics, 'addMetric');
    const [good] = loadEvent<DynamoDBRecord[]>('cdc-enrichment/order-inserted.json');
    const broken: DynamoDBRecord = { ...good!, eventID: 'broken-1', dynamodb: { ...good!.dynamodb, Keys: {} } };

    // Act / Assess
    expect(() => enrichChanges([good!, broken], config)).toThrow(/broken-1 lacks .*pk\/sk/);
    expect(addMetric).not.toHaveBeenCalled();
  });
});
