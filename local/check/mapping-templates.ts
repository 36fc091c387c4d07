/**
 * Check (i): every mapping template of every `aws` integration in an API definition
 * (`AWS::Serverless::Api` DefinitionBody, `AWS::ApiGateway::RestApi` Body), rendered by the
 * local VTL engine the way API Gateway would render it:
 * - request templates, for requests built from the operation's parameters and body schema:
 *   a minimal one, a full one, and hostile ones whose free-text values (strings without
 *   pattern, enum or format) carry quotes, backslashes, `</script>`, control characters,
 *   non-ASCII text and VTL. The output must be JSON; for DynamoDB actions every attribute value
 *   must be DynamoDB JSON; and each hostile value must come out exactly as sent wherever it
 *   appears in a string of the output.
 * - response templates, for DynamoDB answers: success (Query/Scan with no items and with the
 *   items this API's PutItem templates write, completed with every attribute the template
 *   reads) and errors (400 with each common `__type`, 500). The integration response is chosen
 *   by its selection pattern as API Gateway does; the output must be JSON and hostile values
 *   must survive.
 *
 * LIMITATIONS: sample values for strings with a pattern are picked from a few typical
 * candidates (a required one that none fits makes the operation unsampled, which is a
 * warning); only `application/json`-like templates are parsed as JSON; selection patterns are
 * matched as JavaScript regular expressions (API Gateway's are Java's; simple ones agree).
 */
import { isJsonObject, type JsonObject } from '../template/intrinsics.js';
import type { Json } from '../template/parse.js';
import { MappingTemplateError, renderMappingTemplate, type MappingInput, type MappingResult } from '../services/apigateway/vtl.js';
import { asList, subText, type CheckContext, type Finding } from './context.js';

/** One mapping template of an `aws` integration. */
export interface MappingTemplate {
  /** Where it is in the template. */
  where: string;
  /** The API's logical id, the resource path and the HTTP method (upper case). */
  api: string;
  path: string;
  method: string;
  kind: 'request' | 'response';
  contentType: string;
  /** Response templates: the selection pattern of their integration response (`default` for the default one). */
  selectionPattern?: string;
  /** The template text (`Fn::Sub` variables replaced: parameters by their defaults, others by their names). */
  template: string;
  /** For DynamoDB integrations, the action (`PutItem`, `Query`, …). */
  dynamoDbAction?: string;
}

interface Integration {
  where: string;
  api: string;
  path: string;
  method: string;
  operation: JsonObject;
  document: JsonObject;
  dynamoDbAction?: string;
  requests: MappingTemplate[];
  /** Selection pattern → the response templates of that integration response. */
  responses: Map<string, MappingTemplate[]>;
}

interface Sample {
  label: string;
  input: MappingInput;
}

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'x-amazon-apigateway-any-method']);

/**
 * Hostile text. Each is sent between markers (`zqN…zqN`), so that an output string holding a
 * marker must hold the whole value. Only the printable ASCII ones can be HTTP header values.
 */
const HOSTILE = [
  `"double" \\back\\slash\\ 'single' \\'`,
  '</script><script>alert(1)</script>',
  'line\nbreak\r\n\ttab \u0000 \u001f \u007f',
  'ünïcødé ✓ 😀 \u2028 \u2029 \uFEFF',
  '$context.requestId #set($x = 1) ${x} $!y #end ## \\$',
  '{"S": "injected"}, "x": {"N": "1"}',
];

const CONTEXT = {
  requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
  extendedRequestId: 'ABCDEFGHIJKLMNO=',
  requestTimeEpoch: 1700000000000,
  requestTime: '14/Nov/2023:22:13:20 +0000',
  accountId: '123456789012',
  apiId: 'abcdef1234',
  stage: 'dev',
  protocol: 'HTTP/1.1',
  identity: { sourceIp: '192.0.2.1', userAgent: 'wims-check' },
};

const DYNAMODB_ERRORS = [
  'ConditionalCheckFailedException',
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'ValidationException',
  'ResourceNotFoundException',
];

/** Every mapping template of every `aws` integration in the template's API definitions. */
export function mappingTemplates(context: CheckContext): MappingTemplate[] {
  return integrations(context).flatMap((integration) => [...integration.requests, ...[...integration.responses.values()].flat()]);
}

/** Check (i). */
export function checkMappingTemplates(context: CheckContext): Finding[] {
  const findings: Finding[] = [];
  const report = (severity: Finding['severity'], where: string, message: string): void => {
    findings.push({ severity, where, message, check: 'mapping-templates' });
  };
  const all = integrations(context);
  // Items each API writes, to answer its queries with.
  const written = new Map<string, JsonObject[]>();
  for (const integration of all) {
    const samples = requestSamples(integration);
    if (typeof samples === 'string') {
      report('warning', integration.where, samples);
      continue;
    }
    for (const template of integration.requests) {
      for (const sample of samples) {
        const output = render(template, sample, report);
        if (output === undefined) continue;
        if (integration.dynamoDbAction && isJsonObject(output)) {
          for (const problem of dynamoDbRequestProblems(output)) report('error', template.where, `${sample.label}: ${problem}`);
          if (integration.dynamoDbAction === 'PutItem' && isJsonObject(output.Item)) {
            written.set(integration.api, [...(written.get(integration.api) ?? []), output.Item]);
          }
        }
      }
    }
  }
  for (const integration of all) {
    if (!integration.dynamoDbAction) continue;
    for (const answer of dynamoDbAnswers(integration, written.get(integration.api) ?? [])) {
      const templates = selectResponse(integration.responses, answer.status);
      if (!templates) {
        report('warning', integration.where, `a DynamoDB answer with status ${answer.status} matches no integration response`);
        continue;
      }
      const sample: Sample = {
        label: answer.label,
        input: { body: answer.body, headers: {}, queryStringParameters: {}, pathParameters: {}, context: CONTEXT },
      };
      for (const template of templates) render(template, sample, report);
    }
  }
  return findings;
}

/** Renders and checks what holds for every output: it renders, it is JSON (for JSON types), hostile values survive. */
function render(template: MappingTemplate, sample: Sample, report: (severity: Finding['severity'], where: string, message: string) => void): Json | undefined {
  let result: MappingResult;
  try {
    result = renderMappingTemplate(template.template, sample.input);
  } catch (error) {
    if (!(error instanceof MappingTemplateError)) throw error;
    report('error', template.where, `${sample.label}: ${error.message}`);
    return undefined;
  }
  if (!/json/i.test(template.contentType)) return undefined;
  let output: Json;
  try {
    output = JSON.parse(result.output) as Json;
  } catch (error) {
    report('error', template.where, `${sample.label}: the output is not JSON (${(error as Error).message}): ${result.output.trim().slice(0, 300)}`);
    return undefined;
  }
  for (const text of strings(output)) {
    const index = /zq(\d)/.exec(text)?.[1];
    if (index !== undefined && !text.includes(marked(Number(index)))) {
      report('error', template.where, `${sample.label}: a hostile value does not come out as sent: sent ${JSON.stringify(marked(Number(index)))}, got ${JSON.stringify(text)}`);
    }
  }
  return output;
}

const marked = (index: number): string => `zq${index}${HOSTILE[index]}zq${index}`;

function* strings(value: Json): Generator<string> {
  if (typeof value === 'string') yield value;
  else if (Array.isArray(value)) for (const item of value) yield* strings(item);
  else if (isJsonObject(value)) for (const item of Object.values(value)) yield* strings(item);
}

// ---------------------------------------------------------------------------------- finding the templates

function integrations(context: CheckContext): Integration[] {
  const found: Integration[] = [];
  for (const [api, resource] of Object.entries(context.template.Resources)) {
    const key = resource.Type === 'AWS::Serverless::Api' ? 'DefinitionBody' : resource.Type === 'AWS::ApiGateway::RestApi' ? 'Body' : undefined;
    const document = key && resource.Properties?.[key];
    if (!isJsonObject(document) || !isJsonObject(document.paths)) continue;
    for (const [path, item] of Object.entries(document.paths)) {
      if (!isJsonObject(item)) continue;
      for (const [method, operation] of Object.entries(item)) {
        const where = `Resources.${api}.Properties.${key}.paths.${path}.${method}.x-amazon-apigateway-integration`;
        const integration = isJsonObject(operation) && HTTP_METHODS.has(method) ? operation['x-amazon-apigateway-integration'] : undefined;
        if (!isJsonObject(operation) || !isJsonObject(integration) || String(integration.type).toLowerCase() !== 'aws') continue;
        const uri = subText(integration.uri, context.refs, `${where}.uri`);
        const dynamoDbAction = uri && /:dynamodb:action\/(\w+)$/.exec(uri)?.[1];
        const base = { api, path, method: method.toUpperCase(), ...(dynamoDbAction ? { dynamoDbAction } : {}) };
        const templates = (value: Json | undefined, at: string, kind: MappingTemplate['kind'], selectionPattern?: string): MappingTemplate[] =>
          Object.entries(isJsonObject(value) ? value : {}).flatMap(([contentType, text]) => {
            const template = subText(text, context.refs, `${at}.${contentType}`);
            if (template === undefined) return [];
            return [{ ...base, where: `${at}.${contentType}`, kind, contentType, template, ...(selectionPattern === undefined ? {} : { selectionPattern }) }];
          });
        const responses = new Map<string, MappingTemplate[]>();
        for (const [pattern, response] of Object.entries(isJsonObject(integration.responses) ? integration.responses : {})) {
          if (isJsonObject(response)) responses.set(pattern, templates(response.responseTemplates, `${where}.responses.${pattern}.responseTemplates`, 'response', pattern));
        }
        found.push({
          ...base,
          where,
          operation,
          document,
          requests: templates(integration.requestTemplates, `${where}.requestTemplates`, 'request'),
          responses,
        });
      }
    }
  }
  return found;
}

/** The templates of the integration response API Gateway picks for an integration status code. */
function selectResponse(responses: Map<string, MappingTemplate[]>, status: number): MappingTemplate[] | undefined {
  for (const [pattern, templates] of responses) {
    if (pattern !== 'default' && new RegExp(`^(?:${pattern})$`).test(String(status))) return templates;
  }
  return responses.get('default');
}

// ---------------------------------------------------------------------------------- sample requests

/** The sample requests for an operation, or why there are none. */
function requestSamples(integration: Integration): Sample[] | string {
  const { operation, document, method, path } = integration;
  const resolveRef = (value: Json | undefined): Json | undefined => {
    if (!isJsonObject(value) || typeof value.$ref !== 'string') return value;
    return resolveRef(value.$ref.replace(/^#\//, '').split('/').reduce<Json | undefined>((node, key) => (isJsonObject(node) ? node[key] : undefined), document));
  };
  const parameters = asList(operation.parameters).map(resolveRef).filter(isJsonObject);
  const requestBody = resolveRef(operation.requestBody);
  const bodySchema = resolveRef(
    isJsonObject(requestBody) && isJsonObject(requestBody.content)
      ? (Object.entries(requestBody.content).find(([type]) => /json/i.test(type))?.[1] as JsonObject | undefined)?.schema
      : parameters.find((parameter) => parameter.in === 'body')?.schema,
  );
  const samples: Sample[] = [];
  for (const variant of ['minimal', 'full', ...HOSTILE.map((_, index) => index)] as const) {
    const full = variant !== 'minimal';
    const hostile = typeof variant === 'number' ? marked(variant) : undefined;
    const sample: Sample = {
      label: `${method} ${path} with a ${typeof variant === 'number' ? `hostile (${JSON.stringify(HOSTILE[variant])})` : variant} request`,
      input: { body: '', headers: {}, queryStringParameters: {}, pathParameters: {}, context: { ...CONTEXT, httpMethod: method, resourcePath: path } },
    };
    for (const parameter of parameters) {
      const name = String(parameter.name);
      const target = { path: 'pathParameters', query: 'queryStringParameters', header: 'headers' } as const;
      const where = target[parameter.in as keyof typeof target];
      if (!where || (!full && parameter.required !== true && parameter.in !== 'path')) continue;
      // HTTP header values are printable ASCII.
      const usable = parameter.in === 'header' && hostile !== undefined && !/^[\x20-\x7e]*$/.test(hostile) ? undefined : hostile;
      const value = sampleValue(resolveRef(parameter.schema) ?? { type: 'string' }, full, usable, resolveRef);
      if (value === undefined) {
        if (parameter.required === true || parameter.in === 'path') return `no sample value fits parameter ${name}: give its schema an example`;
        continue;
      }
      sample.input[where][name] = typeof value === 'string' ? value : JSON.stringify(value);
    }
    if (bodySchema !== undefined) {
      const body = sampleValue(bodySchema, full, hostile, resolveRef);
      if (body === undefined) return 'no sample body fits the request schema: give the schema examples';
      sample.input.body = JSON.stringify(body);
    }
    samples.push(sample);
  }
  return samples;
}

const STRING_CANDIDATES = ['sample', 'SAMPLE-1', 'A1-B2', 'sample-1', 'a', '1', '2024-01-01', 'sample@example.com'];

/** A value the schema accepts: required members only unless `full`; free-text strings are `hostile` when given. */
function sampleValue(schema: Json, full: boolean, hostile: string | undefined, resolveRef: (value: Json | undefined) => Json | undefined): Json | undefined {
  if (!isJsonObject(schema)) return 'sample';
  const fits = (value: string): boolean =>
    (typeof schema.pattern !== 'string' || new RegExp(schema.pattern).test(value)) &&
    value.length >= Number(schema.minLength ?? 0) &&
    value.length <= Number(schema.maxLength ?? Infinity);
  if (schema.example !== undefined) return schema.example;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  switch (schema.type ?? (isJsonObject(schema.properties) ? 'object' : 'string')) {
    case 'integer':
    case 'number':
      return typeof schema.minimum === 'number' ? schema.minimum : Math.min(1, typeof schema.maximum === 'number' ? schema.maximum : 1);
    case 'boolean':
      return true;
    case 'array': {
      const item = sampleValue(resolveRef(schema.items) ?? {}, full, hostile, resolveRef);
      return item === undefined ? undefined : [item];
    }
    case 'object': {
      const properties = isJsonObject(schema.properties) ? schema.properties : {};
      const required = asList(schema.required).map(String);
      const object: JsonObject = {};
      for (const [name, property] of Object.entries(properties)) {
        if (!full && !required.includes(name)) continue;
        const value = sampleValue(resolveRef(property) ?? {}, full, hostile, resolveRef);
        if (value === undefined && required.includes(name)) return undefined;
        if (value !== undefined) object[name] = value;
      }
      return object;
    }
    default: {
      const freeText = schema.pattern === undefined && schema.format === undefined;
      if (hostile !== undefined && freeText && fits(hostile)) return hostile;
      return STRING_CANDIDATES.find(fits);
    }
  }
}

// ---------------------------------------------------------------------------------- DynamoDB

/** Request members that are maps of attribute values. */
const ATTRIBUTE_VALUE_MAPS = ['Item', 'Key', 'ExpressionAttributeValues', 'ExclusiveStartKey'];
const DYNAMODB_NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** What makes a rendered request not DynamoDB JSON. */
export function dynamoDbRequestProblems(request: JsonObject): string[] {
  const problems: string[] = [];
  if (typeof request.TableName !== 'string') problems.push('TableName must be a string');
  for (const member of ATTRIBUTE_VALUE_MAPS) {
    const map = request[member];
    if (map === undefined) continue;
    if (!isJsonObject(map)) problems.push(`${member} must be a map of attribute values`);
    else for (const [name, value] of Object.entries(map)) problems.push(...attributeValueProblems(value, `${member}.${name}`));
  }
  return problems;
}

function attributeValueProblems(value: Json, where: string): string[] {
  const keys = isJsonObject(value) ? Object.keys(value) : [];
  const [type] = keys;
  if (!isJsonObject(value) || keys.length !== 1 || type === undefined) {
    return [`${where}: an attribute value is a map with exactly one type (S, N, B, BOOL, NULL, M, L, SS, NS, BS), got ${JSON.stringify(value)}`];
  }
  const content = value[type] as Json;
  const bad = (expected: string): string[] => [`${where}.${type}: expected ${expected}, got ${JSON.stringify(content)}`];
  const list = (test: (item: Json) => boolean): boolean => Array.isArray(content) && content.length > 0 && content.every(test);
  switch (type) {
    case 'S': return typeof content === 'string' ? [] : bad('a string');
    case 'N': return typeof content === 'string' && DYNAMODB_NUMBER.test(content) ? [] : bad('a number as a string');
    case 'B': return typeof content === 'string' && BASE64.test(content) ? [] : bad('base64 text');
    case 'BOOL': return typeof content === 'boolean' ? [] : bad('true or false');
    case 'NULL': return content === true ? [] : bad('true');
    case 'SS': return list((item) => typeof item === 'string') ? [] : bad('a non-empty list of strings');
    case 'NS': return list((item) => typeof item === 'string' && DYNAMODB_NUMBER.test(item)) ? [] : bad('a non-empty list of numbers as strings');
    case 'BS': return list((item) => typeof item === 'string' && BASE64.test(item)) ? [] : bad('a non-empty list of base64 texts');
    case 'M': return isJsonObject(content) ? Object.entries(content).flatMap(([name, item]) => attributeValueProblems(item, `${where}.M.${name}`)) : bad('a map');
    case 'L': return Array.isArray(content) ? content.flatMap((item, index) => attributeValueProblems(item, `${where}.L[${index}]`)) : bad('a list');
    default: return [`${where}: ${type} is not a DynamoDB attribute type`];
  }
}

/** Sample DynamoDB answers to an integration's action. */
function dynamoDbAnswers(integration: Integration, written: JsonObject[]): Array<{ label: string; status: number; body: string }> {
  const action = integration.dynamoDbAction;
  const label = (what: string): string => `${integration.method} ${integration.path} answered by DynamoDB ${action} with ${what}`;
  const error = (type: string, status: number): { label: string; status: number; body: string } => ({
    label: label(`${status} ${type}`),
    status,
    body: JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message: `Sample ${type}` }),
  });
  const read = [...integration.responses.values()].flat().map((template) => template.template).join('\n');
  const items = (written.length > 0 ? written : [{}]).map((item) => ({ ...itemReadBy(read), ...item }));
  const successes =
    action === 'Query' || action === 'Scan'
      ? [
        { label: label('no items'), status: 200, body: JSON.stringify({ Items: [], Count: 0, ScannedCount: 0 }) },
        { label: label(`${items.length} items`), status: 200, body: JSON.stringify({ Items: items, Count: items.length, ScannedCount: items.length }) },
      ]
      : action === 'GetItem'
        ? [{ label: label('no item'), status: 200, body: '{}' }, { label: label('an item'), status: 200, body: JSON.stringify({ Item: items[0] }) }]
        : [{ label: label('success'), status: 200, body: '{}' }];
  return [...successes, ...DYNAMODB_ERRORS.map((type) => error(type, 400)), error('InternalServerError', 500)];
}

/** An item with every attribute the templates read as `$x.name.S` / `.N` / `.BOOL`. */
function itemReadBy(templates: string): JsonObject {
  const item: JsonObject = {};
  for (const [, name, type] of templates.matchAll(/\$!?\{?\w+\.(\w+)\.(S|N|BOOL)\b/g)) {
    item[name as string] = type === 'S' ? { S: `sample-${name}` } : type === 'N' ? { N: '1' } : { BOOL: true };
  }
  return item;
}
