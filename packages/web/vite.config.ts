import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// React's JSX goes through esbuild (no plugin needed: we do not use Fast Refresh).
// @openbms/core is bundled from its TypeScript sources: the metric catalog and the alarm
// taxonomy are the same objects the gateway uses. So are the contract's zod-free entry
// points: the API's types (erased) and the config sections' JSON Schema the forms read.
const src = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  base: '/',
  esbuild: { jsx: 'automatic' },
  resolve: {
    alias: {
      '@openbms/core': src('../core/src/index.ts'),
      '@openbms/contract/api': src('../contract/src/api/index.ts'),
      '@openbms/contract/forms': src('../contract/src/forms/index.ts'),
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  server: {
    // `npm run dev -w @openbms/web` next to `openbms start` on :8080.
    proxy: { '/api': { target: 'http://127.0.0.1:8080', ws: true } },
  },
});
