/**
 * One HTTP request of a task attempt, with its dispatch deadline. Uses
 * node:http directly so the target receives exactly the headers the emulator
 * chose (fetch would add its own).
 */
import http from 'node:http';
import https from 'node:https';

export type AttemptOutcome =
  | { kind: 'response'; status: number }
  | { kind: 'deadline' }
  | { kind: 'unreachable'; message: string };

export interface AttemptRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: Buffer;
  deadlineMs: number;
  signal?: AbortSignal;
  /** Connection pools (keep-alive), so a busy queue does not open a socket per attempt. */
  agents?: { http: http.Agent; https: https.Agent };
}

/** Keep-alive pools for a dispatcher; `destroy()` them when it stops. */
export function createAgents(): { http: http.Agent; https: https.Agent } {
  return { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
}

/** Sends the request; never throws: every failure is an outcome. The response body is read and discarded. */
export function sendAttempt(req: AttemptRequest): Promise<AttemptOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (o: AttemptOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(o);
    };
    let url: URL;
    try {
      url = new URL(req.url);
    } catch (err) {
      resolve({ kind: 'unreachable', message: `bad URL: ${(err as Error).message}` });
      return;
    }
    const secure = url.protocol === 'https:';
    const transport = secure ? https : http;
    const agent = req.agents ? (secure ? req.agents.https : req.agents.http) : false;
    const headers: Record<string, string> = { ...req.headers };
    if (req.body.length > 0 || ['POST', 'PUT', 'PATCH'].includes(req.method)) headers['Content-Length'] = String(req.body.length);
    const request = transport.request(url, { method: req.method, headers, agent, ...(req.signal ? { signal: req.signal } : {}) }, (res) => {
      res.resume();
      res.on('end', () => settle({ kind: 'response', status: res.statusCode ?? 0 }));
      res.on('error', () => settle({ kind: 'response', status: res.statusCode ?? 0 }));
    });
    const timer = setTimeout(() => {
      settle({ kind: 'deadline' });
      request.destroy();
    }, req.deadlineMs);
    request.on('error', (err) => settle({ kind: 'unreachable', message: err.message }));
    request.end(req.body);
  });
}
