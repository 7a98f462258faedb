// `npm run lab:schema`: writes resources/lab.schema.json, the JSON Schema of hangar.lab.yaml made
// from the zod schema the engine checks files with, so editors (with a YAML language server)
// complete and check lab files. scripts/lab/schema.test.ts fails when the committed file is stale.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { LabFile } from '../../src/shared/lab/schema';

export const schemaPath = join(
  fileURLToPath(new URL('../..', import.meta.url)),
  'resources',
  'lab.schema.json',
);

export function labJsonSchema(): string {
  const schema = z.toJSONSchema(LabFile, { io: 'input', unrepresentable: 'any' });
  const doc = {
    ...schema,
    $id: 'https://hangar.invalid/lab.schema.json',
    title: 'Hangar lab file (hangar.lab.yaml)',
  };
  return JSON.stringify(doc, null, 2) + '\n';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(schemaPath, labJsonSchema());
  console.error(`wrote ${schemaPath}`);
}
