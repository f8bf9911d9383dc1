import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineSplitter } from '../../src/sandbox/line-splitter.ts';
import { LogBuffer } from '../../src/sandbox/log-buffer.ts';
import { narrowLimits, resolveLimits } from '../../src/sandbox/limits.ts';

function split(chunks: string[], max = 1024): { lines: string[]; overflowed: boolean } {
  const lines: string[] = [];
  let overflowed = false;
  const splitter = new LineSplitter(max, (line) => lines.push(line), () => (overflowed = true));
  for (const chunk of chunks) splitter.push(Buffer.from(chunk));
  return { lines, overflowed };
}

test('lines are reassembled across chunks, several per chunk, multi-byte characters intact', () => {
  const euro = Buffer.from('€');
  const splitter: string[] = [];
  const s = new LineSplitter(100, (l) => splitter.push(l), () => assert.fail('no overflow'));
  s.push(Buffer.concat([Buffer.from('{"a":1}\n{"b":'), euro.subarray(0, 1)]));
  s.push(Buffer.concat([euro.subarray(1), Buffer.from('}\n\n{"c"')]));
  s.push(Buffer.from(':3}\n'));
  assert.deepEqual(splitter, ['{"a":1}', '{"b":€}', '', '{"c":3}']);
  assert.deepEqual(split(['x\ny\n']).lines, ['x', 'y']);
});

test('an unterminated line longer than the limit overflows once and stops the splitter', () => {
  const { lines, overflowed } = split(['a'.repeat(600), 'b'.repeat(600), '\nlater\n'], 1000);
  assert.equal(overflowed, true);
  assert.deepEqual(lines, []);
  assert.equal(split(['a'.repeat(1000) + '\n']).overflowed, false);
});

test('logs keep the first bytes up to the limit and end with a marker that counts the rest', () => {
  const logs = new LogBuffer(10);
  logs.append('12345');
  assert.equal(logs.text(), '12345');
  assert.equal(logs.truncated, false);
  logs.append('67890abc');
  logs.append('more');
  assert.equal(logs.truncated, true);
  assert.equal(logs.text(), '1234567890\n[skyscale: log truncated, 7 more bytes not shown]\n');
});

test('logs never cut a character in half and account for bytes the runtime dropped itself', () => {
  const logs = new LogBuffer(4);
  logs.append('ab€');
  assert.equal(logs.text().startsWith('ab\n'), true);
  logs.addDropped(100);
  assert.match(logs.text(), /103 more bytes/);
  const untouched = new LogBuffer(100);
  untouched.append('abc');
  untouched.producedAtLeast(1000);
  assert.match(untouched.text(), /^abc\n\[skyscale: log truncated, 997 more bytes not shown\]\n$/);
});

test('limits get defaults, reject nonsense, and load can only narrow them (but sets the CPU quota)', () => {
  const limits = resolveLimits({ memoryMb: 256 }, 'node');
  assert.deepEqual(limits, { memoryMb: 256, pids: 64, cpuQuotaPercent: null, tmpSizeMb: 64, outputBytes: 6 * 1024 * 1024, logBytes: 256 * 1024 });
  assert.throws(() => resolveLimits({ memoryMb: 0 }, 'node'), RangeError);
  assert.throws(() => resolveLimits({ memoryMb: 128, pids: 4 }, 'node'), /Node runtime/);
  assert.throws(() => resolveLimits({ memoryMb: 12.5 }, 'node'), RangeError);
  assert.equal(narrowLimits(limits, { memoryMb: 128 }, 'node').memoryMb, 128);
  assert.throws(() => narrowLimits(limits, { memoryMb: 512 }, 'node'), /exceeds/);
  assert.equal(narrowLimits(resolveLimits({ memoryMb: 128, cpuQuotaPercent: 50 }, 'node'), { memoryMb: 128 }, 'node').cpuQuotaPercent, 50, 'left out, the quota stays');
  assert.equal(narrowLimits(resolveLimits({ memoryMb: 128, cpuQuotaPercent: 50 }, 'node'), { memoryMb: 128, cpuQuotaPercent: 80 }, 'node').cpuQuotaPercent, 80);
  // Each runtime's floor (core/memory-floors.ts), at start and when a stem cell is narrowed.
  assert.throws(() => resolveLimits({ memoryMb: 31 }, 'wasm'), /at least 32 for wasm/);
  assert.equal(resolveLimits({ memoryMb: 16 }, 'python').memoryMb, 16);
  assert.throws(() => narrowLimits(limits, { memoryMb: 15 }, 'command'), /at least 16 for command/);
});
