import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { EXECUTION_REASONS, faultOf, type ExecutionReason } from '../../src/core/execution-reasons.ts';
import { executionError, failure } from '../../src/core/invocation.ts';
import { TERMINAL_STATUSES } from '../../src/core/types.ts';
import { toInvocationResult } from '../../src/worker/outcome.ts';

test('the reasons registry: every reason has a terminal status and a fault; user code is never the platform\'s fault', () => {
  for (const [reason, entry] of Object.entries(EXECUTION_REASONS)) {
    assert.ok((TERMINAL_STATUSES as readonly string[]).includes(entry.status), reason);
    assert.ok(['none', 'user', 'platform'].includes(entry.fault), reason);
    if (entry.status === 'system_error') assert.equal(entry.fault, 'platform', `${reason}: a system_error is the platform's`);
  }
  for (const reason of ['user_error', 'crashed', 'timeout', 'oom', 'output_limit', 'bad_input'] as ExecutionReason[]) assert.equal(EXECUTION_REASONS[reason].fault, 'user', reason);
  assert.equal(EXECUTION_REASONS.crashed.status, 'failed', 'a crash of user code is not a system_error');
});

test('failure() and executionError() take status and fault from the registry', () => {
  const f = failure('queue_timeout', 'waited too long', { coldStart: true });
  assert.equal(f.status, 'timed_out');
  assert.deepEqual(f.error, { reason: 'queue_timeout', fault: 'platform', message: 'waited too long' });
  assert.equal(f.coldStart, true);
  assert.deepEqual(executionError('user_error', 'boom', 'at x'), { reason: 'user_error', fault: 'user', message: 'boom', stack: 'at x' });
});

test('sandbox outcomes map onto the registry: a crashed instance is the user\'s failure', () => {
  const logs = { logs: '', logsTruncated: false, durationMs: 1 };
  const meta = { coldStart: false, instanceId: 'i' };
  const crashed = toInvocationResult({ ...logs, kind: 'crashed', exitCode: 1, signal: null, reason: 'exit 1' }, meta);
  assert.equal(crashed.status, 'failed');
  assert.equal(crashed.error?.fault, 'user');
  assert.equal(toInvocationResult({ ...logs, kind: 'oom', memoryMb: 128 }, meta).error?.reason, 'oom');
  assert.equal(toInvocationResult({ ...logs, kind: 'error', name: 'TypeError', message: 'x', stack: '' }, meta).error?.message, 'TypeError: x');
});

test('errors stored before faults existed are read with their reason\'s fault', () => {
  assert.equal(faultOf('timeout; dead-lettered after 3 attempts (last: timed_out)'), 'user');
  assert.equal(faultOf('sandbox_unavailable'), 'platform');
  assert.equal(faultOf('something unknown'), 'platform');
});

test('docs/executions.md names every reason of the registry', () => {
  const doc = readFileSync(path.resolve(import.meta.dirname, '../../../../docs/executions.md'), 'utf8');
  for (const reason of Object.keys(EXECUTION_REASONS)) assert.ok(doc.includes(`\`${reason}\``), `docs/executions.md does not mention ${reason}`);
});
