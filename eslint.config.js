// One lint setup for the whole monorepo. The import-boundary rules keep the dependency
// direction of docs/architecture.md: core and protocols are pure (no node:*, no I/O
// packages, no transport or gateway); the contract is browser-safe (no node:*, nothing but
// core); transport knows nothing of the CLI.
import js from '@eslint/js';
import globals from 'globals';
import reactHooks from 'eslint-plugin-react-hooks';
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
    // The contract is bundled into the web console: browser-safe, and it knows nothing of the
    // packages that implement it.
    files: ['packages/contract/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*'], message: 'the contract runs in the browser: no Node built-ins.' },
            {
              group: ['@openbms/*', '!@openbms/core'],
              message: 'the contract depends on core and zod only.',
            },
          ],
        },
      ],
      'no-restricted-globals': ['error', 'process', 'Buffer'],
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
    // The web console runs in the browser: browser globals, no Node built-ins.
    files: ['packages/web/src/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'warn',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*'], message: 'the web console runs in the browser.' },
            {
              regex: '^@openbms/(?!core$|contract(/|$))',
              message:
                'the web console talks to the server over HTTP; only core and the contract are shared.',
            },
            {
              // The contract's root brings zod and every config schema into the bundle.
              regex: '^@openbms/contract(?!/(api|forms)$)',
              message:
                'import @openbms/contract/api (types) or /forms (limits), not the zod schemas.',
            },
          ],
        },
      ],
    },
  },
  {
    // Browser tests and the web bench run code inside the page too.
    files: ['packages/web/e2e/**', 'scripts/bench-web.mjs', 'scripts/screenshots.mjs'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
  {
    files: ['**/*.test.ts', '**/testing/**', '**/bench/**', 'scripts/**', 'packages/web/e2e/**'],
    rules: { 'no-console': 'off' },
  },
);
