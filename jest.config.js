/**
 * Jest runs the TypeScript sources as ES modules (fauxqs and the local runtime are ESM-only).
 * Two projects share that setup: `unit` (the functions, against one DynamoDB Local started by
 * its global setup, which Jest runs only when a unit test is selected) and `integration`
 * (everything else under tests/).
 */
const shared = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true }],
  },
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    // functions/package.json "imports": the functions' shared code.
    '^#shared/(.*)\\.js$': '<rootDir>/functions/shared/$1.ts',
  },
};

export default {
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['<rootDir>/tests/unit/**/*.test.ts'],
      setupFiles: ['<rootDir>/tests/helpers/unit-env.ts'],
      globalSetup: '<rootDir>/tests/helpers/dynamodb-global-setup.ts',
      globalTeardown: '<rootDir>/tests/helpers/dynamodb-global-teardown.ts',
    },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['<rootDir>/tests/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/tests/unit/'],
    },
  ],
};
