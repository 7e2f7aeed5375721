import { writeFileSync } from 'node:fs';
import { settingsJsonSchema } from '../shared/config/settings-json-schema.js';

/** Writes settings.schema.json (repo root) from the zod settings schema. */
const path = new URL('../settings.schema.json', import.meta.url);
writeFileSync(path, `${JSON.stringify(settingsJsonSchema(), null, 2)}\n`);
process.stdout.write(`wrote ${path.pathname}\n`);
