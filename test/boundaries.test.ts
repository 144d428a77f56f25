/**
 * The import boundaries of ADR 0008, checked by running the repository's own ESLint config
 * on small sources placed (virtually) in each package: what a package may not import is
 * reported, and what it may is not. Plus: test and bench code is left out of every build.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const eslint = new ESLint({ cwd: ROOT });

/** The rule ids ESLint reports for `code` as if it were the file at `path`. */
async function problems(path: string, code: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath: join(ROOT, path) });
  return (r?.messages ?? []).map((m) => m.ruleId ?? m.message);
}

describe('package boundaries (eslint.config.js)', () => {
  it('gateway runtime code cannot load the simulator (a devDependency); its tests can', async () => {
    const code =
      "import { createSimulation } from '@openbms/simulator';\nexport const s = createSimulation;\n";
    expect(await problems('packages/gateway/src/boundary-probe.ts', code)).toContain(
      'import-x/no-extraneous-dependencies',
    );
    expect(await problems('packages/gateway/src/boundary-probe.test.ts', code)).toEqual([]);
    expect(await problems('packages/gateway/src/testing/boundary-probe.ts', code)).toEqual([]);
  });

  it('a package imports only what its package.json declares', async () => {
    // The server does not declare serialport (transport does).
    const code = "import { SerialPort } from 'serialport';\nexport const p = SerialPort;\n";
    expect(await problems('packages/server/src/boundary-probe.ts', code)).toContain(
      'import-x/no-extraneous-dependencies',
    );
    expect(await problems('packages/transport/src/boundary-probe.ts', code)).toEqual([]);
  });

  it('runtime code never imports test or bench helpers', async () => {
    const local =
      "import { simulatedBuses } from './testing/sim-buses.js';\nexport const b = simulatedBuses;\n";
    expect(await problems('packages/gateway/src/boundary-probe.ts', local)).toContain(
      '@typescript-eslint/no-restricted-imports',
    );
    const other =
      "import { memoryStorage } from '@openbms/storage/testing';\nexport const m = memoryStorage;\n";
    expect(await problems('packages/server/src/boundary-probe.ts', other)).toContain(
      '@typescript-eslint/no-restricted-imports',
    );
    expect(await problems('packages/server/src/boundary-probe.test.ts', other)).toEqual([]);
  });

  it('no package reaches into another by a relative path', async () => {
    const code =
      "import { memoryStorage } from '../../storage/src/testing/memory.js';\nexport const m = memoryStorage;\n";
    expect(await problems('packages/server/src/boundary-probe.test.ts', code)).toContain(
      'import-x/no-relative-packages',
    );
  });

  it('core, protocols and contract stay pure', async () => {
    const fs = "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n";
    expect(await problems('packages/core/src/boundary-probe.ts', fs)).toContain(
      'no-restricted-imports',
    );
    expect(await problems('packages/protocols/src/boundary-probe.ts', fs)).toContain(
      'no-restricted-imports',
    );
    expect(await problems('packages/contract/src/boundary-probe.ts', fs)).toContain(
      'no-restricted-imports',
    );
    const outer = "import { Gateway } from '@openbms/gateway';\nexport const g = Gateway;\n";
    expect(await problems('packages/protocols/src/boundary-probe.ts', outer)).toContain(
      'no-restricted-imports',
    );
  });

  it('the contract imports no OpenBMS package but core (the web bundles it)', async () => {
    const protocols =
      "import { PROTOCOLS } from '@openbms/protocols';\nexport const p = PROTOCOLS;\n";
    expect(await problems('packages/contract/src/boundary-probe.ts', protocols)).toContain(
      'no-restricted-imports',
    );
    const core = "import { PARAMETERS } from '@openbms/core';\nexport const p = PARAMETERS;\n";
    expect(await problems('packages/contract/src/boundary-probe.ts', core)).toEqual([]);
  });

  it('the web imports the contract only through its zod-free /api and /forms', async () => {
    const root =
      "import { mqttConfigSchema } from '@openbms/contract';\nexport const m = mqttConfigSchema;\n";
    expect(await problems('packages/web/src/features/settings/BoundaryProbe.tsx', root)).toContain(
      'no-restricted-imports',
    );
    const gateway = "import { Gateway } from '@openbms/gateway';\nexport const g = Gateway;\n";
    expect(
      await problems('packages/web/src/features/settings/BoundaryProbe.tsx', gateway),
    ).toContain('no-restricted-imports');
    const api =
      "import { socBody } from '@openbms/contract/api';\nimport { FORM_SCHEMAS } from '@openbms/contract/forms';\nexport const a = [socBody, FORM_SCHEMAS];\n";
    expect(await problems('packages/web/src/features/settings/BoundaryProbe.tsx', api)).toEqual([]);
  });

  it('a web feature imports no other feature, only shared modules', async () => {
    const other =
      "import { OverviewPage } from '../overview/OverviewPage';\nexport const o = OverviewPage;\n";
    expect(await problems('packages/web/src/features/wall/BoundaryProbe.tsx', other)).toContain(
      'import-x/no-restricted-paths',
    );
    const shared =
      "import { useSiteModel } from '../../site/hooks';\nexport const u = useSiteModel;\n";
    expect(await problems('packages/web/src/features/wall/BoundaryProbe.tsx', shared)).toEqual([]);
    const up =
      "import { OverviewPage } from '../features/overview/OverviewPage';\nexport const o = OverviewPage;\n";
    expect(await problems('packages/web/src/site/boundary-probe.tsx', up)).toContain(
      'import-x/no-restricted-paths',
    );
    // app/ composes features.
    expect(await problems('packages/web/src/app/BoundaryProbe.tsx', up)).toEqual([]);
  });
});

describe('test and bench code is not built', () => {
  const built = readdirSync(join(ROOT, 'packages'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(ROOT, 'packages', d.name, 'tsconfig.json')))
    .map((d) => d.name)
    .filter((name) => {
      const ts = JSON.parse(
        readFileSync(join(ROOT, 'packages', name, 'tsconfig.json'), 'utf8'),
      ) as {
        compilerOptions?: { noEmit?: boolean };
      };
      return ts.compilerOptions?.noEmit !== true;
    });

  it.each(built)('%s: tsconfig.json leaves out src/testing/ and the tests', (name) => {
    const ts = JSON.parse(readFileSync(join(ROOT, 'packages', name, 'tsconfig.json'), 'utf8')) as {
      exclude?: string[];
    };
    expect(ts.exclude).toEqual(expect.arrayContaining(['src/**/*.test.ts', 'src/testing/**']));
  });

  it.each(built)('%s: no test or bench helper outside src/testing/', (name) => {
    const src = join(ROOT, 'packages', name, 'src');
    const stray = (readdirSync(src, { recursive: true }) as string[]).filter(
      (f) => !f.startsWith('testing') && /(^|\/)(testing|bench|child)\.ts$|(^|\/)testing\//.test(f),
    );
    expect(stray).toEqual([]);
  });

  it('the gateway does not depend on the simulator at run time', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'packages/gateway/package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(Object.keys(pkg.dependencies)).not.toContain('@openbms/simulator');
  });
});
