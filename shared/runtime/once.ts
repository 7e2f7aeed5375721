/**
 * The one memoiser: a value built on first use and kept for the life of the process (a Lambda
 * cold start) — a client, a store for a table the function may not even be bound to, the
 * dependencies read from a secret. A build that throws, or a promise that rejects (e.g. a secret
 * not readable yet), is forgotten, so the next call builds again.
 */
export function once<T>(build: () => T): () => T {
  let kept: { value: T } | undefined;
  return () => {
    if (kept) return kept.value;
    const value = build();
    const entry = { value };
    kept = entry;
    if (value instanceof Promise)
      value.catch(() => {
        if (kept === entry) kept = undefined;
      });
    return value;
  };
}
