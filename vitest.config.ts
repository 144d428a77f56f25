import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (pkg: string): string =>
  fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

// Tests run against the TypeScript sources, so a change is tested without a rebuild.
export default defineConfig({
  resolve: {
    alias: [
      // Test helpers one package's tests share with another's (`src/testing/`, never built):
      // `@openbms/<pkg>/testing` exists for tests only, not in any package's exports.
      {
        find: /^@openbms\/([a-z-]+)\/testing$/,
        replacement: fileURLToPath(new URL('./packages/$1/src/testing/index.ts', import.meta.url)),
      },
      {
        find: /^@openbms\/protocols\/(.+)$/,
        replacement: fileURLToPath(
          new URL('./packages/protocols/src/$1/index.ts', import.meta.url),
        ),
      },
      {
        find: /^@openbms\/contract\/(.+)$/,
        replacement: fileURLToPath(new URL('./packages/contract/src/$1/index.ts', import.meta.url)),
      },
      { find: '@openbms/core', replacement: src('core') },
      { find: '@openbms/contract', replacement: src('contract') },
      { find: '@openbms/protocols', replacement: src('protocols') },
      { find: '@openbms/transport', replacement: src('transport') },
      { find: '@openbms/simulator', replacement: src('simulator') },
      { find: '@openbms/storage-sqlite', replacement: src('storage-sqlite') },
      { find: '@openbms/storage-postgres', replacement: src('storage-postgres') },
      { find: '@openbms/storage', replacement: src('storage') },
      { find: '@openbms/gateway', replacement: src('gateway') },
      { find: '@openbms/server', replacement: src('server') },
    ],
  },
  test: {
    // The storage's worker script, bundled from the sources (storage-sqlite/src/testing).
    globalSetup: ['packages/storage-sqlite/src/testing/worker-bundle.ts'],
    include: ['packages/*/src/**/*.test.ts', 'packages/web/e2e/**/*.test.ts', 'test/**/*.test.ts'],
    // Most test time is waiting (browsers, simulated links, timers): three files at once keep
    // a 2-core machine busy (the default, cores - 1, left it idle half the time: 14.6 min).
    maxWorkers: 3,
    minWorkers: 1,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
