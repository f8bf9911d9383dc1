/**
 * Shares `free` async slots among the owners with queued work: each slot in turn to the owner with the
 * fewest executions running (`running`, plus what this call gave it), never one at `cap`. Among equals,
 * the owners after `after` (the last one given a slot before) come first, so that with more owners than
 * slots every owner gets its turn instead of the ones that sort first.
 */
export function shareSlots(owners: readonly string[], running: (owner: string) => number, free: number, cap: number, after?: string): Map<string, number> {
  const sorted = [...owners].sort();
  const from = after === undefined ? 0 : sorted.findIndex((o) => o > after);
  const turn = from <= 0 ? sorted : [...sorted.slice(from), ...sorted.slice(0, from)];
  const given = new Map<string, number>();
  for (let slot = 0; slot < free; slot++) {
    let best: string | undefined;
    let fewest = cap;
    for (const owner of turn) {
      const n = running(owner) + (given.get(owner) ?? 0);
      if (n < fewest) [best, fewest] = [owner, n];
    }
    if (best === undefined) break;
    given.set(best, (given.get(best) ?? 0) + 1);
  }
  return given;
}
