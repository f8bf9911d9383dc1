import type { ListQuery, StoredExecution } from '../core/ports/store.ts';

/** Newest first, as the store lists: created_at, then id, both descending. */
const newerFirst = (a: StoredExecution, b: StoredExecution): number =>
  a.createdAt === b.createdAt ? (a.id < b.id ? 1 : a.id > b.id ? -1 : 0) : a.createdAt < b.createdAt ? 1 : -1;

function matches(e: StoredExecution, q: ListQuery): boolean {
  if (e.ownerId !== q.ownerId || (q.functionId !== undefined && e.functionId !== q.functionId) || (q.status !== undefined && e.status !== q.status)) return false;
  return q.after === undefined || e.createdAt < q.after.createdAt || (e.createdAt === q.after.createdAt && e.id < q.after.id);
}

/**
 * A page of the store's records with the records still waiting to be written (while the database does
 * not take them) merged in where they belong, so a listing shows every execution that was answered.
 */
export function withWaiting(rows: StoredExecution[], waiting: Iterable<StoredExecution>, q: ListQuery): StoredExecution[] {
  const extra: StoredExecution[] = [];
  for (const e of waiting) if (matches(e, q)) extra.push(e);
  if (extra.length === 0) return rows;
  const stored = new Set(rows.map((r) => r.id));
  return [...rows, ...extra.filter((e) => !stored.has(e.id))].sort(newerFirst).slice(0, q.limit);
}
