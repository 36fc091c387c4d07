/**
 * One DynamoDB API call over HTTP, as an `aws` integration makes it: the rendered request
 * template is the JSON body, the action goes in `X-Amz-Target`, and the request is SigV4-signed
 * with the local runtime's dummy credentials (DynamoDB Local rejects unsigned requests).
 */
import { createHash, createHmac } from 'node:crypto';

/** Dummy credentials, the same the local Lambda functions use. */
const ACCESS_KEY_ID = 'local';
const SECRET_ACCESS_KEY = 'local';
const CONTENT_TYPE = 'application/x-amz-json-1.0';

/** DynamoDB's raw HTTP answer. */
export interface DynamoDbAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Options for {@link callDynamoDb}. */
export interface DynamoDbCall {
  endpoint: string;
  region: string;
  /** The API action, e.g. `PutItem`. */
  action: string;
  body: string;
  signal?: AbortSignal;
}

/** POSTs one action to DynamoDB (Local) and returns its status, headers and body unparsed. */
export async function callDynamoDb({ endpoint, region, action, body, signal }: DynamoDbCall): Promise<DynamoDbAnswer> {
  const url = new URL(endpoint);
  const target = `DynamoDB_20120810.${action}`;
  const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const headers: Record<string, string> = {
    'content-type': CONTENT_TYPE,
    host: url.host,
    'x-amz-date': amzDate,
    'x-amz-target': target,
  };
  const response = await fetch(url, {
    method: 'POST',
    headers: { ...headers, authorization: authorization(headers, body, region, amzDate) },
    body,
    signal,
  });
  return { status: response.status, headers: Object.fromEntries(response.headers), body: await response.text() };
}

/** Signature Version 4 for a POST to `/` with the given (lowercase) headers. */
function authorization(headers: Record<string, string>, body: string, region: string, amzDate: string): string {
  const sha256 = (data: string): string => createHash('sha256').update(data).digest('hex');
  const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest();
  const names = Object.keys(headers).sort();
  const signedHeaders = names.join(';');
  const canonicalRequest = ['POST', '/', '', ...names.map((name) => `${name}:${headers[name]}`), '', signedHeaders, sha256(body)].join('\n');
  const date = amzDate.slice(0, 8);
  const scope = `${date}/${region}/dynamodb/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${SECRET_ACCESS_KEY}`, date), region), 'dynamodb'), 'aws4_request');
  const signature = hmac(key, stringToSign).toString('hex');
  return `AWS4-HMAC-SHA256 Credential=${ACCESS_KEY_ID}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
}
