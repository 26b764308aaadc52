/**
 * One read shared by every request for the same key within a window: the
 * restock page polls its JSON every `pollMs`, and one `restock status` read is
 * ~15 Firestore queries, so ten operators' tabs on one restock would be ~150
 * queries a second; sharing the read keeps it at one read per window,
 * whatever the number of tabs. A read in flight is shared however long it
 * takes (a burst of polls waits for one answer, and a Firestore slower than
 * the window never has a second read of the same key started beside the
 * first, which would slow it further), an answer is kept for `windowMs` after
 * it arrived, and a failed read is not kept: the next request reads again.
 */
export function sharedReads<T>(read: (key: string) => Promise<T>, windowMs: number, nowMs: () => number): (key: string) => Promise<T> {
  /** `answeredAtMs` is undefined while the read is in flight. */
  const kept = new Map<string, { answeredAtMs?: number; value: Promise<T> }>();
  return (key) => {
    const now = nowMs();
    // Dropping the expired entries on each call keeps the map as small as the keys read in the last window.
    for (const [k, entry] of kept) if (entry.answeredAtMs !== undefined && now - entry.answeredAtMs >= windowMs) kept.delete(k);
    const hit = kept.get(key);
    if (hit) return hit.value;
    const entry: { answeredAtMs?: number; value: Promise<T> } = { value: read(key) };
    kept.set(key, entry);
    entry.value.then(
      () => {
        entry.answeredAtMs = nowMs();
      },
      () => {
        if (kept.get(key) === entry) kept.delete(key);
      },
    );
    return entry.value;
  };
}
