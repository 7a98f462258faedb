import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { labJsonSchema, schemaPath } from './schema';

describe('resources/lab.schema.json', () => {
  it('is the JSON Schema of the lab file schema the engine uses (npm run lab:schema)', () => {
    expect(readFileSync(schemaPath, 'utf8')).toBe(labJsonSchema());
    const schema = JSON.parse(labJsonSchema()) as {
      additionalProperties?: boolean;
      required?: string[];
      properties: Record<string, unknown>;
    };
    // Unknown keys are refused by editors too, as by `hangar lab validate`.
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(expect.arrayContaining(['version', 'name', 'vms']));
    expect(Object.keys(schema.properties)).toEqual(['version', 'name', 'baseline', 'networks', 'vms']);
  });
});
