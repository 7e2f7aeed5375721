import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../infra/app-function.js';
import { DEFAULT_SETTINGS_INPUT, parseSettings } from '../../shared/config/settings.js';

const SOURCE = join(PROJECT_ROOT, 'salesforce/force-app/main/default');
const read = (path: string) => readFileSync(join(SOURCE, path), 'utf8');
const tag = (xml: string, name: string) => xml.match(new RegExp(`<${name}>([^<]*)</${name}>`))?.[1];

function customFields(): string[] {
  const objects = join(SOURCE, 'objects');
  return readdirSync(objects, { recursive: true, encoding: 'utf8' })
    .filter((p) => p.endsWith('.field-meta.xml'))
    .map((p) => {
      const [object, , file] = relative(objects, join(objects, p)).split(sep);
      return `${object}.${(file as string).replace('.field-meta.xml', '')}`;
    })
    .sort();
}

describe('Salesforce metadata', () => {
  it('defines the Task external ID field the default settings upsert on', () => {
    const xml = read('objects/Activity/fields/Marketo_Activity_Id__c.field-meta.xml');
    expect({
      fullName: tag(xml, 'fullName'),
      type: tag(xml, 'type'),
      length: tag(xml, 'length'),
      externalId: tag(xml, 'externalId'),
      unique: tag(xml, 'unique'),
      caseSensitive: tag(xml, 'caseSensitive'),
    }).toEqual({
      fullName: parseSettings(DEFAULT_SETTINGS_INPUT).salesforce.taskExternalIdField,
      type: 'Text',
      length: '128',
      externalId: 'true',
      unique: 'true',
      caseSensitive: 'true',
    });
  });

  it('grants the integration permission set read and edit on every shipped custom field', () => {
    const xml = read('permissionsets/Marketo_Sync_Integration.permissionset-meta.xml');
    const fields = [...xml.matchAll(/<fieldPermissions>([\s\S]*?)<\/fieldPermissions>/g)].map((m) => ({
      field: tag(m[1] as string, 'field'),
      editable: tag(m[1] as string, 'editable'),
      readable: tag(m[1] as string, 'readable'),
    }));
    for (const field of customFields()) {
      expect(fields).toContainEqual({ field, editable: 'true', readable: 'true' });
    }
    expect(xml).toMatch(/<name>EditTask<\/name>/);
    // Matching by e-mail (opt-outs, matchByEmail) reads Email on both; it never edits it.
    for (const field of ['Lead.Email', 'Contact.Email'])
      expect(fields).toContainEqual({ field, editable: 'false', readable: 'true' });
    expect(xml).not.toMatch(/<allowDelete>true<\/allowDelete>|<modifyAllRecords>true<\/modifyAllRecords>/);
  });
});
