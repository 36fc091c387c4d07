/** What SQS and SNS targets share: string message attributes, and FIFO deduplication ids. */
import { createHash } from 'node:crypto';

/** String message attributes as SQS's SendMessage and SNS's Publish take them. */
export function stringAttributes(attributes: Record<string, string> | undefined) {
  if (attributes === undefined) return undefined;
  return Object.fromEntries(
    Object.entries(attributes).map(([name, value]) => [name, { DataType: 'String', StringValue: value }]),
  );
}

/** The deduplication id of a FIFO message without one: the SHA-256 of its body (content-based deduplication). */
export function contentDeduplicationId(body: string): string {
  return createHash('sha256').update(body).digest('hex');
}
