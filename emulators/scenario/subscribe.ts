/**
 * Many storefront clients subscribing shoppers at once, through the
 * subscription API over HTTP: what a campaign's sell-out looks like from the
 * API's side. Shared by `npm run bench:subscribe` (which counts every
 * answer, no retries) and `npm run demo` (which seeds its shoppers this way
 * and, like a storefront, retries a 503 after its `Retry-After`).
 *
 * Requests go through `node:http` with one keep-alive socket per client: the
 * driver shares the machine with the function and the emulator it measures,
 * so it should cost as little CPU as it can.
 */
import { Agent, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { percentile } from './stats.ts';

/** One subscription to create: `PUT /v1/products/{productId}/subscriptions/{userId}` with `body`. */
export interface SubscribeJob {
  productId: string;
  userId: string;
  body: { channels: { email?: string; push?: string }; locale?: string };
}

export interface SubscribeLoadOptions {
  /** Concurrent clients (each with one request in flight). */
  clients: number;
  /**
   * Retries of a 429/503 or a failed connection per job, each after the answer's
   * `Retry-After` (or a second). 0 (the bench): every first answer counts.
   */
  retries?: number;
  /** Extra request headers (an `Authorization` identifying the storefront). */
  headers?: Record<string, string>;
  /** Called every `progressEvery` finished jobs with how many are done. */
  onProgress?: (done: number) => void;
  progressEvery?: number;
}

/** What a load run observed. Latencies are per request (a retried job counts each attempt). */
export interface SubscribeLoadResult {
  jobs: number;
  clients: number;
  elapsedMs: number;
  /** Answers by status code, every attempt counted; `error` for a request with no answer. */
  statuses: Record<string, number>;
  /** Jobs that ended in a 2xx answer. */
  succeeded: number;
  /** Jobs whose final answer was 201 (created). */
  created: number;
  /** 2xx jobs per second of wall time. */
  perSecond: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  /** Up to five answers that were not 2xx, for the report (status and problem type). */
  samples: string[];
}

interface Answer {
  status: number;
  retryAfterS: number;
  body: string;
}

function put(agent: Agent, base: URL, job: SubscribeJob, headers: Record<string, string>): Promise<Answer> {
  const body = JSON.stringify(job.body);
  const path = `${base.pathname.replace(/\/$/, '')}/v1/products/${encodeURIComponent(job.productId)}/subscriptions/${encodeURIComponent(job.userId)}`;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: base.hostname,
        port: base.port,
        method: 'PUT',
        path,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            retryAfterS: Number(res.headers['retry-after'] ?? '1') || 1,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Runs `count` jobs (`job(0)` … `job(count - 1)`) with `clients` requests in
 * flight at all times until the jobs run out. Never throws for an answer: the
 * result counts every status (and `error` for a failed connection).
 */
export async function subscribeConcurrently(
  apiUrl: string,
  count: number,
  job: (i: number) => SubscribeJob,
  o: SubscribeLoadOptions,
): Promise<SubscribeLoadResult> {
  const base = new URL(apiUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: o.clients });
  const statuses: Record<string, number> = {};
  const latencies: number[] = [];
  const samples: string[] = [];
  const every = o.progressEvery ?? Math.max(1, Math.floor(count / 50));
  let next = 0;
  let done = 0;
  let succeeded = 0;
  let created = 0;
  const tally = (status: string, sample?: string): void => {
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (sample !== undefined && samples.length < 5) samples.push(sample);
  };

  const client = async (): Promise<void> => {
    for (let i = next++; i < count; i = next++) {
      const j = job(i);
      for (let attempt = 0; ; attempt++) {
        const t0 = performance.now();
        let answer: Answer | undefined;
        try {
          answer = await put(agent, base, j, o.headers ?? {});
        } catch (err) {
          tally('error', `error: ${(err as Error).message}`);
        }
        latencies.push(performance.now() - t0);
        if (answer) {
          const ok = answer.status >= 200 && answer.status < 300;
          tally(String(answer.status), ok ? undefined : `${answer.status}: ${problemType(answer.body)}`);
          if (ok) {
            succeeded++;
            if (answer.status === 201) created++;
            break;
          }
        }
        const retryable = !answer || answer.status === 429 || answer.status === 503;
        if (!retryable || attempt >= (o.retries ?? 0)) break;
        await sleep((answer?.retryAfterS ?? 1) * 1000);
      }
      done++;
      if (o.onProgress && (done % every === 0 || done === count)) o.onProgress(done);
    }
  };

  const started = performance.now();
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(o.clients, count)) }, client));
  } finally {
    agent.destroy();
  }
  const elapsedMs = performance.now() - started;
  latencies.sort((a, b) => a - b);
  const round = (v: number | null): number | null => (v === null ? null : Math.round(v * 10) / 10);
  return {
    jobs: count,
    clients: o.clients,
    elapsedMs: Math.round(elapsedMs),
    statuses,
    succeeded,
    created,
    perSecond: Math.round((succeeded / elapsedMs) * 1000),
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
    maxMs: round(latencies.at(-1) ?? null),
    samples,
  };
}

function problemType(body: string): string {
  try {
    const type = (JSON.parse(body) as { type?: unknown }).type;
    return typeof type === 'string' ? type.replace(/^.*:problem:/, '') : body.slice(0, 80);
  } catch {
    return body.slice(0, 80);
  }
}
