import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The layers of docs/architecture.md, enforced: imports point down (domain ← ports ← use cases ←
 * adapters/runtime), and only adapters and the runtime touch an SDK. A use case that needs a new
 * capability adds a port; an adapter implements it.
 */

const ROOT = join(import.meta.dirname, '..', '..', '..');
const USE_CASES = ['activities', 'optouts', 'salesactivity', 'campaigns'];

interface Rule {
  /** Folder under shared/. */
  layer: string;
  /** Import specifiers allowed (relative ones resolved to a shared/ folder, packages by name). */
  allows: (target: string, typeOnly: boolean) => boolean;
}

const always = (t: string) => t === 'zod' || t.startsWith('node:');
const isPorts = (t: string) => t === 'shared/ports' || t === 'shared/ports/vendor-limits';
const RULES: Rule[] = [
  {
    layer: 'domain',
    // Two documented exceptions: the vendor limits the stream planner sizes by, and the settings
    // types the mapping reads (types only).
    allows: (t, typeOnly) =>
      always(t) ||
      t === 'shared/domain' ||
      t === 'shared/ports/vendor-limits' ||
      (typeOnly && t === 'shared/config'),
  },
  {
    layer: 'ports',
    allows: (t, typeOnly) =>
      always(t) || isPorts(t) || t === 'shared/domain' || (typeOnly && t === 'aws-lambda'),
  },
  ...USE_CASES.map(
    (layer): Rule => ({
      layer,
      allows: (t, typeOnly) =>
        always(t) ||
        t === `shared/${layer}` ||
        isPorts(t) ||
        ['shared/domain', 'shared/config', 'shared/observability'].includes(t) ||
        (typeOnly && t === '@aws-lambda-powertools/logger'),
    }),
  ),
];

const IMPORT = /^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+'([^']+)'/gm;

/** Where an import points: `shared/<folder>` (or `shared/ports/vendor-limits`) for relative ones, else the package. */
function target(file: string, spec: string): string {
  if (!spec.startsWith('.'))
    return spec
      .split('/')
      .slice(0, spec.startsWith('@') ? 2 : 1)
      .join('/');
  const path = relative(ROOT, join(file, '..', spec)).replace(/\.js$/, '');
  if (path === 'shared/ports/vendor-limits') return path;
  return path.split('/').slice(0, 2).join('/');
}

function violations(files: { path: string; text: string }[]): string[] {
  const out: string[] = [];
  for (const { path, text } of files) {
    const layer = relative(join(ROOT, 'shared'), path).split('/')[0] ?? '';
    const rule = RULES.find((r) => r.layer === layer);
    if (!rule) continue;
    for (const m of text.matchAll(IMPORT)) {
      const typeOnly = Boolean(m[2]);
      const t = target(path, m[3] ?? '');
      if (!rule.allows(t, typeOnly)) out.push(`${relative(ROOT, path)} imports ${m[3]}`);
    }
  }
  return out;
}

function sources(dir: string): { path: string; text: string }[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name))
    .map((path) => ({ path, text: readFileSync(path, 'utf8') }));
}

describe('layers (docs/architecture.md)', () => {
  it('keeps domain, ports and use cases free of adapters, runtime and SDKs', () => {
    expect(violations(sources(join(ROOT, 'shared')))).toEqual([]);
  });

  it('finds planted violations (the scan can fail)', () => {
    const planted = [
      {
        path: join(ROOT, 'shared/activities/x.ts'),
        text: "import { DynamoDbLedgerStore } from '../adapters/dynamodb/ledger-store.js';",
      },
      {
        path: join(ROOT, 'shared/optouts/y.ts'),
        text: "import { resumeAtFor } from '../runtime/sqs-batch.js';",
      },
      { path: join(ROOT, 'shared/domain/z.ts'), text: "import { SQSClient } from '@aws-sdk/client-sqs';" },
      {
        path: join(ROOT, 'shared/campaigns/w.ts'),
        text: "import { Connection } from '@jsforce/jsforce-node';",
      },
      {
        path: join(ROOT, 'shared/ports/v.ts'),
        text: "import { x } from '../adapters/sqs/queue-definitions.js';",
      },
      // allowed: a use case importing a port, type-only logger; domain importing zod
      {
        path: join(ROOT, 'shared/activities/ok.ts'),
        text: "import type { LedgerStore } from '../ports/ledger-store.js';\nimport type { Logger } from '@aws-lambda-powertools/logger';",
      },
      { path: join(ROOT, 'shared/domain/ok.ts'), text: "import { z } from 'zod';" },
    ];
    expect(violations(planted)).toEqual([
      'shared/activities/x.ts imports ../adapters/dynamodb/ledger-store.js',
      'shared/optouts/y.ts imports ../runtime/sqs-batch.js',
      'shared/domain/z.ts imports @aws-sdk/client-sqs',
      'shared/campaigns/w.ts imports @jsforce/jsforce-node',
      'shared/ports/v.ts imports ../adapters/sqs/queue-definitions.js',
    ]);
  });
});
