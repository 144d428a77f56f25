#!/usr/bin/env node
// Committed launcher: npm links bins at install time, before `prepare` has built dist/,
// so the bin must exist in the repository. It loads the compiled CLI.
import { existsSync } from 'node:fs';

const main = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(
    'openbms is not built yet: run `npm install` (or `npm run build`) in the repository root.\n',
  );
  process.exit(2);
}
await import(main.href);
