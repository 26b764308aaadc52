/**
 * One read shared by every request for the same key within a window: the
 * restock page polls its JSON every `pollMs`, and one `restock status` read is
 * ~15 Firestore queries, so ten operators' tabs on one restock would be ~150
 * queries a second; sharing the read keeps it at one read per window,
 * whatever the number of tabs. A read in flight is shared too (a burst of
 * polls waits for one answer), and a failed read is not kept: the next
 * request reads again.
 */
export function sharedReads<T>(read: (key: string) => Promise<T>, windowMs: number, nowMs: () => number): (key: string) => Promise<T> {
  const kept = new Map<string, { atMs: number; value: Promise<T> }>();
  return (key) => {
    const now = nowMs();
    // Dropping the expired entries on each call keeps the map as small as the keys read in the last window.
    for (const [k, entry] of kept) if (now - entry.atMs >= windowMs) kept.delete(k);
    const hit = kept.get(key);
    if (hit) return hit.value;
    const entry = { atMs: now, value: read(key) };
    kept.set(key, entry);
    entry.value.catch(() => {
      if (kept.get(key) === entry) kept.delete(key);
    });
    return entry.value;
  };
}
