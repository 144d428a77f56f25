/**
 * No import cycle inside the gateway package: the settings service used to import the
 * Gateway class while the gateway built the settings (issue 13). dependency-cruiser reads
 * the import graph of the TypeScript sources, `import type` included (a type-only cycle
 * still ties two modules together), and its `circular` rule names each cycle it finds.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import { describe, expect, it } from 'vitest';

const SRC = dirname(fileURLToPath(import.meta.url));

/** Every import cycle among the modules under `dir` (tests left out), as "a -> b -> a". */
async function importCycles(dir: string): Promise<string[]> {
  const result = await cruise(
    [dir],
    {
      validate: true,
      ruleSet: {
        forbidden: [{ name: 'no-cycle', severity: 'error', from: {}, to: { circular: true } }],
      },
      tsPreCompilationDeps: true,
      exclude: { path: '\\.test\\.ts$' },
      doNotFollow: { path: 'node_modules' },
    },
    {},
    {},
  );
  const output = result.output as ICruiseResult;
  const name = (p: string): string => relative(dir, join(process.cwd(), p));
  return output.summary.violations.map((v) =>
    [v.from, ...(v.cycle ?? []).map((c) => c.name)].map(name).join(' -> '),
  );
}

describe('import graph', () => {
  it('finds a cycle made only of type imports (the check can fail)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openbms-cycle-'));
    mkdirSync(join(dir, 'settings'));
    writeFileSync(
      join(dir, 'gateway.ts'),
      "import { Settings } from './settings/service.js';\nexport class Gateway { s = new Settings(); }\n",
    );
    writeFileSync(
      join(dir, 'settings', 'service.ts'),
      "import type { Gateway } from '../gateway.js';\nexport class Settings { gw?: Gateway; }\n",
    );
    const cycles = await importCycles(dir);
    expect(cycles.length).toBeGreaterThan(0);
    expect(cycles.join('\n')).toContain('settings/service.ts');
    expect(cycles.join('\n')).toContain('gateway.ts');
  });

  it('has no cycle in packages/gateway (settings depends on SettingsHost, not on Gateway)', async () => {
    expect(await importCycles(SRC)).toEqual([]);
  });
});
