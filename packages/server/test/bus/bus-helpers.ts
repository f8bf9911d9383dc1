import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Bus } from '../../src/core/ports/bus.ts';

export type OpenBus = () => Promise<{ bus: Bus; dispose(): Promise<void> }>;
export type WithBus = (title: string, body: (bus: Bus) => Promise<void>) => void;

export async function eventually(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > ms) assert.fail(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Names unique to one test, as a NATS server outlives a test and its streams and buckets persist. */
export function unique(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** Rejects unless `promise` rejects with a BusRequestError of `kind`. */
export async function rejectsWith(promise: Promise<unknown>, kind: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.equal((err as { kind?: string }).kind, kind, `expected a ${kind} error, got ${String(err)}`);
    return true;
  });
}
