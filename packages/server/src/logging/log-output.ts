/**
 * Where the server's log lines go and how they look: pretty lines for a person at a terminal, pino's
 * JSON lines (one object per line) everywhere else — a pipe, a file, journald, a log collector.
 * Formatting happens in this thread as lines are written: no transport worker.
 */
export type LogFormat = 'pretty' | 'json';

export function logFormatFor(stream: { isTTY?: boolean }): LogFormat {
  return stream.isTTY === true ? 'pretty' : 'json';
}

interface LineSink {
  isTTY?: boolean;
  write(text: string): unknown;
}

/** A pino destination for `stream`; undefined means pino's own (fast, JSON) writer to stdout. */
export function logDestination(stream: LineSink = process.stdout, env: Record<string, string | undefined> = process.env): { write(line: string): void } | undefined {
  if (logFormatFor(stream) === 'json') return undefined;
  // https://no-color.org
  const colour = !env.NO_COLOR;
  return { write: (line) => void stream.write(formatLogLine(line, colour)) };
}

const LEVELS: Record<number, [name: string, colour: number]> = {
  10: ['TRACE', 90],
  20: ['DEBUG', 36],
  30: ['INFO ', 32],
  40: ['WARN ', 33],
  50: ['ERROR', 31],
  60: ['FATAL', 35],
};
/** On every line of this server, so they say nothing. */
const OMITTED = new Set(['level', 'time', 'msg', 'service', 'pid', 'hostname', 'v']);

/** `12:03:04.567 INFO  message key=value …`, then an error's stack indented below. */
export function formatLogLine(line: string, colour: boolean): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const paint = (code: number, text: string): string => (colour ? `\x1b[${code}m${text}\x1b[0m` : text);
  const [name, code] = LEVELS[entry.level as number] ?? [String(entry.level).padEnd(5), 0];
  const time = typeof entry.time === 'number' ? localTime(new Date(entry.time)) : '';
  const fields: string[] = [];
  let stack = '';
  for (const [key, value] of Object.entries(entry)) {
    if (OMITTED.has(key)) continue;
    if (key === 'err' && typeof (value as { stack?: unknown })?.stack === 'string') stack = (value as { stack: string }).stack;
    else fields.push(...flatten(key, value));
  }
  const text = [paint(90, time), paint(code, name), String(entry.msg ?? ''), ...fields.map((f) => paint(90, f))].filter(Boolean).join(' ');
  return `${text}\n${stack ? `${stack.replace(/^/gm, '    ')}\n` : ''}`;
}

function localTime(d: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** Nested objects become dotted keys (`req.method=POST`), so a line stays one line. */
function flatten(key: string, value: unknown): string[] {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => flatten(`${key}.${k}`, v));
  }
  return [`${key}=${show(value)}`];
}

function show(value: unknown): string {
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toFixed(1);
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}
