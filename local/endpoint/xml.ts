/**
 * The query protocol's XML answers (CloudFormation, CloudWatch's query protocol): a result wrapped
 * in `<OperationResponse><OperationResult>`, lists as `<member>` elements, timestamps in ISO 8601;
 * errors as `<ErrorResponse>`, whose `Code` SDK clients name the error after.
 */
import type { AwsApiError } from '../services/api.js';

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (character) => `&#${character.charCodeAt(0)};`);
}

function toXml(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((member) => `<member>${toXml(member)}</member>`).join('');
  if (typeof value === 'object') {
    return Object.entries(value)
      .filter(([, member]) => member !== undefined)
      .map(([name, member]) => `<${name}>${toXml(member)}</${name}>`)
      .join('');
  }
  return escapeXml(String(value));
}

/** A successful query-protocol answer. */
export function queryResponse(operation: string, namespace: string, result: unknown, requestId: string): string {
  return `<${operation}Response xmlns="${namespace}"><${operation}Result>${toXml(result)}</${operation}Result>`
    + `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${operation}Response>`;
}

/** A query-protocol error: `Sender` for the caller's faults (4xx), `Receiver` for the service's. */
export function queryError(error: AwsApiError, requestId: string): string {
  const type = error.status < 500 ? 'Sender' : 'Receiver';
  return `<ErrorResponse><Error><Type>${type}</Type><Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message></Error>`
    + `<RequestId>${requestId}</RequestId></ErrorResponse>`;
}
