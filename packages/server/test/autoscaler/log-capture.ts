import { pino, type Logger } from 'pino';

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A real pino logger at debug whose lines are kept, parsed, in `lines`. */
export function captureLog(): { log: Logger; lines: LogLine[]; messages: (level?: 'debug' | 'info' | 'warn' | 'error') => string[] } {
  const lines: LogLine[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  const levels = { debug: 20, info: 30, warn: 40, error: 50 } as const;
  return { log, lines, messages: (level) => lines.filter((l) => level === undefined || l.level === levels[level]).map((l) => l.msg) };
}

/** Polls `check` until it returns a value other than undefined/null/false, or fails after `ms`. */
export async function until<T>(check: () => T | null | undefined | false | Promise<T | null | undefined | false>, ms = 10_000, what = 'the condition'): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
