// One lint setup for the whole monorepo. The import-boundary rules keep the dependency
// direction of docs/architecture.md: core and protocols are pure (no node:*, no I/O
// packages, no transport or gateway); transport knows nothing of the CLI.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const PURE_FORBIDDEN = {
  patterns: [
    {
      group: ['node:*'],
      message: 'core and protocols are pure: no Node built-ins (I/O belongs in transport).',
    },
    {
      group: [
        '@openbms/transport',
        '@openbms/gateway',
        '@openbms/server',
        '@openbms/cli',
        '@openbms/storage*',
      ],
      message: 'core and protocols must not depend on outer packages.',
    },
    { group: ['serialport', '@serialport/*'], message: 'serial I/O belongs in transport.' },
  ],
};

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'error',
    },
  },
  {
    files: ['packages/core/src/**/*.ts', 'packages/protocols/src/**/*.ts'],
    ignores: ['**/*.test.ts', '**/testing/**', 'packages/protocols/src/bench/**'],
    rules: {
      'no-restricted-imports': ['error', PURE_FORBIDDEN],
      'no-restricted-globals': ['error', 'process', 'setTimeout', 'setInterval', 'Buffer'],
    },
  },
  {
    files: ['packages/core/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...PURE_FORBIDDEN.patterns,
            { group: ['@openbms/protocols'], message: 'core depends on nothing.' },
          ],
        },
      ],
    },
  },
  {
    files: ['packages/transport/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@openbms/cli', '@openbms/gateway', '@openbms/server'],
              message: 'transport must not depend on outer packages.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.test.ts', '**/testing/**', '**/bench/**', 'scripts/**'],
    rules: { 'no-console': 'off' },
  },
);
