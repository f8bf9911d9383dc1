import { spawnSync } from 'node:child_process';
import { findExecutable } from '../../packages/server/src/config/prerequisites.ts';

export interface LoadResult {
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  errors: number;
  /** What the errors were, e.g. "non-2xx 3, timeout 2"; empty without errors. */
  errorKinds: string;
}

export const hasWrk = (): boolean => findExecutable('wrk') !== undefined;

function toMs(value: string, unit: string): number {
  const n = Number(value);
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : n;
}

/** Runs wrk (1 thread, keep-alive) against a URL and parses its --latency report. */
export function wrk(url: string, options: { connections: number; seconds: number; headers?: Record<string, string>; script?: string }): LoadResult {
  const args = ['-t1', `-c${options.connections}`, `-d${options.seconds}s`, '--latency'];
  for (const [k, v] of Object.entries(options.headers ?? {})) args.push('-H', `${k}: ${v}`);
  if (options.script !== undefined) args.push('-s', options.script);
  args.push(url);
  const run = spawnSync('wrk', args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`wrk failed: ${run.stderr || run.stdout}`);
  const out = run.stdout;
  const pct = (p: string): number => {
    const m = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
    return m === null ? NaN : toMs(m[1], m[2]);
  };
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const kinds: Array<[string, number]> = [['non-2xx', non2xx]];
  if (socketErrors) ['connect', 'read', 'write', 'timeout'].forEach((kind, i) => kinds.push([kind, Number(socketErrors[i + 1])]));
  const errors = kinds.reduce((n, [, count]) => n + count, 0);
  const errorKinds = kinds.filter(([, count]) => count > 0).map(([kind, count]) => `${kind} ${count}`).join(', ');
  return { requestsPerSec: rps, p50Ms: pct('50'), p99Ms: pct('99'), requests, errors, errorKinds };
}
