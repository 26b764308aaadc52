/** An in-memory OutboxStore over the kit's own decisions, for unit tests of the relay. */
import { canRedrive, claimDecision, claimFields, redriveFields, settleDecision, settlementFields } from '../../../lib/outbox/decide.ts';
import type { ClaimRequest, OutboxRow, OutboxState, OutboxStats, OutboxStore, RedriveResult, Settlement } from '../../../lib/outbox/index.ts';

export class MemoryOutboxStore implements OutboxStore {
  readonly rows = new Map<string, OutboxRow>();

  add(row: OutboxRow): void {
    this.rows.set(row.eventId, { ...row });
  }

  async claim({ eventIds, nowMs, leaseMs, owner, limit }: ClaimRequest): Promise<OutboxRow[]> {
    const candidates = eventIds ? eventIds.map((id) => this.rows.get(id)).filter((r): r is OutboxRow => r !== undefined) : [...this.rows.values()].filter((r) => r.state === 'pending' && r.nextAttemptAtMs <= nowMs).sort((a, b) => a.nextAttemptAtMs - b.nextAttemptAtMs);
    const claimed: OutboxRow[] = [];
    for (const row of candidates.slice(0, limit)) {
      if (!claimDecision(row, nowMs, eventIds !== undefined).claim) continue;
      Object.assign(row, claimFields(owner, nowMs, leaseMs));
      claimed.push({ ...row });
    }
    return claimed;
  }

  async settle(owner: string, settlements: readonly Settlement[]): Promise<void> {
    for (const s of settlements) {
      const row = this.rows.get(s.eventId);
      if (settleDecision(row, owner, s)) Object.assign(row!, settlementFields(s));
    }
  }

  async get(eventId: string): Promise<OutboxRow | undefined> {
    const row = this.rows.get(eventId);
    return row ? { ...row } : undefined;
  }

  async list(state: OutboxState, limit: number): Promise<OutboxRow[]> {
    return [...this.rows.values()].filter((r) => r.state === state).slice(0, limit);
  }

  async stats(): Promise<OutboxStats> {
    const all = [...this.rows.values()];
    const pending = all.filter((r) => r.state === 'pending');
    return {
      pending: pending.length,
      sent: all.filter((r) => r.state === 'sent').length,
      failed: all.filter((r) => r.state === 'failed').length,
      oldestPendingStagedAtMs: pending.length ? Math.min(...pending.map((r) => r.stagedAtMs)) : null,
    };
  }

  async redrive(eventIds: readonly string[], nowMs: number): Promise<RedriveResult[]> {
    return eventIds.map((eventId) => {
      const row = this.rows.get(eventId);
      if (!row) return { eventId, outcome: 'not-found' };
      if (!canRedrive(row.state)) return { eventId, outcome: 'not-redrivable', state: row.state };
      Object.assign(row, redriveFields(nowMs));
      return { eventId, outcome: 'redriven' };
    });
  }

  async failedIds(limit: number): Promise<string[]> {
    return [...this.rows.values()].filter((r) => r.state === 'failed').slice(0, limit).map((r) => r.eventId);
  }
}
