/**
 * What `terraform/` deploys, as the production clock needs it: the queue's
 * limits, the functions' limits, the pipeline's settings (variable
 * defaults), and Firestore's indexes — single-field exemptions
 * (`google_firestore_field` with an empty `index_config`) and composite
 * indexes — so that the clock knows which of the hot path's writes land on a
 * sequential index range.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from '@cdktf/hcl2json';
import { variableValue, type HclValue } from './hcl-expression.ts';

// hcl2json's output is untyped JSON.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export interface Deployed {
  queueMaxDispatchesPerSecond: number;
  queueMaxConcurrentDispatches: number;
  /** Delivery queues (`delivery_queue_count`), each with the rate and concurrency above. */
  queueCount: number;
  /** The continuation queue's own limits (terraform/tasks.tf `google_cloud_tasks_queue.continuations`). */
  continuationQueue: { maxDispatchesPerSecond: number; maxConcurrentDispatches: number };
  deliveryMaxInstances: number;
  /** Requests one deliverRestockBatch instance serves at once (`delivery_concurrency`; Cloud Functions' default is 1). */
  deliveryConcurrency: number;
  /** Instances kept warm (`min_instance_count`): they take their first request without a cold start. */
  deliveryMinInstances: number;
  fanoutMinInstances: number;
  fanoutTimeBudgetMs: number;
  pageSize: number;
  chunkSize: number;
  enqueueConcurrency: number;
  sendConcurrency: number;
  notifyBatchSize: number;
  checkpointIntervalMs: number;
  fanoutMaxInstances: number;
  /** Seconds Pub/Sub waits for fanOutRestock's answer (terraform/pubsub.tf: min(600, its timeout)). */
  fanoutAckDeadlineMs: number;
  queueRetry: { maxAttempts: number; minBackoffMs: number; maxBackoffMs: number; maxDoublings: number; maxRetryDurationMs: number };
  /**
   * The pipeline's settings as terraform/locals.tf hands them to fanOutRestock
   * and deliverRestockBatch (shared_env and function_env), each `var.x` /
   * `tostring(var.x)` resolved to its default; values terraform/ computes from
   * other resources (URLs, service accounts) are left out. A setting added
   * there (parallel ranges, more queues) reaches the clock without a change here.
   */
  env: Record<string, string>;
  /** Per collection: single-field indexes turned off (`*` = every field). */
  exempted: Record<string, Set<string>>;
  /** Composite indexes: collection, name, field paths in order. */
  composites: { collection: string; name: string; fields: string[] }[];
}

/** Deliveries the instances can serve at once: each of deliverRestockBatch's max_instances takes its concurrency (`function_config`). */
export function deliverySlots(d: Pick<Deployed, 'deliveryMaxInstances' | 'deliveryConcurrency'>): number {
  return d.deliveryMaxInstances * d.deliveryConcurrency;
}

/** Per-function sizing as terraform/ declares it: `function_config` with its optional() defaults applied. */
type Sizing = Record<string, { memory: string; cpu: number | null; concurrency: number; timeout_seconds: number; min_instances: number; max_instances: number }>;

function declaration(vars: Record<string, Json>, name: string): Json {
  const v = vars[name];
  return Array.isArray(v) ? v[0] : v;
}

function variableDefault(vars: Record<string, Json>, name: string, fallback?: number): number {
  const raw = declaration(vars, name)?.default;
  if (raw === undefined) {
    if (fallback !== undefined) return fallback;
    throw new Error(`terraform/: variable "${name}" has no default (the production clock needs it)`);
  }
  return Number(raw);
}

/**
 * A `google_firestore_field` declared with `for_each` over a local map of
 * collection → field names (terraform/firestore.tf's `unindexed_fields`)
 * stands for one resource per pair. Only that shape is understood (the
 * clock is no Terraform evaluator); any other `for_each` is refused by name.
 */
export function expandForEach(resource: Json, locals: Record<string, Json>): Json[] {
  if (resource.for_each === undefined) return [resource];
  const name = /local\.(\w+)/.exec(String(resource.for_each))?.[1];
  const map = name ? locals[name] : undefined;
  const shapeOk =
    map && typeof map === 'object' && Object.values(map).every((v) => Array.isArray(v)) &&
    resource.collection === '${each.value.collection}' && resource.field === '${each.value.field}';
  if (!shapeOk) throw new Error(`terraform/: google_firestore_field with for_each ${String(resource.for_each).slice(0, 80)} is not a shape the production clock reads (a local map of collection → field names)`);
  return Object.entries(map as Record<string, string[]>).flatMap(([collection, names]) => names.map((field) => ({ ...resource, collection, field })));
}

/**
 * The limits of a `google_cloud_tasks_queue` resource's rate_limits, each a
 * number, a `var.x` resolved to its default, or the continuation queue's
 * concurrency derived from fanOutRestock's capacity (terraform/tasks.tf).
 */
function queueLimits(resource: Json, vars: Record<string, Json>, what: string, fanout: Sizing[string]): { maxDispatchesPerSecond: number; maxConcurrentDispatches: number } {
  const limits = Array.isArray(resource?.rate_limits) ? resource.rate_limits[0] : resource?.rate_limits;
  const value = (raw: unknown, name: string): number => {
    const ref = /^\$\{var\.(\w+)\}$/.exec(String(raw));
    // Three quarters of fan-out's request slots, at least one (local.continuation_max_concurrent_dispatches).
    const derived = String(raw) === '${local.continuation_max_concurrent_dispatches}' ? Math.max(1, Math.floor((fanout.max_instances * fanout.concurrency * 3) / 4)) : undefined;
    const n = derived ?? (ref ? variableDefault(vars, ref[1]!) : Number(raw));
    if (!Number.isFinite(n)) throw new Error(`terraform/: ${what} rate_limits.${name} is ${String(raw)}, not a number or a variable the production clock reads`);
    return n;
  };
  return { maxDispatchesPerSecond: value(limits?.max_dispatches_per_second, 'max_dispatches_per_second'), maxConcurrentDispatches: value(limits?.max_concurrent_dispatches, 'max_concurrent_dispatches') };
}

/** Sets `path` (`a.b.c`) in an object, creating the objects on the way. */
function setPath(target: Record<string, HclValue>, path: string[], value: number): void {
  const [head, ...rest] = path;
  if (rest.length === 0) {
    target[head!] = value;
    return;
  }
  const next = (target[head!] ??= {}) as Record<string, HclValue>;
  setPath(next, rest, value);
}

/**
 * Reads every `.tf` file of `dir`. `overrides` stand for `terraform apply
 * -var name=value`: they replace those variables' defaults (a variable
 * terraform/ does not declare is refused by name); a dotted name sets one
 * attribute of an object variable, e.g. `function_config.deliverRestockBatch.max_instances`
 * (the others keep their optional() defaults, as Terraform would).
 * @throws when a file does not parse, a needed variable is missing or an override names no variable.
 */
export async function readDeployment(dir: string, overrides: Record<string, number> = {}): Promise<Deployed> {
  const vars: Record<string, Json> = {};
  const queues: Record<string, Json> = {};
  const locals: Record<string, Json> = {};
  const fields: Json[] = [];
  const indexes: [string, Json][] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.tf')).sort()) {
    const json = await parse(file, readFileSync(join(dir, file), 'utf8'));
    Object.assign(vars, json.variable ?? {});
    for (const l of (json.locals ?? []) as Record<string, Json>[]) Object.assign(locals, l);
    for (const body of Object.values<Json>(json.resource?.google_firestore_field ?? {})) fields.push(Array.isArray(body) ? body[0] : body);
    for (const [name, body] of Object.entries<Json>(json.resource?.google_firestore_index ?? {})) indexes.push([name, Array.isArray(body) ? body[0] : body]);
    for (const [name, body] of Object.entries<Json>(json.resource?.google_cloud_tasks_queue ?? {})) queues[name] = Array.isArray(body) ? body[0] : body;
  }
  const objectOverrides: Record<string, Record<string, HclValue>> = {};
  for (const [name, value] of Object.entries(overrides)) {
    const [root, ...path] = name.split('.');
    if (vars[root!] === undefined) throw new Error(`--var ${name}: terraform/ declares no such variable`);
    if (path.length > 0) setPath((objectOverrides[root!] ??= {}), path, value);
    else vars[root!] = [{ ...declaration(vars, root!), default: value }];
  }
  let sizing: Sizing;
  try {
    sizing = variableValue(declaration(vars, 'function_config'), objectOverrides.function_config ?? {}) as unknown as Sizing;
  } catch (err) {
    throw new Error(`--var function_config...: ${(err as Error).message}`);
  }
  const delivery = sizing.deliverRestockBatch!;
  const fanout = sizing.fanOutRestock!;
  const deliveryConcurrency = delivery.concurrency;
  // terraform/variables.tf refuses the same (function_config's validation): the clock times only what could be deployed.
  if (deliveryConcurrency > 1 && (delivery.cpu ?? 0) < 1) {
    throw new Error(
      `function_config.deliverRestockBatch.concurrency ${deliveryConcurrency} needs cpu of 1 or more (--var function_config.deliverRestockBatch.cpu=1): terraform/ refuses more than one request per instance on less than a whole vCPU`,
    );
  }
  const exempted: Record<string, Set<string>> = {};
  for (const f of fields.flatMap((x) => expandForEach(x, locals))) {
    const config = Array.isArray(f.index_config) ? f.index_config[0] : f.index_config;
    // An index_config with no `indexes` turns the field's single-field indexes off.
    if (config !== undefined && (config.indexes === undefined || config.indexes.length === 0)) {
      (exempted[f.collection] ??= new Set()).add(f.field);
    }
  }
  const marginSeconds = variableDefault(vars, 'fanout_time_budget_margin_seconds', 60);
  const budgetMs = (fanout.timeout_seconds - marginSeconds) * 1000;
  const resolve = (raw: unknown): string | undefined => {
    const m = /^\$\{(?:tostring\()?(var|local)\.(\w+)\)?\}$/.exec(String(raw));
    if (!m) return typeof raw === 'string' && !raw.includes('${') ? raw : undefined;
    if (m[1] === 'local') return m[2] === 'fanout_time_budget_ms' ? String(budgetMs) : undefined;
    const v = vars[m[2]!];
    const value = Array.isArray(v) ? v[0]?.default : v?.default;
    return value === undefined || value === null ? undefined : String(value);
  };
  const env: Record<string, string> = {};
  const functionEnv = (locals.function_env ?? {}) as Record<string, Record<string, unknown>>;
  for (const group of [locals.shared_env ?? {}, functionEnv.fanOutRestock ?? {}, functionEnv.deliverRestockBatch ?? {}] as Record<string, unknown>[]) {
    for (const [k, raw] of Object.entries(group)) {
      const value = resolve(raw);
      if (value !== undefined && value !== '') env[k] = value;
    }
  }
  return {
    queueMaxDispatchesPerSecond: variableDefault(vars, 'queue_max_dispatches_per_second'),
    queueMaxConcurrentDispatches: variableDefault(vars, 'queue_max_concurrent_dispatches'),
    queueCount: variableDefault(vars, 'delivery_queue_count', 1),
    continuationQueue: queueLimits(queues.continuations, vars, 'google_cloud_tasks_queue.continuations', fanout),
    deliveryMaxInstances: delivery.max_instances,
    deliveryConcurrency,
    deliveryMinInstances: delivery.min_instances,
    fanoutMinInstances: fanout.min_instances,
    fanoutTimeBudgetMs: budgetMs,
    pageSize: variableDefault(vars, 'page_size'),
    chunkSize: variableDefault(vars, 'chunk_size'),
    enqueueConcurrency: variableDefault(vars, 'enqueue_concurrency'),
    sendConcurrency: variableDefault(vars, 'send_concurrency'),
    notifyBatchSize: variableDefault(vars, 'notify_batch_size', 100),
    checkpointIntervalMs: variableDefault(vars, 'checkpoint_interval_ms', 1000),
    fanoutMaxInstances: fanout.max_instances,
    fanoutAckDeadlineMs: Math.min(600, fanout.timeout_seconds) * 1000,
    queueRetry: {
      maxAttempts: variableDefault(vars, 'delivery_max_attempts', 10),
      minBackoffMs: variableDefault(vars, 'queue_min_backoff_seconds', 5) * 1000,
      maxBackoffMs: variableDefault(vars, 'queue_max_backoff_seconds', 300) * 1000,
      maxDoublings: variableDefault(vars, 'queue_max_doublings', 5),
      maxRetryDurationMs: variableDefault(vars, 'queue_max_retry_duration_seconds', 0) * 1000,
    },
    env,
    exempted,
    composites: indexes.map(([name, body]) => ({
      collection: body.collection,
      name,
      fields: (body.fields ?? []).map((x: Json) => String(x.field_path)),
    })),
  };
}
