import { describe, expect, it } from '@jest/globals';
import { MappingTemplateError, renderMappingTemplate, type MappingInput } from '../../../local/services/apigateway/vtl.js';

function input(overrides: Partial<MappingInput> = {}): MappingInput {
  return {
    body: '',
    headers: {},
    queryStringParameters: {},
    pathParameters: {},
    context: { requestId: 'req-1', requestTimeEpoch: 1700000000000, stage: 'dev', httpMethod: 'POST', resourcePath: '/orders', identity: { sourceIp: '192.0.2.1' } },
    ...overrides,
  };
}

const render = (template: string, overrides: Partial<MappingInput> = {}): string => renderMappingTemplate(template, input(overrides)).output;

describe('$input', () => {
  const body = JSON.stringify({ a: { b: 'deep' }, list: [1, 2, 3], 'a b': 'spaced', Items: [{ sku: { S: 'X-1' } }, { sku: { S: 'Y-2' } }] });

  it('$input.body is the raw payload', () => {
    expect(render('$input.body', { body: '{"raw": 1}' })).toBe('{"raw": 1}');
  });

  it('$input.json returns JSON text for $, $.a.b, $.a[0], $[\'a b\'], and "" for a path that selects nothing', () => {
    expect(JSON.parse(render("$input.json('$')", { body }))).toEqual(JSON.parse(body));
    expect(render("$input.json('$.a.b')", { body })).toBe('"deep"');
    expect(render("$input.json('$.list[0]')", { body })).toBe('1');
    expect(render("$input.json('$.list[-1]')", { body })).toBe('3');
    expect(render("$input.json(\"$['a b']\")", { body })).toBe('"spaced"');
    expect(render("$input.json('$.Items[*].sku.S')", { body })).toBe('["X-1","Y-2"]');
    expect(render("[$input.json('$.nothing')]", { body })).toBe('[]');
  });

  it('$input.path returns values usable in VTL (iterate .Items, read .S, size())', () => {
    const template = "#foreach($item in $input.path('$.Items'))$item.sku.S#if($foreach.hasNext),#end#end|$input.path('$.list').size()|$input.path('$.a').b";
    expect(render(template, { body })).toBe('X-1,Y-2|3|deep');
  });

  it("follows the documented example ($input.path('$.things').size())", () => {
    const template = '{"id": "$input.params(\'id\')", "count": "$input.path(\'$.things\').size()", "things": $input.json(\'$.things\')}';
    const output = render(template, { body: '{"things": {"1": {}, "2": {}, "3": {}}}', pathParameters: { id: 'abc' } });
    expect(JSON.parse(output)).toEqual({ id: 'abc', count: '3', things: { 1: {}, 2: {}, 3: {} } });
  });

  it('a path that selects nothing is null, so it renders as its own text (or nothing with $!)', () => {
    expect(render("$input.path('$.missing')|$!input.path('$.missing')", { body })).toBe("$input.path('$.missing')|");
  });

  it('rejects JSONPath beyond the supported subset, and bodies that are not JSON', () => {
    expect(() => render("$input.path('$..b')", { body })).toThrow(MappingTemplateError);
    expect(() => render("$input.path('$.list[0:2]')", { body })).toThrow(/Unsupported JSONPath/);
    expect(() => render("$input.path('$.a')", { body: '{not json' })).toThrow(/Could not parse request body into json/);
  });

  it('$input.params(name) searches path, then query string, then header, by the exact name; a missing one is ""', () => {
    const request = { pathParameters: { id: 'from-path' }, queryStringParameters: { id: 'from-query', q: 'query' }, headers: { id: 'from-header', 'Idempotency-Key': 'k' } };
    expect(render("$input.params('id')|$input.params('q')|$input.params('Idempotency-Key')|[$input.params('idempotency-key')]|[$input.params('none')]|[$input.params('toString')]", request))
      .toBe('from-path|query|k|[]|[]|[]');
  });

  it('$input.params() is the map of path, header and querystring maps', () => {
    const request = { pathParameters: { p: '1' }, queryStringParameters: { q: '2' }, headers: { h: '3' } };
    const template = "#set($all = $input.params())#foreach($type in $all.keySet())$type:#foreach($name in $all.get($type).keySet())$name=$all.get($type).get($name)#end #end|$input.params().header.h$input.params().querystring.q$input.params().path.p";
    expect(render(template, request)).toBe('path:p=1 header:h=3 querystring:q=2 |321');
  });
});

describe('$util', () => {
  it("escapeJavaScript escapes ' \" \\ / and control characters, and non-ASCII as \\uXXXX (Commons Lang)", () => {
    const value = 'a\'b"c\\d/e\nf\tg\rh\bi\fj\u0001k\u007fé\u2028😀';
    const output = render('$util.escapeJavaScript($input.path(\'$.v\'))', { body: JSON.stringify({ v: value }) });
    expect(output).toBe('a\\\'b\\"c\\\\d\\/e\\nf\\tg\\rh\\bi\\fj\\u0001k\u007f\\u00E9\\u2028\\uD83D\\uDE00');
  });

  it('the documented .replaceAll("\\\\\'", "\'") idiom makes the result a valid JSON string that round-trips', () => {
    const value = 'it\'s "quoted" \\\' </script>\n ünï 😀';
    const template = '{"v": "$util.escapeJavaScript($input.path(\'$.v\')).replaceAll("\\\\\'", "\'")"}';
    expect(JSON.parse(render(template, { body: JSON.stringify({ v: value }) })).v).toBe(value);
  });

  it('escapeJavaScript of null is null (the reference renders as text)', () => {
    expect(render("$util.escapeJavaScript($input.path('$.none'))", { body: '{}' })).toBe("$util.escapeJavaScript($input.path('$.none'))");
  });

  it('parseJson gives an object (documented example)', () => {
    const body = JSON.stringify({ errorMessage: JSON.stringify({ key1: 'var1', key2: { arr: [1, 2, 3] } }) });
    const template = "#set ($errorMessageObj = $util.parseJson($input.path('$.errorMessage')))\n{\"v\": $errorMessageObj.key2.arr[0]}";
    expect(JSON.parse(render(template, { body }))).toEqual({ v: 1 });
    expect(() => render('$util.parseJson("{nope")')).toThrow(MappingTemplateError);
  });

  it('urlEncode/urlDecode are application/x-www-form-urlencoded (Java URLEncoder)', () => {
    expect(render('$util.urlEncode("a b*c~d(e)!é/")')).toBe('a+b*c%7Ed%28e%29%21%C3%A9%2F');
    expect(render('$util.urlDecode("a+b%2Fc%C3%A9")')).toBe('a b/cé');
  });

  it('base64Encode/base64Decode use UTF-8', () => {
    expect(render('$util.base64Encode("héllo")')).toBe('aMOpbGxv');
    expect(render('$util.base64Decode("aMOpbGxv")')).toBe('héllo');
    expect(() => render('$util.base64Decode("not base64!")')).toThrow(MappingTemplateError);
  });
});

describe('$context and $stageVariables', () => {
  it('exposes the request context', () => {
    expect(render('$context.requestId $context.requestTimeEpoch $context.stage $context.httpMethod $context.resourcePath $context.identity.sourceIp'))
      .toBe('req-1 1700000000000 dev POST /orders 192.0.2.1');
  });

  it('exposes stage variables in both documented notations', () => {
    expect(render("$stageVariables.table ${stageVariables['table']}", { stageVariables: { table: 'T' } })).toBe('T T');
  });

  it('collects $context.responseOverride.status and .header.Name', () => {
    const result = renderMappingTemplate('#set($context.responseOverride.status = 409)#set($context.responseOverride.header.Retry-After = "1")$context.responseOverride.status', input());
    expect(result).toEqual({ output: '409', responseOverride: { status: 409, headers: { 'Retry-After': '1' } } });
    expect(renderMappingTemplate('x', input()).responseOverride).toEqual({ headers: {} });
  });

  it('overrides are final: setting one twice is an error, as is a status that is no HTTP status', () => {
    expect(() => render('#set($context.responseOverride.status = 400)#set($context.responseOverride.status = 500)')).toThrow(/overrides are final/);
    expect(() => render('#set($context.responseOverride.header.X = "a")#set($context.responseOverride.header.X = "b")')).toThrow(/overrides are final/);
    expect(() => render('#set($context.responseOverride.status = "teapot")')).toThrow(MappingTemplateError);
  });

  it('refuses $context.requestOverride rather than ignoring it', () => {
    expect(() => render('#set($context.requestOverride.header.X = "a")')).toThrow(/requestOverride/);
  });

  it('does not let a template change the caller\'s context', () => {
    const context = { identity: { sourceIp: '192.0.2.1' } };
    renderMappingTemplate('#set($context.identity.sourceIp = "x")', input({ context }));
    expect(context.identity.sourceIp).toBe('192.0.2.1');
  });
});

describe('Java String methods', () => {
  const cases: Array<[subject: string, call: string, expected: string]> = [
    ['a-b-c', 'replaceAll("-", "+")', 'a+b+c'],
    ['MACGUFFIN-LX', "replaceAll('-.*$', '')", 'MACGUFFIN'],
    ['MACGUFFIN-LX', "replaceAll('^[^-]*-', '')", 'LX'],
    ['john smith', 'replaceAll("(\\w+) (\\w+)", "$2, $1")', 'smith, john'],
    ['a.b', "replaceAll('\\.', '\\$')", 'a$b'],
    ['aaa', 'replaceFirst("a", "b")', 'baa'],
    ['a$b', "replace('$', '$1')", 'a$1b'],
    ['a,b,,c,,', 'split(",").size()', '4'],
    ['a,b,,c,,', 'split(",", -1).size()', '6'],
    ['a1b2c', 'split("\\d", 2)', '[a, b2c]'],
    ['abc', 'split("")', '[a, b, c]'],
    ['ab12', 'matches("[a-z]+\\d+")', 'true'],
    ['ab12x', 'matches("[a-z]+\\d+")', 'false'],
    ['Ignored', 'matches("(?i)IGNORED")', 'true'],
    ['abc', 'contains("b")', 'true'],
    ['abc', 'startsWith("ab")', 'true'],
    ['abc', 'endsWith("bc")', 'true'],
    ['abc', 'length()', '3'],
    ['abc', 'toUpperCase()', 'ABC'],
    ['ABC', 'toLowerCase()', 'abc'],
    ['  x  ', 'trim()', 'x'],
    ['abcdef', 'substring(2)', 'cdef'],
    ['abcdef', 'substring(1, 3)', 'bc'],
    ['abcabc', 'indexOf("c")', '2'],
    ['abc', 'equals("abc")', 'true'],
    ['', 'isEmpty()', 'true'],
    ['abc', 'isEmpty()', 'false'],
    ['abc', 'charAt(1)', 'b'],
  ];
  it.each(cases)("'%s'.%s → %s", (subject, call, expected) => {
    expect(render(`#set($s = '${subject}')#set($r = $s.${call})$r`)).toBe(expected);
  });

  it('trim removes characters up to U+0020 only', () => {
    expect(render("$input.path('$.v').trim()", { body: JSON.stringify({ v: '\u0001 x \t\n' }) })).toBe('x');
    expect(render("[$input.path('$.v').trim()]", { body: JSON.stringify({ v: '\u00a0x\u00a0' }) })).toBe('[\u00a0x\u00a0]');
  });

  it('Java regex: $ also matches before a final line terminator, . does not match one', () => {
    expect(render("$input.path('$.v').replaceAll('b$', 'X')", { body: JSON.stringify({ v: 'ab\n' }) })).toBe('aX\n');
    expect(render("$input.path('$.v').replaceAll('a.b', 'X')", { body: JSON.stringify({ v: 'a\u0085b' }) })).toBe('a\u0085b');
  });

  it('unsupported regex constructs and out-of-range indexes are errors', () => {
    expect(() => render('#set($s = "aaa")$s.replaceAll("a++", "")')).toThrow(/possessive/);
    expect(() => render('#set($s = "abc")$s.substring(2, 9)')).toThrow(/out of range/);
    expect(() => render('#set($s = "abc")$s.replaceAll("(a)", "$2")')).toThrow(/No group 2/);
  });

  it('a method Java strings do not have renders the reference as text, as Velocity does', () => {
    expect(render('#set($s = "abc")$s.padStart(5)')).toBe('$s.padStart(5)');
  });
});

describe('Velocity', () => {
  it('#set, #if/#elseif/#else, #foreach with $foreach.hasNext/index/count, ## and #* *# comments', () => {
    const template = [
      '## a line comment',
      '#set($n = 2)#* a block comment *#',
      '#if($n == 1)one#elseif($n == 2)two#{else}many#end|#foreach($x in ["a", "b", "c"])$foreach.index:$foreach.count:$x#if($foreach.hasNext),#end#end',
    ].join('\n');
    expect(render(template)).toBe('two|0:1:a,1:2:b,2:3:c');
  });

  it('$missing renders as its text and $!missing as nothing', () => {
    expect(render('[$missing][$!missing][$context.missing]')).toBe('[$missing][][$context.missing]');
  });

  it('string literals do not process backslash escapes', () => {
    expect(render('#set($s = "a\\nb")$s.length()|#set($t = \'\\\\\')$t')).toBe('4|\\\\');
  });

  it('reads a # right after a reference as text ("ORDER#$a#$b")', () => {
    expect(render('#set($sk = "ORDER#$context.requestTimeEpoch#$context.requestId")$sk|$context.stage#|$context.stage##comment')).toBe('ORDER#1700000000000#req-1|dev#|dev');
  });

  it('a template that does not parse is a MappingTemplateError', () => {
    expect(() => render('#if($x')).toThrow(MappingTemplateError);
  });
});
