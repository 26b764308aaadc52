/**
 * What a running process needs to do its work: configuration, clients, a
 * logger and a clock. Built once per process; tests build their own.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Firestore } from '@google-cloud/firestore';
import type { CloudTasksClient } from '@google-cloud/tasks';
import { loadConfig, type Config } from './config.ts';
import { firestore, tasks } from './clients.ts';
import { log, type Logger } from './log.ts';
import { metrics, type MetricsRecorder } from './metrics/index.ts';

/** What the pipeline code is given instead of reaching for globals: settings, clients, a logger, a clock. */
export interface Runtime {
  config: Config;
  db: Firestore;
  tasks: CloudTasksClient;
  log: Logger;
  /** Milliseconds since the epoch. */
  now: () => number;
  /** Where the domain records its metrics; absent records nothing (the CLI, tests, the simulation). */
  metrics?: MetricsRecorder;
}

let instance: Runtime | undefined;

/** The process's runtime, from `process.env`. */
export function runtime(): Runtime {
  if (!instance) {
    const config = loadConfig();
    instance = {
      config,
      db: firestore(config),
      // Only fan-out and delivery enqueue: the subscription API never builds a Tasks client.
      get tasks() {
        return tasks(config);
      },
      log,
      now: Date.now,
      // The process's recorder once the served function has started its metrics (functions/framework.ts).
      get metrics() {
        return metrics();
      },
    };
  }
  return instance;
}

/** A name for one attempt at some work, unique across processes (used as lease owner). */
export function attemptId(): string {
  return `${process.env.K_REVISION ?? hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}
