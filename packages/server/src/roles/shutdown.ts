import type { Logger } from 'pino';

/** One part of a running platform to stop; `pending` counts the work it still has in flight. */
export interface Closer {
  name: string;
  close(): Promise<void>;
  pending?: () => number;
}

/**
 * Stops parts in the reverse of the order they were started (what was built last goes first), each
 * once, going on past a part that fails. Says first how much work in flight it is waiting for.
 */
export async function shutdown(closers: readonly Closer[], logger: Logger, options: { quiet?: boolean } = {}): Promise<void> {
  if (!options.quiet) {
    const waiting = closers.flatMap((c) => {
      const n = Math.max(0, c.pending?.() ?? 0);
      return n > 0 ? [`${n} ${c.name}`] : [];
    });
    logger.info({ waiting }, waiting.length === 0 ? 'stopping: nothing in flight' : `stopping: waiting for ${waiting.join(', ')}`);
  }
  for (const closer of [...closers].reverse()) {
    try {
      await closer.close();
    } catch (err) {
      logger.error({ err }, `stopping the ${closer.name} failed`);
    }
  }
}

/** Resolves once `done()` holds, or after `ms` (work in flight gets that long to finish at a stop). */
export async function drained(done: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
}
