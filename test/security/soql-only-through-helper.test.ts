import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../infra/app-function.js';
import { soql } from '../../shared/domain/soql.js';
import type { SalesforceApi } from '../../shared/ports/salesforce-api.js';

/**
 * SOQL is built only by the soql`…` tag (shared/domain/soql.ts). The compiler
 * enforces it (SalesforceApi.query takes a branded SoqlQuery); this file holds the compile-time
 * proof and a source scan for anything that could bypass the type.
 */

const PRODUCTION_DIRS = ['shared', 'functions', 'cli'];

function sources(): { path: string; text: string }[] {
  return PRODUCTION_DIRS.flatMap((dir) =>
    readdirSync(join(PROJECT_ROOT, dir), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => {
        const path = join(PROJECT_ROOT, dir, f);
        return { path: relative(PROJECT_ROOT, path), text: readFileSync(path, 'utf8') };
      }),
  );
}

/** Never called: `npm run typecheck` fails if a plain or concatenated string becomes a query. */
async function compileTimeProof(api: SalesforceApi, email: string): Promise<void> {
  // @ts-expect-error - a plain string is not a SoqlQuery
  await api.query(`SELECT Id FROM Lead WHERE Email = '${email}'`);
  // @ts-expect-error - appending to a soql`` result gives a plain string again
  await api.query(`${soql`SELECT Id FROM Lead WHERE Email = ${email}`} OR Id != null`);
  await api.query(soql`SELECT Id FROM Lead WHERE Email = ${email}`);
}

describe('SOQL only through the soql`` helper', () => {
  it('has no SELECT … FROM text outside a soql`` template in production code', () => {
    const offenders: string[] = [];
    for (const { path, text } of sources()) {
      if (path === join('shared', 'domain', 'soql.ts')) continue;
      for (const m of text.matchAll(/\bSELECT\b[^\n]*?\bFROM\b/g)) {
        const before = text.slice(Math.max(0, (m.index ?? 0) - 5), m.index);
        if (before !== 'soql`') offenders.push(`${path}: ${m[0].slice(0, 60)}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('sends queries to Salesforce from one place only (query.ts, behind SalesforceClient.query)', () => {
    const senders = sources()
      .filter(({ text }) => /\/query\?q=|\/queryAll|\.queryMore\(|conn(ection)?\.query\(/.test(text))
      .map(({ path }) => path);
    expect(senders).toEqual([join('shared', 'adapters', 'salesforce', 'query.ts')]);
  });

  it('finds the planted offender (the scan can fail)', () => {
    const planted = "const q = 'SELECT Id FROM Lead WHERE Email = ' + email;";
    expect([...planted.matchAll(/\bSELECT\b[^\n]*?\bFROM\b/g)].length).toBe(1);
    expect(compileTimeProof).toBeTypeOf('function');
  });
});
