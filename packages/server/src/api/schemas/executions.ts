import { Type } from 'typebox';
import { EXECUTION_REASONS, type ExecutionReason } from '../../core/execution-reasons.ts';
import { TERMINAL_STATUSES } from '../../core/types.ts';
import { Nullable, StringEnum } from './common.ts';

export const ExecutionStatus = StringEnum(['queued', 'running', ...TERMINAL_STATUSES]);

export const ExecutionError = Type.Object({
  reason: StringEnum(Object.keys(EXECUTION_REASONS) as ExecutionReason[], { description: 'Why the execution ended this way (docs/executions.md lists every reason)' }),
  fault: StringEnum(['none', 'user', 'platform'], { description: "user: the function's code or input; platform: the platform's doing" }),
  message: Type.String(),
  stack: Type.Optional(Type.String()),
});

export const ExecutionResponse = Type.Object({
  id: Type.String(),
  functionId: Type.String(),
  functionName: Type.String(),
  version: Type.Integer(),
  mode: StringEnum(['sync', 'async', 'stream']),
  status: ExecutionStatus,
  input: Type.Unknown(),
  result: Type.Unknown(),
  error: Nullable(ExecutionError),
  logsTruncated: Type.Boolean(),
  durationMs: Nullable(Type.Number()),
  coldStart: Nullable(Type.Boolean()),
  instanceId: Nullable(Type.String()),
  workerId: Nullable(Type.String({ description: 'WORKER_ID of the worker that ran it; null before it ran' })),
  attempts: Type.Integer(),
  maxAttempts: Type.Integer(),
  createdAt: Type.String(),
  startedAt: Nullable(Type.String()),
  finishedAt: Nullable(Type.String()),
});

export const QueuedResponse = Type.Object({ id: Type.String(), status: Type.Literal('queued') });

export const ExecutionPage = Type.Object({ items: Type.Array(ExecutionResponse), nextCursor: Nullable(Type.String()) });

export const ExecutionLogs = Type.Object({ executionId: Type.String(), logs: Type.String(), truncated: Type.Boolean() });

/** The body of an invocation: the event the function receives, any JSON value (none is null). */
export const InvokeEvent = Type.Unknown();

export const InvokeQuery = Type.Object(
  {
    async: Type.Optional(StringEnum(['true', 'false'])),
    result: Type.Optional(StringEnum(['true', 'false'])),
  },
  { additionalProperties: false },
);

export const ExecutionListQuery = Type.Object(
  {
    status: Type.Optional(ExecutionStatus),
    functionId: Type.Optional(Type.String({ maxLength: 64 })),
    cursor: Type.Optional(Type.String({ maxLength: 512 })),
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$' })),
  },
  { additionalProperties: false },
);

/** POST /executions (seed 001 shape): an async execution; `function_id` is the seed's spelling. */
export const ExecutionCreate = Type.Object(
  { functionId: Type.Optional(Type.String()), function_id: Type.Optional(Type.String()), input: Type.Optional(Type.Unknown()) },
  { additionalProperties: false },
);
