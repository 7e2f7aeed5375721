import * as z from 'zod';
import { settingsSchema } from './settings.js';

/**
 * The JSON Schema of a settings file (what a file may say, with each default), generated from
 * the zod schema so it cannot drift: `npm run settings:schema` writes settings.schema.json, and a
 * unit test refuses a committed file that differs from this.
 */
export function settingsJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(settingsSchema, { io: 'input', target: 'draft-2020-12' }),
    title: 'Marketo ↔ Salesforce sync settings (SYNC_SETTINGS)',
    description:
      'Name only what you change: every other setting is its default. Generated from shared/config/settings.ts by `npm run settings:schema`.',
  };
}
