// The layering lint rule is what keeps the engine free of electron and the renderer free of
// Node; this proves it still fires, so a config change cannot switch it off unnoticed.
import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';

const eslint = new ESLint();

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
