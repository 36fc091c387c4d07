// ESLint flat config: typescript-eslint's recommended rules (syntax only, not type-checked),
// no explicit `any`, and lines of at most 160 characters (URLs and literal text excepted; comments count).
import stylistic from '@stylistic/eslint-plugin';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    ignores: ['**/node_modules/', '**/.aws-sam/', '**/dist/', '**/.venv/', '**/.wims/', '**/coverage/', 'loadtest/results/'],
  },
  {
    files: ['**/*.{ts,js,mjs,cjs}'],
    extends: [tseslint.configs.recommended],
    plugins: { '@stylistic': stylistic },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      // A leading underscore marks a binding kept on purpose (a skipped argument, a property left out of a rest copy).
      '@typescript-eslint/no-unused-vars': ['error', {
        argsIgnorePattern: '^_',
        varsIgnorePattern: '^_',
        destructuredArrayIgnorePattern: '^_',
        caughtErrorsIgnorePattern: '^_',
        ignoreRestSiblings: true,
      }],
      // Variables declared first and assigned once later, after closures that read them, stay `let`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      '@stylistic/max-len': ['error', {
        code: 160,
        ignoreUrls: true,
        ignoreStrings: true,
        ignoreTemplateLiterals: true,
        ignoreRegExpLiterals: true,
      }],
    },
  },
);
