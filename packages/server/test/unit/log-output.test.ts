import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { formatLogLine, logDestination, logFormatFor } from '../../src/logging/log-output.ts';

function sink(isTTY: boolean) {
  const written: string[] = [];
  return { isTTY, written, write: (text: string) => written.push(text) };
}

test('a terminal gets pretty lines; anything else (a pipe, a file, journald) JSON lines', () => {
  assert.equal(logFormatFor({ isTTY: true }), 'pretty');
  assert.equal(logFormatFor({ isTTY: false }), 'json');
  assert.equal(logFormatFor({}), 'json', 'a file or pipe has no isTTY at all');
  assert.equal(logDestination(sink(false)), undefined, "not a terminal: pino's own JSON writer");
  assert.equal(typeof logDestination(sink(true))?.write, 'function');
});

test('pretty lines: time, level, message, fields flattened, an error with its stack below', () => {
  const out = sink(true);
  const log = pino({ base: { service: 'skyscale' } }, logDestination(out, {}));
  log.info({ controlUrl: 'http://127.0.0.1:8080', req: { method: 'POST', url: '/auth/login' }, responseTime: 12.3456 }, 'listening');
  log.error({ err: new Error('boom') }, 'unhandled error');
  assert.match(out.written[0]!, /^\x1b\[90m\d\d:\d\d:\d\d\.\d{3}\x1b\[0m \x1b\[32mINFO \x1b\[0m listening /);
  const plain = out.written.map((line) => line.replace(/\x1b\[\d+m/g, ''));
  assert.match(plain[0]!, / listening controlUrl=http:\/\/127\.0\.0\.1:8080 req\.method=POST req\.url=\/auth\/login responseTime=12\.3\n$/);
  assert.doesNotMatch(plain[0]!, /service=|"level"/);
  assert.match(plain[1]!, /ERROR unhandled error\n {4}Error: boom\n {4,}at /);
});

test('NO_COLOR turns colours off; a line that is not JSON passes through', () => {
  const out = sink(true);
  pino({}, logDestination(out, { NO_COLOR: '1' })).warn({ name: 'two words' }, 'careful');
  assert.match(out.written[0]!, /^\d\d:\d\d:\d\d\.\d{3} WARN  careful name="two words"\n$/);
  assert.equal(formatLogLine('not json', false), 'not json\n');
});
