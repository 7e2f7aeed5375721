import { afterEach, beforeEach, vi } from 'vitest';

/**
 * Captures stdout and stderr during each test of the calling suite (Powertools writes INFO and EMF
 * to stdout, WARN/ERROR to stderr) and returns a reader of the JSON documents written, in order.
 */
export function captureJsonOutput(): () => Record<string, unknown>[] {
  let chunks: string[] = [];
  beforeEach(() => {
    chunks = [];
    for (const stream of [process.stdout, process.stderr])
      vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
        chunks.push(String(chunk));
        return true;
      });
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  return () =>
    chunks
      .flatMap((c) => c.split('\n'))
      .flatMap((l) => (l.startsWith('{') ? [JSON.parse(l) as Record<string, unknown>] : []));
}
