/**
 * Names distributed mode uses on the bus (docs/distributed.md lists them). Worker ids are one subject
 * token (config/distributed.ts checks WORKER_ID), so they can be put in a subject as they are.
 */

/** The JetStream work queue async executions are announced on. */
export const EXECUTIONS_QUEUE = 'executions';

/** The key-value bucket workers heartbeat into. */
export const WORKERS_BUCKET = 'workers';

/** Where a worker answers sync invocations sent to it. */
export function invokeSubject(workerId: string): string {
  return `sky.w.${workerId}.invoke`;
}

/** Where a worker reserves instances for stream sessions. */
export function sessionOpenSubject(workerId: string): string {
  return `sky.w.${workerId}.session`;
}

/** One stream session's messages: `in` to the worker, `out` from it, `ctl` for the session's control. */
export function sessionSubject(sessionId: string, way: 'in' | 'out' | 'ctl'): string {
  return `sky.s.${sessionId}.${way}`;
}

/** Where a worker answers questions about itself that heartbeats do not carry (its sandbox, its session pools). */
export function infoSubject(workerId: string): string {
  return `sky.w.${workerId}.info`;
}
