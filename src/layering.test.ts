// The layering lint rule is what keeps the engine free of electron and the renderer free of
// Node; this proves it still fires, so a config change cannot switch it off unnoticed.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';

const root = join(__dirname, '..');

const eslint = new ESLint();

// The first lint loads the config, its plugins and the TypeScript parser: seconds on a loaded CI
// machine (it overran the 5 s test timeout there once), so it is done once, with room, up front.
beforeAll(() => eslint.lintText('export {};\n', { filePath: 'src/main/engine/x.ts' }), 120_000);

async function restricted(filePath: string, code: string): Promise<boolean> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).some((m) => m.ruleId === '@typescript-eslint/no-restricted-imports');
}

describe('layering lint rule', () => {
  it('stops the engine from importing electron', async () => {
    expect(
      await restricted('src/main/engine/x.ts', "import { app } from 'electron';\nexport const a = app;\n"),
    ).toBe(true);
    expect(
      await restricted('src/main/engine/x.ts', "import { join } from 'node:path';\nexport const j = join;\n"),
    ).toBe(false);
  });

  it('stops src/shared from importing Node, Electron or React', async () => {
    for (const mod of ['node:fs', 'fs', 'electron', 'react']) {
      expect(
        await restricted('src/shared/x.ts', `import * as m from '${mod}';\nexport const a = m;\n`),
        mod,
      ).toBe(true);
    }
    expect(await restricted('src/shared/x.ts', "import { z } from 'zod';\nexport const a = z;\n")).toBe(
      false,
    );
  });

  it('stops the renderer from importing Node built-ins', async () => {
    expect(
      await restricted(
        'src/renderer/src/x.ts',
        "import { readFileSync } from 'node:fs';\nexport const a = readFileSync;\n",
      ),
    ).toBe(true);
    expect(
      await restricted(
        'src/renderer/src/x.ts',
        "import { exec } from 'child_process';\nexport const a = exec;\n",
      ),
    ).toBe(true);
  });
});

/**
 * Runs the project's dependency-cruiser rules over a small tree of files laid out like src/, and
 * returns the rules it broke. The rules are path-based, so the fixture tree is what they see.
 */
function cruise(files: Record<string, string>): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'hangar-layers-'));
  try {
    copyFileSync(join(root, '.dependency-cruiser.cjs'), join(dir, '.dependency-cruiser.cjs'));
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'esnext', moduleResolution: 'bundler', strict: true } }),
    );
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(join(dir, dirname(file)), { recursive: true });
      writeFileSync(join(dir, file), text);
    }
    const r = spawnSync(
      join(root, 'node_modules', '.bin', 'depcruise'),
      ['src', '--config', '.dependency-cruiser.cjs', '--output-type', 'json'],
      { cwd: dir, encoding: 'utf8' },
    );
    const out = JSON.parse(r.stdout) as { summary: { violations: { rule: { name: string } }[] } };
    return out.summary.violations.map((v) => v.rule.name).sort();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Each case spawns dependency-cruiser (seconds on a busy 2-core machine), so the default 5 s is short.
describe('import direction and cycles (dependency-cruiser)', { timeout: 60_000 }, () => {
  it('passes imports that point the right way', () => {
    expect(
      cruise({
        'src/shared/a.ts': 'export const a = 1;\n',
        'src/main/engine/e.ts': "import { a } from '../../shared/a';\nexport const e = a;\n",
        'src/main/api/d.ts': "import { e } from '../engine/e';\nexport const d = e;\n",
        'src/main/cli/c.ts': "import { d } from '../api/d';\nexport const c = d;\n",
        'src/renderer/src/r.ts': "import { a } from '../../shared/a';\nexport const r = a;\n",
      }),
    ).toEqual([]);
  });

  it('fails an engine module that imports the API, and the renderer importing the engine', () => {
    expect(
      cruise({
        'src/main/api/d.ts': 'export const d = 1;\n',
        'src/main/engine/e.ts': "import { d } from '../api/d';\nexport const e = d;\n",
        'src/renderer/src/r.ts': "import { e } from '../../main/engine/e';\nexport const r = e;\n",
        'src/shared/s.ts': "import { r } from '../renderer/src/r';\nexport const s = r;\n",
      }),
    ).toEqual(['engine-below-front-ends', 'renderer-sees-only-shared', 'shared-stands-alone']);
  });

  it('fails a cycle, even one closed by a type-only import', () => {
    const found = cruise({
      'src/main/engine/x.ts': "import type { Y } from './y';\nexport interface X { y: Y }\n",
      'src/main/engine/y.ts':
        "import { x } from './z';\nexport interface Y { n: number }\nexport const y = x;\n",
      'src/main/engine/z.ts': "import type { X } from './x';\nexport const x: X | null = null;\n",
    });
    expect(found.length).toBeGreaterThan(0);
    expect(new Set(found)).toEqual(new Set(['no-circular']));
  });

  it('fails an operation that imports the Engine class instead of the engine context', () => {
    const files = {
      'src/main/engine/context.ts': 'export interface EngineContext { home: string }\n',
      'src/main/engine/engine.ts':
        "import type { EngineContext } from './context';\nexport class Engine implements EngineContext { home = '' }\n",
      'src/main/api/d.ts': "import { Engine } from '../engine/engine';\nexport const d = new Engine();\n",
    };
    expect(
      cruise({
        ...files,
        'src/main/engine/vms/op.ts':
          "import type { Engine } from '../engine';\nexport const f = (e: Engine) => e.home;\n",
      }),
    ).toEqual(['operations-use-the-engine-context']);
    expect(
      cruise({
        ...files,
        'src/main/engine/vms/op.ts':
          "import type { EngineContext } from '../context';\nexport const f = (e: EngineContext) => e.home;\n",
      }),
    ).toEqual([]);
  });
});
