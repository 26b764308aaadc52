/**
 * The decisions of a restock told in waves (docs/waves.md), pure over plain
 * data: which settings apply, how many shoppers a wave takes, whether the
 * next wave starts or the restock ends, and what the fan-out stores between
 * waves. `waves.ts` reads Firestore and Cloud Tasks and carries them out.
 */
import { createHash } from 'node:crypto';
import type { Config } from '../config.ts';
import type { FifoKey, ProductDoc, WaveOverride, WaveSettings, WavesState, WaveStopReason } from '../model.ts';
import { restockStanding } from '../restock/index.ts';
import { eventTaskPrefix } from '../tasks/index.ts';

/** The global wave settings (RESTOCK_WAVE_MULTIPLIER, RESTOCK_WAVE_INTERVAL_MS, RESTOCK_MIN_AVAILABLE_TO_NOTIFY). */
export function waveSettingsOf(config: Pick<Config, 'waveMultiplier' | 'waveIntervalMs' | 'minAvailableToNotify'>): WaveSettings {
  return { multiplier: config.waveMultiplier, intervalMs: config.waveIntervalMs, minAvailableToNotify: config.minAvailableToNotify };
}

/**
 * The settings in force for a product: its own (set through its inventory
 * events) over the global defaults, field by field.
 */
export function waveSettingsFor(defaults: WaveSettings, override: WaveOverride | undefined): WaveSettings {
  return {
    multiplier: override?.multiplier ?? defaults.multiplier,
    intervalMs: override?.intervalMs ?? defaults.intervalMs,
    minAvailableToNotify: override?.minAvailableToNotify ?? defaults.minAvailableToNotify,
  };
}

/**
 * The waves of a restock that starts now, or undefined when its settings say
 * "everyone at once" (multiplier 0): then the fan-out pages as it always did.
 * Wave 1 is due at once.
 */
export function initialWaves(settings: WaveSettings, nowMs: number): WavesState | undefined {
  if (!(settings.multiplier > 0)) return undefined;
  return { settings, index: 1, phase: 'waiting', nextWaveAtMs: nowMs, cursor: null };
}

/** A replay starts the waves again from the oldest shopper still waiting (those told are gone, one-shot). */
export function restartWaves(waves: WavesState): WavesState {
  return { settings: waves.settings, index: 1, phase: 'waiting', nextWaveAtMs: 0, cursor: null };
}

/**
 * Shoppers one wave takes for `available` units: ceil(multiplier × available),
 * so any stock at all tells somebody. 0 when nothing is in stock.
 */
export function waveSize(multiplier: number, available: number): number {
  if (!(available > 0) || !(multiplier > 0)) return 0;
  // The epsilon keeps 0.1 × 30 at 3: binary fractions would make it 3.0000000000000004 and round up to 4.
  return Math.max(1, Math.ceil(multiplier * available - 1e-9));
}

/** Whether the next wave starts, and how large it is, or why the restock ends. */
export type WaveStart = { kind: 'start'; available: number; target: number } | { kind: 'stop'; reason: WaveStopReason };

/**
 * Whether wave `waves.index` of the restock `eventKey` may start, from the
 * product's stock as the pipeline last saw it (`products/{id}`): a newer
 * restock of the product ends this one (it runs waves of its own, from the
 * oldest shopper), stock at or below the restock threshold (a sell-out) or
 * under the minimum ends it, and otherwise the wave takes
 * {@link waveSize} shoppers for the stock now.
 */
export function decideWaveStart(waves: Pick<WavesState, 'settings'>, product: ProductDoc | undefined, eventKey: string, threshold: number): WaveStart {
  // The product's state is what sizes a wave: without one there is nothing to take (the fan-out's claim always writes it).
  if (!product) return { kind: 'stop', reason: 'superseded' };
  // The one stock check of every restock (lib/restock): the same rule stops the paging of everyone at once and each chunk's claim.
  const standing = restockStanding(product, eventKey, threshold);
  if (standing.kind === 'stopped') return { kind: 'stop', reason: standing.reason };
  if (product.available < waves.settings.minAvailableToNotify) return { kind: 'stop', reason: 'below-minimum' };
  return { kind: 'start', available: product.available, target: waveSize(waves.settings.multiplier, product.available) };
}

/**
 * What the restock stores once wave `waves.index` has every task enqueued:
 * `done` when its boundary was the last shopper waiting, else waiting for the
 * next wave, `intervalMs` after this one ended.
 */
export function decideAfterWave(waves: WavesState, nowMs: number): WavesState {
  const { current: _current, ...rest } = waves;
  if (waves.current?.last) return { ...rest, phase: 'done', stopReason: 'audience-exhausted' };
  return { ...rest, phase: 'waiting', index: waves.index + 1, nextWaveAtMs: nowMs + waves.settings.intervalMs };
}

/** The restock ends before wave `waves.index` starts, for `reason`. */
export function stopWaves(waves: WavesState, reason: WaveStopReason): WavesState {
  const { current: _current, ...rest } = waves;
  return { ...rest, phase: 'done', stopReason: reason };
}

/** Sign-up order: earlier `createdAtMs` first, then the smaller document id (Firestore's order of ids). */
export function compareFifo(a: FifoKey, b: FifoKey): number {
  if (a.createdAtMs !== b.createdAtMs) return a.createdAtMs < b.createdAtMs ? -1 : 1;
  return Buffer.compare(Buffer.from(a.userId, 'utf8'), Buffer.from(b.userId, 'utf8'));
}

/**
 * The shoppers wave after `cursor` takes, in sign-up order: the first
 * `target` of `waiting` after it. A reference model of what the Firestore
 * queries of `waves.ts` select, for tests and the simulation.
 */
export function selectWave(waiting: readonly FifoKey[], cursor: FifoKey | null, target: number): FifoKey[] {
  return [...waiting]
    .filter((s) => cursor === null || compareFifo(s, cursor) > 0)
    .sort(compareFifo)
    .slice(0, Math.max(0, target));
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

/**
 * The task id of the task that starts wave `index` at `atMs`: one per (event,
 * generation, wave, time), so a redelivered event or retried wave task that
 * asks for the same wave again creates nothing new.
 */
export function waveTaskId(eventKey: string, generation: number, index: number, atMs: number): string {
  return `${eventTaskPrefix(eventKey)}-g${generation}-wave${index}-${atMs}`;
}

/** The task id of a wave's continuation from `cursor` (a wave that outlived the time budget). */
export function waveContinuationTaskId(eventKey: string, generation: number, index: number, cursor: FifoKey | null): string {
  return `${eventTaskPrefix(eventKey)}-g${generation}-wave${index}-cont-${digest(cursor ? `${cursor.createdAtMs}:${cursor.userId}` : '')}`;
}

/** The id of a wave's record under its fan-out: ordered by generation, then wave, as document ids sort. */
export function waveDocId(generation: number, index: number): string {
  return `g${String(generation).padStart(6, '0')}-w${String(index).padStart(8, '0')}`;
}
