import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (pkg: string): string =>
  fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

// Tests run against the TypeScript sources, so a change is tested without a rebuild.
export default defineConfig({
  resolve: {
    alias: {
      '@openbms/core': src('core'),
      '@openbms/protocols': src('protocols'),
      '@openbms/transport': src('transport'),
    },
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
