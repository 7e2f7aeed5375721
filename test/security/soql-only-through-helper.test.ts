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

/** `SELECT … FROM` (over up to 300 characters, across lines) that does not open a soql`` template. */
function soqlOutsideHelper(files: readonly { path: string; text: string }[]): string[] {
  const offenders: string[] = [];
  for (const { path, text } of files) {
    if (path === join('shared', 'domain', 'soql.ts')) continue;
    for (const m of text.matchAll(/\bSELECT\b[\s\S]{0,300}?\bFROM\b/g)) {
      const before = text.slice(Math.max(0, (m.index ?? 0) - 5), m.index);
      if (before !== 'soql`') offenders.push(`${path}: ${m[0].slice(0, 60)}`);
    }
  }
  return offenders;
}

/** Files that hand a query to Salesforce themselves (REST query paths, jsforce query calls). */
function querySenders(files: readonly { path: string; text: string }[]): string[] {
  return files
    .filter(({ text }) => /\/query\?q=|\/queryAll|\.queryMore\(|conn(ection)?\.query\(/.test(text))
    .map(({ path }) => path);
}

describe('SOQL only through the soql`` helper', () => {
  it('has no SELECT … FROM text outside a soql`` template in production code', () => {
    const files = sources();
    // The scan really read the production tree, including the files that do build queries.
    expect(files.length).toBeGreaterThan(50);
    expect(files.filter(({ text }) => text.includes('soql`SELECT')).length).toBeGreaterThan(2);
    expect(soqlOutsideHelper(files)).toEqual([]);
  });

  it('sends queries to Salesforce from one place only (query.ts, behind SalesforceClient.query)', () => {
    expect(querySenders(sources())).toEqual([join('shared', 'adapters', 'salesforce', 'query.ts')]);
  });

  it('finds planted offenders with the same scans (the scans can fail)', () => {
    const planted = [
      { path: 'shared/a.ts', text: "const q = 'SELECT Id FROM Lead WHERE Email = ' + email;" },
      {
        path: 'shared/b.ts',
        text: 'const q = `SELECT Id,\n  Email\n  FROM Contact WHERE Id = ' + '$' + '{id}`;',
      },
      { path: 'shared/c.ts', text: 'const q = sql`SELECT Id FROM Lead`;' },
      { path: 'shared/ok.ts', text: 'const q = soql`SELECT Id FROM Lead WHERE Email = ' + '$' + '{email}`;' },
    ];
    expect(soqlOutsideHelper(planted).map((o) => o.split(':')[0])).toEqual([
      'shared/a.ts',
      'shared/b.ts',
      'shared/c.ts',
    ]);
    expect(
      querySenders([
        { path: 'shared/d.ts', text: 'await fetch(base + `/query?q=` + q)' },
        { path: 'shared/e.ts', text: 'await conn.query(q)' },
        { path: 'shared/ok.ts', text: 'await deps.salesforce.query(q)' },
      ]),
    ).toEqual(['shared/d.ts', 'shared/e.ts']);
    expect(compileTimeProof).toBeTypeOf('function');
  });
});
