import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** The CLI as an operator runs it, stdout piped (not a terminal). */
function sync(args: string[], dataDir: string) {
  return spawnSync('npx', ['tsx', 'cli/main.ts', ...args], {
    encoding: 'utf8',
    env: { ...process.env, SYNC_DATA_DIR: dataDir, LOG_LEVEL: 'WARN' },
    timeout: 240_000,
  });
}

describe('CLI output off a terminal', () => {
  it('plan --json prints one JSON line and nothing else; without --json a table, then the JSON line last; no progress line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sync-cli-'));

    const json = sync(['plan', '--json'], dir);
    expect(json.status).toBe(0);
    const lines = json.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      command: 'plan',
      quota: { marketo: { daily: 50_000 } },
    });

    const human = sync(['plan'], dir);
    expect(human.status).toBe(0);
    const out = human.stdout.trimEnd().split('\n');
    expect(out[0]).toMatch(/^types\s+window \(UTC\)\s+activities\s+how\s+path$/);
    expect(JSON.parse(out.at(-1) ?? '')).toMatchObject({ command: 'plan' });
    expect(`${human.stdout}${human.stderr}`).not.toContain('\r');
  }, 300_000);
});
