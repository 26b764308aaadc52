/**
 * Fault injection for the sink: latency and failure fractions, scoped to one
 * product or to all, drawn from a seeded PRNG so a failing test replays the
 * same faults.
 */
import { z } from 'zod';

const fraction = z.number().min(0).max(1);

export const faultProfileSchema = z.object({
  /** Scope: only requests/items of this product. Omitted: every product without its own profile. */
  productId: z.string().min(1).optional(),
  latencyMs: z.number().int().nonnegative().max(600_000).optional(),
  jitterMs: z.number().int().nonnegative().max(600_000).optional(),
  /** Fraction of items answered `retry`. */
  retryRate: fraction.optional(),
  /** Fraction of items answered `rejected` (reason `simulated-rejection`). */
  rejectRate: fraction.optional(),
  /** Fraction of requests answered 503 (nothing sent). */
  status503Rate: fraction.optional(),
  /** Fraction of requests answered 429 with Retry-After (nothing sent). */
  status429Rate: fraction.optional(),
  retryAfterSeconds: z.number().int().nonnegative().max(3600).optional(),
  /** Fraction of requests held open and never answered (nothing sent). */
  timeoutRate: fraction.optional(),
  seed: z.number().int().optional(),
});

/** A fault profile as posted to `POST /faults`. */
export type FaultProfile = z.infer<typeof faultProfileSchema>;

/** Deterministic PRNG (mulberry32): uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A profile with its own random stream. */
export interface ActiveFaults {
  profile: FaultProfile;
  random: () => number;
}

const ALL = '*';

/** The faults in force, one profile per product scope plus an optional global one. */
export class FaultTable {
  private readonly byScope = new Map<string, ActiveFaults>();

  /** Replaces the profile of `profile.productId` (or the global one). */
  set(profile: FaultProfile): void {
    this.byScope.set(profile.productId ?? ALL, { profile, random: seededRandom(profile.seed ?? 1) });
  }

  /** Removes the profile of one product, or every profile when `productId` is omitted. */
  clear(productId?: string): void {
    if (productId === undefined) this.byScope.clear();
    else this.byScope.delete(productId);
  }

  /** The profile that applies to a product: its own, else the global one, else none. */
  for(productId: string): ActiveFaults | undefined {
    return this.byScope.get(productId) ?? this.byScope.get(ALL);
  }

  /** Every profile in force, for `GET /faults`. */
  list(): FaultProfile[] {
    return [...this.byScope.values()].map((f) => f.profile);
  }
}
