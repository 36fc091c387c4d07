/**
 * Body models as the local API Gateway compiles them: JSON Schema draft 4 patterns in ECMA 262
 * without the u flag, and the template's customerId rule on the values an attacker would try.
 */
import { describe, expect, it } from '@jest/globals';
import { parseOpenApi } from '../../../local/services/apigateway/openapi.js';
import { readTemplate } from '../../../local/template/parse.js';
import type { Json } from '../../../local/template/parse.js';
import type { JsonObject } from '../../../local/template/intrinsics.js';

/** A one-method API whose POST /items body is the `Item` model. */
function api(item: JsonObject): Json {
  return {
    openapi: '3.0.1',
    info: { title: 'models', version: '1' },
    'x-amazon-apigateway-request-validators': { all: { validateRequestBody: true, validateRequestParameters: true } },
    paths: {
      '/items': {
        post: {
          'x-amazon-apigateway-request-validator': 'all',
          requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Item' } } } },
          responses: { '200': { description: 'ok' } },
          'x-amazon-apigateway-integration': { type: 'mock', requestTemplates: { 'application/json': '{"statusCode": 200}' } },
        },
      },
    },
    components: { schemas: { Item: item } },
  };
}

/** An `Item` model with one property, `name`. */
const named = (schema: JsonObject): JsonObject => ({ type: 'object', properties: { name: schema } });

/** The validator of POST /items. */
function validatorOf(body: Json): (value: unknown) => boolean {
  const definition = parseOpenApi(body, 'abc123');
  const operation = definition.resources.flatMap((resource) => [...resource.operations.values()]).find((method) => method.models.size > 0)!;
  const validate = operation.models.get('application/json')!;
  return (value) => validate(value) as boolean;
}

describe('model patterns', () => {
  it('refuses at import a pattern that needs the u flag (\\p{…}, \\u{…}), which ECMA 262 without it reads as text', () => {
    expect(() => parseOpenApi(api(named({ type: 'string', pattern: '^\\p{L}+$' })), 'abc123')).toThrow(/uses \\p\{…\} or \\u\{…\}/);
    expect(() => parseOpenApi(api(named({ type: 'string', pattern: '^[\\u{10000}-\\u{10FFFF}]$' })), 'abc123')).toThrow(/uses \\p\{…\} or \\u\{…\}/);
  });

  it('refuses at import a pattern that is no regular expression', () => {
    expect(() => parseOpenApi(api(named({ type: 'string', pattern: '^[a-' })), 'abc123')).toThrow(/invalid ECMA 262 regular expression/);
  });

  it('matches UTF-16 code units, as ECMA 262 without the u flag does: a character beyond U+FFFF is two', () => {
    const valid = validatorOf(api(named({ type: 'string', pattern: '^.$' })));
    expect(valid({ name: 'a' })).toBe(true);
    expect(valid({ name: '\u{1F600}' })).toBe(false);
  });
});

describe("the template's customerId", () => {
  // The model alone: the rest of the API's body holds intrinsics (!Sub) that only a deployment resolves.
  type Body = { components: { schemas: { OrderRequest: JsonObject } } };
  const body = readTemplate('template.yaml').Resources.OrdersApi!.Properties!.DefinitionBody as unknown as Body;
  const orders = validatorOf(api(body.components.schemas.OrderRequest));
  const accepts = (customerId: string) => orders({ customerId, quantity: 1 });

  it.each([
    ['ASCII', 'c1'],
    ['accents', 'Zoë Ångström'],
    ['CJK', '顧客-42'],
    ['an emoji (beyond U+FFFF)', 'shop \u{1F6D2} fan'],
    ['a space inside', 'a b'],
    ['quotes and backslashes', 'o\'brien "the \\ tester"'],
    ['128 characters, all beyond U+FFFF', '\u{1F600}'.repeat(128)],
  ])('accepts %s', (_name, customerId) => {
    expect(accepts(customerId)).toBe(true);
  });

  it.each([
    ['U+0000', 'a\u0000b'],
    ['U+FFFE', 'a\uFFFEb'],
    ['U+1FFFF (a noncharacter beyond U+FFFF)', 'a\u{1FFFF}b'],
    ['a lone high surrogate', 'a\uD83D'],
    ['a lone low surrogate', '\uDE00b'],
    ['U+2028 (line separator)', 'a\u2028b'],
    ['U+2029 (paragraph separator)', 'a\u2029b'],
    ['U+202E (right-to-left override, Cf)', 'abc\u202Edef'],
    ['U+200B (zero width space, Cf)', 'a\u200Bb'],
    ['U+FEFF (byte order mark, Cf)', '\uFEFFab'],
    ['U+E0041 (a tag character, Cf beyond U+FFFF)', 'a\u{E0041}b'],
    ['U+0085 (next line, Cc)', 'a\u0085b'],
    ['10,000 characters', 'c'.repeat(10_000)],
    ['129 characters', 'c'.repeat(129)],
    ['the empty string', ''],
    ['a space', ' '],
    ['a tab', '\t'],
    ['a line feed', '\n'],
    ['U+3000 (ideographic space) alone', '\u3000'],
    ['a leading space', ' c1'],
    ['a trailing space', 'c1 '],
    ['a trailing no-break space', 'c1\u00A0'],
  ])('refuses %s', (_name, customerId) => {
    expect(accepts(customerId)).toBe(false);
  });
});
