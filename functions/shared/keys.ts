/** The single-table data model's keys (see template.yaml's WimsTable and POST /orders mapping). */
import { InvalidInputError } from './errors.js';

/** Partition-key prefix of a customer's orders. */
export const CUSTOMER_PREFIX = 'CUSTOMER#';
/** Sort-key prefix of an order. */
export const ORDER_PREFIX = 'ORDER#';
/** Partition-key prefix of a product's inventory items. */
export const INVENTORY_PREFIX = 'INVENTORY#';
/** Sort-key prefix of an inventory item (one per model). */
export const MODEL_PREFIX = 'MODEL#';
/** `entityType` of inventory items: the hash key of the sparse ByEntityType index. */
export const INVENTORY_ENTITY_TYPE = 'INVENTORY';

/** `<product>-<model>`, the same pattern the orders API's request model enforces. */
const SKU_PATTERN = /^[A-Z0-9]+-[A-Z0-9]+$/;

/** A table key. */
export interface ItemKey {
  pk: string;
  sk: string;
}

/** True for a SKU of the form `<product>-<model>` (e.g. MACGUFFIN-LX). */
export function isSku(value: unknown): value is string {
  return typeof value === 'string' && SKU_PATTERN.test(value);
}

/**
 * The key of a SKU's inventory item: `INVENTORY#<product>` / `MODEL#<model>`, split at the
 * first `-` exactly as the orders API's mapping template derives an order's product and model.
 *
 * @throws InvalidInputError for a string that is not a SKU.
 */
export function inventoryKey(sku: string): ItemKey {
  if (!isSku(sku)) throw new InvalidInputError(`"${sku}" is not a SKU of the form <product>-<model>`);
  const dash = sku.indexOf('-');
  return { pk: `${INVENTORY_PREFIX}${sku.slice(0, dash)}`, sk: `${MODEL_PREFIX}${sku.slice(dash + 1)}` };
}

/** True for the key of an order item (`CUSTOMER#…` / `ORDER#…`). */
export function isOrderKey(value: unknown): value is ItemKey {
  if (typeof value !== 'object' || value === null) return false;
  const { pk, sk } = value as Partial<Record<keyof ItemKey, unknown>>;
  return (
    typeof pk === 'string' && pk.length > CUSTOMER_PREFIX.length && pk.startsWith(CUSTOMER_PREFIX) &&
    typeof sk === 'string' && sk.length > ORDER_PREFIX.length && sk.startsWith(ORDER_PREFIX)
  );
}
