import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { settingsJsonSchema } from '../../../shared/config/settings-json-schema.js';

const committed = () =>
  JSON.parse(readFileSync(new URL('../../../settings.schema.json', import.meta.url), 'utf8')) as Record<
    string,
    unknown
  >;

describe('settings.schema.json', () => {
  it('is what `npm run settings:schema` generates from the zod schema (regenerate it after changing settings.ts)', () => {
    expect(committed()).toEqual(settingsJsonSchema());
  });

  it('describes a partial document: no section is required, unknown keys are not allowed, defaults are shown', () => {
    const schema = settingsJsonSchema() as {
      required?: string[];
      additionalProperties: boolean;
      properties: Record<string, { default?: unknown; properties?: Record<string, { default?: unknown }> }>;
    };

    expect(schema.required ?? []).toEqual([]);
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.marketo?.properties?.callsPer20s?.default).toBe(50);
    expect(Object.keys(schema.properties)).toContain('$schema');
  });
});
