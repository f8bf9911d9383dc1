import type { Logger } from 'pino';

/**
 * A child logger with these bindings, made only when a line is written: a pino child serialises its
 * bindings when created, which the invoke hot path should not pay for on every call.
 */
export function lazyChild(log: Logger, bindings: Record<string, unknown>): Logger {
  let child: Logger | undefined;
  return new Proxy(log, {
    get(_target, prop) {
      // Asking whether a level is on needs no child: the answer is the parent's.
      if (prop === 'isLevelEnabled') return (level: string) => log.isLevelEnabled(level);
      if (prop === 'level') return log.level;
      child ??= log.child(bindings);
      const value: unknown = Reflect.get(child, prop);
      return typeof value === 'function' ? value.bind(child) : value;
    },
  });
}
