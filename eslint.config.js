// One lint setup for the whole monorepo. The import rules keep the dependency direction of
// docs/architecture.md (ADR 0008):
// - every package imports only what its own package.json declares (runtime code: its
//   `dependencies`; tests and `src/testing/`: `devDependencies` too), never another package's
//   files by a relative path, and never test or bench code from runtime code;
// - core, protocols and contract are pure (no node:*, no I/O packages, no outer package, no
//   timers or process); the contract, bundled into the web console, depends on core and zod
//   only (ADR 0009); transport knows nothing of the CLI, gateway or server;
// - the web console imports only core and the contract's zod-free entry points (`/api`,
//   `/forms`), and its feature folders import no other feature, only shared modules.
import { readdirSync } from 'node:fs';
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import globals from 'globals';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

/** Test and bench code: may use devDependencies and other packages' `@openbms/<pkg>/testing`. */
const TEST_FILES = [
  '**/*.test.ts',
  '**/*.test.tsx',
  'packages/*/src/testing/**',
  'packages/web/e2e/**',
  '**/vite.config.ts',
  'vitest.config.ts',
];

const PURE_FORBIDDEN = {
  patterns: [
    {
      group: ['node:*'],
      message:
        'core, protocols and contract are pure: no Node built-ins (I/O belongs in transport).',
    },
    {
      group: [
        '@openbms/transport',
        '@openbms/simulator',
        '@openbms/gateway',
        '@openbms/server',
        '@openbms/cli',
        '@openbms/storage*',
      ],
      message: 'core, protocols and contract must not depend on outer packages.',
    },
    { group: ['serialport', '@serialport/*'], message: 'serial I/O belongs in transport.' },
  ],
};

const PACKAGES = readdirSync('./packages', { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);

// The web console's features (packages/web/src/features/<name>): one zone per feature, so a
// new feature folder is covered without touching this file.
const WEB_FEATURES = './packages/web/src/features';
const featureNames = readdirSync(WEB_FEATURES, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);
const WEB_FEATURE_ZONES = [
  ...featureNames.map((name) => ({
    target: `${WEB_FEATURES}/${name}`,
    from: WEB_FEATURES,
    except: [`./${name}`],
    message:
      'a feature imports no other feature: move what they share to a shared module (api, ui, site, alarm-list, energy...) or compose them in app/.',
  })),
  {
    target: ['api', 'ui', 'site', 'alarm-list', 'energy'].map((d) => `./packages/web/src/${d}`),
    from: WEB_FEATURES,
    message: 'shared modules import no feature (features build on them, not the other way).',
  },
];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    plugins: { 'import-x': importX },
    settings: {
      // Dependencies are parsed as TypeScript (for no-cycle); `.js` specifiers name `.ts` files.
      'import-x/extensions': ['.ts', '.tsx', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx'] },
      // Resolves as the type-checker does: `.js` specifiers to `.ts` sources, `@openbms/*` to
      // the packages' sources (tsconfig.test.json paths; the web's own tsconfig for the web).
      'import-x/resolver-next': [
        createTypeScriptImportResolver({
          project: ['tsconfig.test.json', 'packages/web/tsconfig.json'],
          noWarnOnMultipleProjects: true,
        }),
      ],
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'error',
      // A package's files reach another package through its name (declared), never `../../x/src`.
      'import-x/no-relative-packages': 'error',
      // No import cycles inside a package either (packages cannot form one: see above).
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
  // Every package: only what its own package.json declares. Runtime code gets its
  // `dependencies`; tests and src/testing/ may also use its `devDependencies` and the
  // repository's test tooling (the root package.json's devDependencies: vitest, playwright...).
  ...PACKAGES.map((pkg) => ({
    files: [`packages/${pkg}/**/*.{ts,tsx}`],
    rules: {
      'import-x/no-extraneous-dependencies': [
        'error',
        {
          devDependencies: TEST_FILES,
          includeTypes: true,
          optionalDependencies: false,
          packageDir: [`packages/${pkg}`, '.'],
        },
      ],
    },
  })),
  {
    // Runtime code never loads test or bench code (src/testing/ is not built).
    files: ['packages/*/src/**/*.{ts,tsx}'],
    ignores: TEST_FILES,
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)testing(/|$)',
              message:
                'test and bench helpers (src/testing/) are not built: runtime code cannot import them.',
            },
          ],
        },
      ],
    },
  },
  {
    files: [
      'packages/core/src/**/*.ts',
      'packages/protocols/src/**/*.ts',
      'packages/contract/src/**/*.ts',
    ],
    ignores: TEST_FILES,
    rules: {
      'no-restricted-imports': ['error', PURE_FORBIDDEN],
      'no-restricted-globals': ['error', 'process', 'setTimeout', 'setInterval', 'Buffer'],
    },
  },
  {
    files: ['packages/core/src/**/*.ts'],
    ignores: TEST_FILES,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...PURE_FORBIDDEN.patterns,
            { group: ['@openbms/*'], message: 'core depends on nothing.' },
          ],
        },
      ],
    },
  },
  {
    // The contract is bundled into the web console: on top of the pure rules, it knows nothing
    // of the packages that implement it (core is the only package it may import).
    files: ['packages/contract/src/**/*.ts'],
    ignores: TEST_FILES,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...PURE_FORBIDDEN.patterns,
            {
              group: ['@openbms/*', '!@openbms/core'],
              message: 'the contract depends on core and zod only.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['packages/transport/src/**/*.ts'],
    ignores: TEST_FILES,
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
    // The web console runs in the browser: browser globals, no Node built-ins; its features
    // stay apart.
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
              regex: '^@openbms/contract(?!/(api|forms|xlsx)$)',
              message:
                'import @openbms/contract/api (types), /forms (limits) or /xlsx (workbook parts), not the zod schemas.',
            },
          ],
        },
      ],
      'import-x/no-restricted-paths': ['error', { zones: WEB_FEATURE_ZONES }],
    },
  },
  {
    // Browser tests and the web bench run code inside the page too.
    files: ['packages/web/e2e/**', 'scripts/bench-web.mjs', 'scripts/screenshots.mjs'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
  {
    files: [...TEST_FILES, 'scripts/**'],
    rules: { 'no-console': 'off' },
  },
);
