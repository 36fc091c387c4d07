import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { optionalNumberEnv, requireEnv, requireIntegerEnv } from '../../functions/shared/env.js';
import { ConfigurationError, InvalidInputError } from '../../functions/shared/errors.js';
import { getHeader } from '../../functions/shared/http.js';
import { inventoryKey } from '../../functions/shared/keys.js';
import { SIGNATURE_TOLERANCE_SECONDS, signWebhook, verifyWebhook } from '../../functions/shared/signature.js';

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('shared configuration', () => {
  it('names a missing environment variable', () => {
    // Prepare
    delete process.env.WIMS_TEST_UNSET;

    // Act / Assess
    expect(() => requireEnv('WIMS_TEST_UNSET')).toThrow(new ConfigurationError('Environment variable WIMS_TEST_UNSET is required but not set'));
    expect(() => requireEnv('WIMS_TEST_UNSET')).toThrow(expect.objectContaining({ name: 'ConfigurationError' }));
  });

  it('reads an integer setting, and refuses anything else', () => {
    // Prepare
    process.env.WIMS_TEST_NUMBER = '100';
    process.env.WIMS_TEST_WORD = 'a hundred';

    // Act / Assess
    expect(requireIntegerEnv('WIMS_TEST_NUMBER')).toBe(100);
    expect(() => requireIntegerEnv('WIMS_TEST_WORD')).toThrow(/WIMS_TEST_WORD must be a non-negative integer/);
  });

  it('reads an optional number setting within its range, its fallback when unset or blank, and refuses anything else', () => {
    // Prepare
    delete process.env.WIMS_TEST_UNSET;
    Object.assign(process.env, { WIMS_TEST_BLANK: ' ', WIMS_TEST_SHARE: '0.25', WIMS_TEST_WORD: 'a hundred', WIMS_TEST_NUMBER: '100' });
    const share = { min: 0, max: 1 };

    // Act / Assess
    expect(optionalNumberEnv('WIMS_TEST_UNSET', 0.5, share)).toBe(0.5);
    expect(optionalNumberEnv('WIMS_TEST_BLANK', 0.5, share)).toBe(0.5);
    expect(optionalNumberEnv('WIMS_TEST_SHARE', 0, share)).toBe(0.25);
    expect(() => optionalNumberEnv('WIMS_TEST_WORD', 0, share)).toThrow(new ConfigurationError('Environment variable WIMS_TEST_WORD must be a number from 0 to 1, got "a hundred"'));
    expect(() => optionalNumberEnv('WIMS_TEST_NUMBER', 0, share)).toThrow(/WIMS_TEST_NUMBER must be a number from 0 to 1/);
    expect(() => optionalNumberEnv('WIMS_TEST_SHARE', 0, { min: 0, max: 10, integer: true })).toThrow(/WIMS_TEST_SHARE must be an integer from 0 to 10/);
  });

  it('fails a function at load when its configuration is missing, through the package.json import map', async () => {
    // Prepare: Node with tsx, as the local runtime loads sources, without TABLE_NAME.
    const { TABLE_NAME: _unset, ...environment } = process.env;

    // Act
    const run = promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', "await import('./functions/payment-failed/handler.ts')"],
      { cwd: PROJECT_ROOT, env: environment },
    );

    // Assess
    await expect(run).rejects.toMatchObject({ stderr: expect.stringContaining('ConfigurationError: Environment variable TABLE_NAME is required but not set') });
  });
});

describe('shared keys and headers', () => {
  it('derives an inventory key from a SKU as the orders API derives product and model', () => {
    expect(inventoryKey('MACGUFFIN-LX')).toEqual({ pk: 'INVENTORY#MACGUFFIN', sk: 'MODEL#LX' });
    expect(() => inventoryKey('macguffin')).toThrow(InvalidInputError);
  });

  it('finds headers whatever their case', () => {
    const event = { headers: { 'Idempotency-Key': 'k-1' } } as unknown as APIGatewayProxyEvent;
    expect(getHeader(event, 'idempotency-key')).toBe('k-1');
    expect(getHeader(event, 'x-api-key')).toBeUndefined();
  });
});

describe('shared webhook signature', () => {
  const secret = 'a-secret-of-sixteen-or-more';
  const body = '{"chargeId":"ch_1"}';
  const signedAt = 1_795_773_600;
  const headers = signWebhook(secret, body, signedAt);
  const request = { body, timestamp: headers['X-Wims-Timestamp'], signature: headers['X-Wims-Signature'] };

  it('verifies what it signed, within the tolerance', () => {
    expect(verifyWebhook(secret, request, signedAt)).toBeUndefined();
    expect(verifyWebhook(secret, request, signedAt + SIGNATURE_TOLERANCE_SECONDS)).toBeUndefined();
    expect(verifyWebhook(secret, request, signedAt + SIGNATURE_TOLERANCE_SECONDS + 1)).toMatch(/away from now/);
  });

  it('rejects another secret, another body or a re-dated signature', () => {
    expect(verifyWebhook('another-secret-entirely', request, signedAt)).toBe('signature mismatch');
    expect(verifyWebhook(secret, { ...request, body: '{"chargeId":"ch_2"}' }, signedAt)).toBe('signature mismatch');
    expect(verifyWebhook(secret, { ...request, timestamp: String(signedAt + 60) }, signedAt + 60)).toBe('signature mismatch');
    expect(verifyWebhook(secret, { ...request, signature: 'sha256=abc' }, signedAt)).toMatch(/malformed X-Wims-Signature/);
  });
});
