/**
 * The waves of one restock as `restock status` shows them (docs/waves.md):
 * where the waves stand, and per wave when it started, the stock it saw, the
 * shoppers it took and how many of them were told (one count aggregation per
 * wave). Only the most recent waves of the current generation are listed.
 */
import { FieldPath } from '@google-cloud/firestore';
import type { WaveDoc, WavesState } from '../../lib/model.ts';
import { countSentOfWave } from '../../lib/delivery/index.ts';
import { waveDocId, wavesOf } from '../../lib/fanout/index.ts';
import type { Backend } from '../backend.ts';
import { guard } from '../guard.ts';

/** Waves listed at most (the newest). */
const MAX_WAVES = 50;

/** One wave: when it started, the stock it saw, shoppers taken, notifications sent. */
export interface WaveView {
  index: number;
  startedAtMs: number;
  completedAtMs: number | null;
  available: number;
  taken: number;
  delivered: number;
}

/** Where a restock in waves stands, and its waves. */
export interface WavesReport {
  multiplier: number;
  intervalMs: number;
  minAvailableToNotify: number;
  phase: WavesState['phase'];
  /** The wave being paged or awaited. */
  index: number;
  /** When the awaited wave is due (phase `waiting`). */
  nextWaveAtMs: number | null;
  stopReason: string | null;
  waves: WaveView[];
}

/**
 * The waves of `eventKey` from its fan-out document's fields, or null when its restock does not run in waves.
 * `ledgerShards` is the shard count its ledger entries were written with (readStatus decides it once).
 * @throws BackendError when Firestore fails or does not answer.
 */
export async function readWaves(backend: Backend, eventKey: string, fanout: Record<string, unknown> | undefined, ledgerShards: number): Promise<WavesReport | null> {
  const state = fanout?.waves as WavesState | undefined;
  if (!state) return null;
  const generation = typeof fanout?.generation === 'number' ? fanout.generation : 0;
  const snap = await guard(
    'query',
    `waves of ${eventKey}`,
    wavesOf(backend.db, eventKey).orderBy(FieldPath.documentId()).startAt(waveDocId(generation, 0)).endAt(waveDocId(generation, 99_999_999)).limitToLast(MAX_WAVES).get(),
  );
  const records = snap.docs.map((d) => d.data() as WaveDoc);
  const delivered = await Promise.all(records.map((w) => guard('count', `sent of wave ${w.index} of ${eventKey}`, countSentOfWave(backend.db, eventKey, w.index, ledgerShards))));
  return {
    ...state.settings,
    phase: state.phase,
    index: state.index,
    nextWaveAtMs: state.phase === 'waiting' ? state.nextWaveAtMs : null,
    stopReason: state.stopReason ?? null,
    waves: records.map((w, i) => ({
      index: w.index,
      startedAtMs: w.startedAtMs,
      completedAtMs: w.completedAtMs ?? null,
      available: w.available,
      taken: w.taken,
      delivered: delivered[i]!,
    })),
  };
}
